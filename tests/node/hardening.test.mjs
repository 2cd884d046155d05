// What a slow consumer, a hostile server, a stuck token provider or a bad argument does to a
// run: never a hang, never a crash, never a leaked key — a typed error, or every customer
// exactly once.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { AppxiteClient } from "appxite-customers";
import { startMock, truthIds, rejection } from "./mock.mjs";
import { hostileServer, writeMany } from "./hostile.mjs";

const mock = await startMock(["--customers", "3000"]);
const slow = await startMock(["--customers", "3000", "--latency-ms", "2000"]);
after(() => Promise.all([mock.stop(), slow.stop()]));

const REFERER = "https://portal.example";
const client = (options = {}) => new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: "dev-token", ...options });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const distributor = mock.distributors[0];

/** Start `run(signal)`, abort after `afterMs` with `reason`; how soon after the abort it settled. */
async function abortedWhileWaiting(run, afterMs, reason) {
  const controller = new AbortController();
  const pending = run(controller.signal);
  await sleep(afterMs);
  const abortedAt = performance.now();
  controller.abort(reason);
  return settle(pending, abortedAt);
}

/** How long `promise` took to settle after `from` (ms), and what it settled with. */
async function settle(promise, from = performance.now()) {
  const value = await promise.then((v) => ({ ok: v }), (e) => ({ error: e }));
  return { ...value, ms: performance.now() - from };
}

test("a consumer slower than timeoutMs per page still gets every customer once, and the loop ends", { timeout: 30_000 }, async () => {
  const truth = await truthIds(mock, distributor.id);
  const got = [];
  // 300 customers a page, 4 ms each: ~1.2 s of the caller's work per page, timeoutMs 1 s.
  for await (const c of client({ timeoutMs: 1000 }).customers(distributor.id, { pageSize: 300 })) {
    got.push(c.customerId);
    await sleep(4);
  }
  assert.deepEqual(got, truth);
});

test("a body cut while the consumer is paused is fetched again; customers already handed out are skipped", { timeout: 60_000 }, async () => {
  // A 10,000-customer page with every section (~10 MB) outgrows the socket buffers, so the
  // emulator sees the client stop reading and cuts it after 300 ms, as a proxy would.
  const big = await startMock(["--customers", "40000", "--idle-cut-ms", "300"]);
  try {
    const org = big.distributors[0];
    const truth = await truthIds(big, org.id, "includeAddresses=true&includeContacts=true&includeCustomProperties=true&includeTenants=true&includeIndustries=true");
    assert.ok(truth.length > 9000, `${truth.length}`);
    const retries = [];
    const c = new AppxiteClient({ baseUrl: big.url, referer: REFERER, token: "dev-token", onEvent: (e) => e.type === "retry" && retries.push(e) });
    const everything = { includeAddresses: true, includeContacts: true, includeCustomProperties: true, includeTenants: true, includeIndustries: true };
    const got = [];
    for await (const customer of c.customers(org.id, { pageSize: 10000, ...everything })) {
      got.push(customer.customerId);
      if (got.length === 100) await sleep(1500);
    }
    assert.ok((await big.stats()).idleCuts >= 1, "the emulator cut the paused body");
    assert.ok(retries.some((r) => r.reason === "NETWORK"), JSON.stringify(retries));
    assert.deepEqual(got, truth);
  } finally {
    await big.stop();
  }
});

test("a token function that never settles: TIMEOUT after timeoutMs, ABORTED on the signal, TIMEOUT at deadlineMs", async () => {
  const never = () => new Promise(() => {});
  const stuck = new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: never, retry: false });
  let r = await settle(stuck.customers(distributor.id, { timeoutMs: 300 }).toArray());
  assert.equal(r.error?.code, "TIMEOUT");
  assert.ok(r.ms < 400, `took ${r.ms} ms`);

  r = await abortedWhileWaiting((signal) => stuck.customers(distributor.id, { signal }).toArray(), 200, new Error("user left"));
  assert.equal(r.error?.code, "ABORTED");
  assert.equal(r.error.cause?.message, "user left");
  assert.ok(r.ms < 100, `ABORTED ${r.ms} ms after the abort`);

  r = await settle(stuck.customers(distributor.id, { deadlineMs: 300 }).toArray());
  assert.equal(r.error?.code, "TIMEOUT");
  assert.match(r.error.message, /deadlineMs/);
  assert.ok(r.ms < 400, `took ${r.ms} ms`);
});

test("a fetch that ignores its signal cannot outlive timeoutMs, deadlineMs or the caller's signal", async () => {
  const deaf = new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: "dev-token", retry: false, fetch: () => new Promise(() => {}) });
  let r = await settle(deaf.customers(distributor.id, { timeoutMs: 250 }).toArray());
  assert.equal(r.error?.code, "TIMEOUT");
  assert.ok(r.ms < 350, `took ${r.ms} ms`);
  r = await settle(deaf.customers(distributor.id, { timeoutMs: 60_000, deadlineMs: 250 }).toArray());
  assert.equal(r.error?.code, "TIMEOUT");
  assert.ok(r.ms < 350, `took ${r.ms} ms`);
  r = await abortedWhileWaiting((signal) => deaf.customers(distributor.id, { signal }).toArray(), 100);
  assert.equal(r.error?.code, "ABORTED");
  assert.ok(r.ms < 100, `ABORTED ${r.ms} ms after the abort`);
});

test("a body that stalls half-way: TIMEOUT from timeoutMs, after the customers that did arrive", async () => {
  const server = await hostileServer(async (req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('[{"customerId":"a"},{"customerId":"b"},');
    // …and nothing more, ever (until the test stops the server).
  });
  try {
    const c = new AppxiteClient({ baseUrl: server.url, referer: REFERER, token: "t", retry: false, timeoutMs: 400 });
    const got = [];
    const t0 = performance.now();
    const e = await rejection(async () => {
      for await (const customer of c.customers("org")) got.push(customer.customerId);
    });
    assert.equal(e.code, "TIMEOUT");
    assert.deepEqual(got, ["a", "b"]);
    assert.ok(performance.now() - t0 < 550);
  } finally {
    await server.stop();
  }
});

test("waits for concurrent ID batches end at deadlineMs", async () => {
  const c = new AppxiteClient({ baseUrl: slow.url, referer: REFERER, token: "dev-token" });
  const platform = slow.resellers[0].platformUrl;
  const ids = slow.resellers.filter((x) => x.platformUrl === platform).slice(0, 6).map((x) => x.id);
  const r = await settle(c.customersByIds(ids, { batchSize: 1, concurrency: 3, deadlineMs: 400 }).toArray());
  assert.equal(r.error?.code, "TIMEOUT");
  assert.ok(r.ms < 500, `took ${r.ms} ms`);
});

test("timeoutMs / deadlineMs beyond what timers hold are refused, not an instant TIMEOUT", async () => {
  for (const bad of [{ timeoutMs: 2 ** 31 }, { deadlineMs: 2 ** 40 }, { timeoutMs: 0 }]) {
    assert.equal((await rejection(() => client(bad))).code, "INVALID_ARGUMENT", JSON.stringify(bad));
    assert.equal((await rejection(() => client().customers(distributor.id, bad))).code, "INVALID_ARGUMENT");
  }
  const all = await client({ timeoutMs: 2 ** 31 - 1, deadlineMs: 2 ** 31 - 1 }).customers(mock.resellers[0].id).toArray();
  assert.equal(all.length, mock.resellers[0].customerCount);
});

test("a record that never ends is DECODE (maxRecordBytes), caught by the caller; the client and its memory recover", { timeout: 60_000 }, async () => {
  // The SDK's wasm memory, from an instance of our own (the package keeps its instance private).
  const glue = await import("../../pkg/appxite_customers.js");
  const { readFileSync } = await import("node:fs");
  const { memory } = glue.initSync({ module: readFileSync(new URL("../../pkg/appxite_customers_bg.wasm", import.meta.url)) });
  let huge = 0;
  const server = await hostileServer(async (req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    if (new URL(req.url, "http://x").searchParams.get("pageSize") === "5") {
      res.end('[{"customerId":"fine"}]');
      return;
    }
    huge += 1;
    res.write('[{"customerId":"x","customerName":"');
    // 40 MiB of one string, then the server gives up; the record never closes.
    if (await writeMany(res, "a".repeat(1 << 20), 40)) res.end();
  });
  try {
    const c = new glue.AppxiteClient({ baseUrl: server.url, referer: REFERER, token: "t" });
    const grown = [];
    for (const round of [1, 2]) {
      const e = await rejection(c.customers("org").toArray());
      assert.equal(e.code, "DECODE", `round ${round}: ${e.message}`);
      assert.match(e.message, /maxRecordBytes \(33554432 bytes\)/);
      assert.equal(huge, round, "not retried: the same server sends the same record");
      grown.push(memory.buffer.byteLength);
      // The client still works.
      assert.deepEqual((await c.customers("org", { pageSize: 5 }).toArray()).map((x) => x.customerId), ["fine"]);
    }
    assert.equal(grown[1], grown[0], "the second oversized record reuses the memory the first gave back");
    const small = await rejection(c.customers("org", { maxRecordBytes: 1024 }).toArray());
    assert.equal(small.code, "DECODE");
    assert.match(small.message, /maxRecordBytes \(1024 bytes\)/);
  } finally {
    await server.stop();
  }
});

test("a server that ignores `page` is PAGINATION, with no customer handed out twice; maxPages caps a run", async () => {
  const server = await hostileServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('[{"customerId":"a"},{"customerId":"b"},{"customerId":"c"}]');
  });
  try {
    const c = new AppxiteClient({ baseUrl: server.url, referer: REFERER, token: "t" });
    const got = [];
    const e = await rejection(async () => {
      for await (const customer of c.customers("org", { pageSize: 3 })) got.push(customer.customerId);
    });
    assert.equal(e.code, "PAGINATION");
    assert.deepEqual(got, ["a", "b", "c"]);
    assert.equal(server.requests(), 2);
  } finally {
    await server.stop();
  }
  const reseller = mock.resellers.find((r) => r.customerCount > 250);
  const got = [];
  const e = await rejection(async () => {
    for await (const customer of client().customers(reseller.id, { pageSize: 100, maxPages: 2 })) got.push(customer);
  });
  assert.equal(e.code, "PAGINATION");
  assert.match(e.message, /maxPages \(2\)/);
  assert.equal(got.length, 200);
});

test("redirects are not followed: REDIRECT, and neither the key nor the body reaches the other origin", async () => {
  const server = await hostileServer((req, res) => {
    res.writeHead(307, { location: `${mock.url}${req.url}` });
    res.end();
  });
  try {
    const before = (await mock.requests()).length;
    const c = new AppxiteClient({ baseUrl: server.url, referer: REFERER, token: "dev-token", subscriptionKey: "sk-must-stay-home" });
    const e = await rejection(c.customers(distributor.id).toArray());
    assert.equal(e.code, "REDIRECT");
    assert.equal(e.status, 307);
    assert.ok(!e.message.includes("sk-must-stay-home"));
    const post = await rejection(c.customersByIds([mock.resellers[0].id]).toArray());
    assert.equal(post.code, "REDIRECT");
    assert.equal((await mock.requests()).length, before, "nothing reached the redirect's target");
    assert.equal(server.requests(), 2, "not retried");
  } finally {
    await server.stop();
  }
});

test("orgId '.' or '..' is refused; any other ID is exactly one path segment", async () => {
  for (const bad of [".", ".."]) {
    assert.equal((await rejection(() => client().customers(bad))).code, "INVALID_ARGUMENT");
    assert.equal((await rejection(() => client().customersPage(bad))).code, "INVALID_ARGUMENT");
    assert.equal((await rejection(() => client().customersByIds([mock.resellers[0].id, bad]))).code, "INVALID_ARGUMENT");
  }
  for (const id of ["a/../b", "%2e%2e", "...", "x?y#z", "a\\b"]) {
    const e = await rejection(client({ retry: false }).customersPage(id));
    assert.equal(e.code, "BAD_REQUEST", `${id}: ${e.message}`); // not a UUID, said by the emulator
    const sent = (await mock.requests()).at(-1).pathAndQuery;
    assert.match(sent, /^\/distis\/organizations\/details\/[^/?#]+\?/, sent);
  }
});

test("credentials never go over plain http to a host that is not loopback, as the runtime parses the URL", async () => {
  const plain = { referer: REFERER };
  const refused = [
    { baseUrl: "http://evil.example\\x.localhost", token: "t" },
    { baseUrl: "http://example.com", headers: { Authorization: "Bearer abc" } },
    { baseUrl: "http://example.com", headers: { "ocp-apim-subscription-key": "k" } },
    { baseUrl: "http://127.0.0.1.evil.example", subscriptionKey: "k" },
  ];
  for (const options of refused) {
    const e = await rejection(() => new AppxiteClient({ ...plain, ...options }));
    assert.equal(e.code, "INVALID_ARGUMENT", JSON.stringify(options));
    assert.match(e.message, /plain http/);
  }
  assert.ok(new AppxiteClient({ ...plain, baseUrl: "http://127.1:9", token: "t" }));
  assert.ok(new AppxiteClient({ ...plain, baseUrl: "https://example.com", headers: { Authorization: "Bearer abc" } }));
  assert.ok(new AppxiteClient({ ...plain, baseUrl: "http://example.com" }), "no credentials: plain http is fine");
});

test("header values with CR, LF or NUL are refused when the client is made", async () => {
  for (const options of [
    { referer: "https://a.example\r\nX-Injected: 1" },
    { referer: REFERER, token: "tok\nen" },
    { referer: REFERER, subscriptionKey: "key\r" },
    { referer: REFERER, headers: { "X-Trace": "a\u0000b" } },
    { referer: REFERER, headers: { "Bad Name": "v" } },
  ]) {
    const e = await rejection(() => new AppxiteClient({ baseUrl: mock.url, ...options }));
    assert.equal(e.code, "INVALID_ARGUMENT", JSON.stringify(options));
  }
});

test("one listener on the caller's AbortSignal per run, whatever the concurrency", async () => {
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on("warning", onWarning);
  try {
    const controller = new AbortController();
    const platform = mock.resellers[0].platformUrl;
    const ids = mock.resellers.filter((r) => r.platformUrl === platform).map((r) => r.id);
    assert.ok(ids.length >= 5, `${ids.length}`);
    const pager = client().customersByIds(ids, { batchSize: 1, concurrency: 16, signal: controller.signal });
    let most = 0;
    for await (const _ of pager) most = Math.max(most, getEventListeners(controller.signal, "abort").length);
    assert.equal(most, 1);
    await sleep(10);
    assert.ok(!warnings.includes("MaxListenersExceededWarning"), warnings.join());
  } finally {
    process.off("warning", onWarning);
  }
});

test("stopping from inside onEvent, while concurrent batches are being driven, ends the run cleanly", async () => {
  let it;
  let stopped = 0;
  const c = client({
    onEvent: (e) => {
      if (e.type === "page" && it && stopped++ === 0) it.return();
    },
  });
  const platform = mock.resellers[0].platformUrl;
  const ids = mock.resellers.filter((r) => r.platformUrl === platform).slice(0, 6).map((r) => r.id);
  it = c.customersByIds(ids, { batchSize: 1, concurrency: 3 })[Symbol.asyncIterator]();
  const r = await it.next().then((v) => ({ v }), (e) => ({ e }));
  assert.ok(r.v?.done === true || r.e?.code === "ABORTED", JSON.stringify(r));
  assert.equal(stopped, 1);
  // The client (and the wasm instance) still works.
  assert.equal((await client().customers(mock.resellers[0].id).toArray()).length, mock.resellers[0].customerCount);
});

test("a run that ended (completed, break, sync) leaves nothing pending: the process can exit at once", async () => {
  const { execFileSync } = await import("node:child_process");
  const script = `
    import { AppxiteClient } from "appxite-customers";
    const client = new AppxiteClient({ baseUrl: ${JSON.stringify(mock.url)}, referer: "https://portal.example", token: "dev-token" });
    const org = ${JSON.stringify(mock.resellers[0].id)};
    let n = 0;
    for await (const c of client.customers(org, { pageSize: 100 })) n++;
    for await (const c of client.customers(org, { pageSize: 10 })) if (++n > 0) break;
    for await (const c of client.sync(org, { pageSize: 50 })) n++;
    // Sockets are fetch's (unref'd keep-alive); a Timeout would be the SDK's.
    console.log(JSON.stringify(process.getActiveResourcesInfo().filter((r) => r === "Timeout")));
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000, cwd: new URL("../../", import.meta.url).pathname });
  assert.equal(out.trim(), "[]", "a timer of the SDK is still pending");
});
