// The built package, imported as a user would, against appxite-mock over real HTTP (Node 20).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { AppxiteClient } from "appxite-customers";
import { startMock, truthIds, rejection } from "./mock.mjs";

let mock;
let client;
const REFERER = "https://portal.example";
const ALL = { includeAddresses: true, includeContacts: true, includeCustomProperties: true, includeTenants: true, includeIndustries: true };

before(async () => {
  mock = await startMock();
  client = new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: "dev-token" });
});
after(() => mock.stop());

const ids = (list) => list.map((c) => c.customerId);
async function collect(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}
async function lastRequests(n) {
  const all = await mock.requests();
  return all.slice(-n);
}

test("for await yields every customer of a distributor, with every section, in the server's order", async () => {
  const d = mock.distributors[0];
  const got = await collect(client.customers(d.id, { ...ALL, pageSize: 700 }));
  assert.equal(got.length, d.customerCount);
  assert.deepEqual(ids(got), await truthIds(mock, d.id));
  const c = got.find((x) => x.customerTenants?.length);
  assert.ok(c.customerTenants[0].DomainName && c.customerTenants[0].InternalId !== undefined);
  assert.ok(got.every((x) => Array.isArray(x.customerIndustries) && "customerPrimaryAddress" in x && "customerPrimaryContact" in x));
  assert.ok(got.some((x) => x.customerName === "<img src=x onerror=alert(1)>"));
});

test("every query parameter reaches the server, and defaults are left to it", async () => {
  const r = mock.resellers[0];
  await collect(client.customers(r.id, { ...ALL, includeChildOrganizations: false, customerStatus: "Active", pageSize: 5000, page: 1 }));
  const [req] = await lastRequests(1);
  const q = new URLSearchParams(req.pathAndQuery.split("?")[1]);
  assert.deepEqual(Object.fromEntries(q), {
    includeChildOrganizations: "false", includeAddresses: "true", includeContacts: "true", includeCustomProperties: "true",
    includeTenants: "true", includeIndustries: "true", customerStatus: "Active", pageSize: "5000", page: "1",
  });
  assert.equal(req.xReferer, REFERER);
  assert.equal(req.hasAuthorization, true);
  await collect(client.customers(r.id));
  const [plain] = await lastRequests(1);
  assert.equal(plain.pathAndQuery.split("?")[1], "page=1", "defaults are the article's; nothing else sent");
});

test("status filter and includeChildOrganizations change the results as the article says", async () => {
  const d = mock.distributors[0];
  const suspended = await collect(client.customers(d.id, { customerStatus: "Suspended" }));
  assert.ok(suspended.length > 0 && suspended.every((c) => c.customerStatus === "Suspended"));
  const direct = await collect(client.customers(d.id, { includeChildOrganizations: false }));
  assert.equal(direct.length, d.directCustomerCount);
  const bare = (await collect(client.customers(d.id, { pageSize: 3 }))).slice(0, 3);
  assert.ok(bare.every((c) => !("customerTenants" in c) && !("customerPrimaryAddress" in c)));
});

test("pagination: a last page exactly full, one record, zero records", async () => {
  const r = mock.resellers[1];
  const n = r.customerCount;
  const before = (await mock.stats()).requests;
  const full = await collect(client.customers(r.id, { pageSize: n }));
  assert.equal(full.length, n);
  assert.equal((await mock.stats()).requests - before, 2, "page 1 (full) and the empty page 2");
  const one = await collect(client.customers(r.id, { pageSize: n - 1, page: 2 }));
  assert.equal(one.length, 1);
  assert.deepEqual(ids(one), ids(full).slice(-1));
  const none = await collect(client.customers(r.id, { pageSize: n, page: 2 }));
  assert.deepEqual(none, []);
});

test("byPage yields pages with page, pageSize and items; each iteration starts again", async () => {
  const r = mock.resellers[0];
  const pager = client.customers(r.id, { pageSize: 10 });
  const pages = await collect(pager.byPage());
  assert.equal(pages.length, Math.ceil(r.customerCount / 10));
  assert.deepEqual(pages.map((p) => p.page), pages.map((_, i) => i + 1));
  assert.ok(pages.every((p) => p.pageSize === 10 && p.items.length <= 10));
  assert.equal(pages.flatMap((p) => p.items).length, r.customerCount);
  const again = await collect(pager);
  assert.deepEqual(ids(again), ids(pages.flatMap((p) => p.items)));
});

test("break stops all further requests", async () => {
  const d = mock.distributors[0];
  const before = (await mock.stats()).requests;
  let n = 0;
  for await (const _ of client.customers(d.id, { pageSize: 5 })) {
    if (++n === 7) break;
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await mock.stats()).requests - before, 2, "pages 1 and 2 only");
  assert.equal((await mock.stats()).inFlight, 0);
});

test("toArray stops at its limit; customersPage returns exactly one page", async () => {
  const d = mock.distributors[0];
  const some = await client.customers(d.id, { pageSize: 4 }).toArray({ limit: 10 });
  assert.equal(some.length, 10);
  const page = await client.customersPage(d.id, { pageSize: 4, page: 3 });
  assert.deepEqual({ page: page.page, pageSize: page.pageSize }, { page: 3, pageSize: 4 });
  assert.deepEqual(ids(page.items), ids(some).slice(8, 10).concat(ids(await client.customers(d.id, { pageSize: 12 }).toArray({ limit: 12 })).slice(10, 12)));
});

test("customersByIds: POST in batches, input order, duplicates (any ASCII case) sent once", async () => {
  const [a, b, c] = mock.resellers.filter((r) => r.platformUrl === mock.resellers[0].platformUrl);
  const got = await collect(client.customersByIds([b.id, a.id, b.id.toUpperCase(), c.id, a.id], { batchSize: 2, pageSize: 50 }));
  const expected = [...(await truthIds(mock, b.id)), ...(await truthIds(mock, a.id)), ...(await truthIds(mock, c.id))];
  assert.deepEqual(ids(got), expected);
  const posts = (await mock.requests()).filter((r) => r.method === "POST");
  const bodies = posts.map((p) => JSON.parse(p.body));
  assert.ok(bodies.some((body) => body.length === 2 && body[0] === b.id && body[1] === a.id));
  assert.ok(bodies.some((body) => body.length === 1 && body[0] === c.id));
});

test("errors are AppxiteError objects with a code, status and the server's message", async () => {
  const d = mock.distributors[0];
  const other = mock.resellers.find((r) => r.platformUrl !== mock.resellers[0].platformUrl);
  const cases = [
    [() => collect(new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: "wrong" }).customers(d.id)), "UNAUTHORIZED", 401],
    [() => collect(new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: "dev-token", headers: { Origin: "https://elsewhere.example" } }).customers(d.id)), "FORBIDDEN", 403],
    [() => collect(client.customers("00000000-0000-4000-8000-000000000000")), "NOT_FOUND", 404],
    [() => collect(client.customers("not-a-uuid")), "BAD_REQUEST", 400],
    [() => collect(client.customersByIds([mock.resellers[0].id, other.id])), "MIXED_PLATFORM", 400],
  ];
  for (const [run, code, status] of cases) {
    const e = await rejection(run);
    assert.ok(e instanceof Error, code);
    assert.equal(e.name, "AppxiteError");
    assert.equal(e.code, code);
    assert.equal(e.status, status);
    assert.ok(e.message.length > 10);
    assert.ok(!e.message.includes("dev-token") && !e.message.includes("wrong"), e.message);
  }
  const mixed = await rejection(() => collect(client.customersByIds([mock.resellers[0].id, other.id])));
  assert.equal(mixed.batch, 0);
  assert.match(mixed.message, /Mixed Platform/);
});

test("bad arguments are INVALID_ARGUMENT before any request", async () => {
  const d = mock.distributors[0];
  const before = (await mock.stats()).requests;
  const bad = [
    () => client.customers(""),
    () => client.customers(42),
    () => client.customers(d.id, { pageSize: 0 }),
    () => client.customers(d.id, { pageSize: -5 }),
    () => client.customers(d.id, { pageSize: 2.5 }),
    () => client.customers(d.id, { page: 0 }),
    () => client.customers(d.id, { customerStatus: "Deleted" }),
    () => client.customers(d.id, { includeTenant: true }),
    () => client.customers(d.id, { includeTenants: "yes" }),
    () => client.customers(d.id, { signal: "nope" }),
    () => client.customersByIds("abc"),
    () => client.customersByIds([]),
    () => client.customersByIds(["a", 3]),
    () => new AppxiteClient({ baseUrl: mock.url, referer: REFERER, tokn: "x" }),
    () => new AppxiteClient({ baseUrl: "http://api.example.com", referer: REFERER, token: "secret-token-123" }),
    () => new AppxiteClient({ baseUrl: "not a url", referer: REFERER }),
    () => new AppxiteClient({ baseUrl: mock.url, referer: REFERER, retry: { maxRetries: -1 } }),
    () => client.customers(d.id).toArray({ limit: 0 }),
  ];
  for (const f of bad) {
    let err;
    try {
      await f();
    } catch (e) {
      err = e;
    }
    assert.ok(err, `no error for ${f}`);
    assert.equal(err.code, "INVALID_ARGUMENT", `${f}: ${err.message}`);
    assert.ok(!err.message.includes("secret-token-123"));
  }
  assert.equal((await mock.stats()).requests, before, "nothing was sent");
});

test("MISSING_REFERER where there is no page and no referer (Node)", () => {
  assert.throws(() => new AppxiteClient({ baseUrl: mock.url, token: "dev-token" }), (e) => e.code === "MISSING_REFERER" && e.name === "AppxiteError");
});

test("NETWORK, DECODE, TIMEOUT, ABORTED", async () => {
  const d = mock.distributors[0];
  const noRetry = { retry: false };
  // Nothing listens on port 9 (discard) here.
  const net = await rejection(() => collect(new AppxiteClient({ baseUrl: "http://127.0.0.1:9", referer: REFERER, ...noRetry }).customers(d.id)));
  assert.equal(net.code, "NETWORK");
  // A server that answers 200 with something that is not the customers array.
  const junk = createServer((_, res) => res.end('{"not":"an array"}')).listen(0, "127.0.0.1");
  await new Promise((r) => junk.once("listening", r));
  const dec = await rejection(() => collect(new AppxiteClient({ baseUrl: `http://127.0.0.1:${junk.address().port}`, referer: REFERER, ...noRetry }).customers(d.id)));
  junk.close();
  assert.equal(dec.code, "DECODE");
  const slow = await startMock(["--latency-ms", "1500"]);
  try {
    const t0 = performance.now();
    const to = await rejection(() => collect(new AppxiteClient({ baseUrl: slow.url, referer: REFERER, token: "dev-token", timeoutMs: 200, ...noRetry }).customers(d.id)));
    assert.equal(to.code, "TIMEOUT");
    assert.ok(performance.now() - t0 < 1200);
    const ctl = new AbortController();
    const pending = collect(client.customers(d.id, { signal: ctl.signal }));
    const reason = new Error("user pressed cancel");
    ctl.abort(reason);
    const ab = await rejection(pending);
    assert.equal(ab.code, "ABORTED");
    assert.equal(ab.cause, reason);
  } finally {
    await slow.stop();
  }
});

test("text arrives exactly as JSON.parse reads it (non-ASCII, escapes, astral characters); invalid UTF-8 is DECODE", async () => {
  // The SDK rewrites non-ASCII characters as \u escapes before JSON.parse (crate::ascii):
  // values must come out identical, with chunk boundaries inside characters too.
  const text =
    '[{"customerId":"a","customerName":"Ørsted 北京 Αθήνα Łódź","customerVatNumber":"😀 and 𝄞 (astral)"},' +
    '{"customerId":"b","customerName":"quote \\" backslash \\\\ tab \\t escaped \\u00e9 raw é pair \\ud83d\\ude00"},' +
    '{"customerId":"c","customerName":"\u2028\u2029 raw line separators"},' +
    '{"customerId":"d","customerName":"plain ASCII"}]';
  const body = Buffer.from(text, "utf8");
  const chunked = createServer((_, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    for (let i = 0; i < body.length; i += 3) res.write(body.subarray(i, i + 3)); // splits multi-byte characters
    res.end();
  }).listen(0, "127.0.0.1");
  await new Promise((r) => chunked.once("listening", r));
  const got = await new AppxiteClient({ baseUrl: `http://127.0.0.1:${chunked.address().port}`, referer: REFERER }).customers("x").toArray();
  chunked.close();
  assert.deepEqual(got, JSON.parse(text));
  assert.equal(got[0].customerVatNumber, "😀 and 𝄞 (astral)");
  assert.equal(got[1].customerName, 'quote " backslash \\ tab \t escaped é raw é pair 😀');

  // Invalid UTF-8: a stray byte, and an encoded surrogate.
  for (const bad of [Buffer.from([0x5b, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x5d]), Buffer.from([0x5b, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d, 0x5d])]) {
    const server = createServer((_, res) => res.end(bad)).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const e = await rejection(() => collect(new AppxiteClient({ baseUrl: `http://127.0.0.1:${server.address().port}`, referer: REFERER, retry: false }).customers("x")));
    server.close();
    assert.equal(e.code, "DECODE", bad.toString("hex"));
  }
});

test("RATE_LIMITED with retryAfterMs when the wait is longer than allowed", async () => {
  const limited = await startMock(["--rate-limit", "1"]);
  try {
    const c = new AppxiteClient({ baseUrl: limited.url, referer: REFERER, token: "dev-token", retry: { maxRetryAfterMs: 10 } });
    const r = limited.resellers[0];
    const e = await rejection(() => collect(c.customers(r.id, { pageSize: 1 })));
    assert.equal(e.code, "RATE_LIMITED");
    assert.equal(e.status, 429);
    assert.equal(e.retryAfterMs, 1000);
  } finally {
    await limited.stop();
  }
});

test("onEvent sees requests, responses and pages, never the token", async () => {
  const events = [];
  const c = new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: "dev-token", onEvent: (e) => events.push(e) });
  const r = mock.resellers[0];
  await collect(c.customers(r.id, { pageSize: 1000 }));
  assert.deepEqual(events.map((e) => e.type), ["request", "response", "page"]);
  assert.equal(events[2].items, r.customerCount);
  assert.ok(!JSON.stringify(events).includes("dev-token"));
});

test("a token function is called per request", async () => {
  let calls = 0;
  const c = new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: async () => { calls++; return "dev-token"; } });
  await collect(c.customers(mock.resellers[0].id, { pageSize: 10 }));
  assert.equal(calls, Math.floor(mock.resellers[0].customerCount / 10) + 1);
});

test("next() called again before the previous one settled: results in order, none lost", async () => {
  const r = mock.resellers[0];
  const expected = await truthIds(mock, r.id);
  const it = client.customers(r.id, { pageSize: 7 })[Symbol.asyncIterator]();
  const results = await Promise.all(Array.from({ length: expected.length + 2 }, () => it.next()));
  assert.deepEqual(results.filter((x) => !x.done).map((x) => x.value.customerId), expected);
  assert.deepEqual(results.slice(expected.length).map((x) => x.done), [true, true]);
});

test("a custom fetch gets the Request the SDK built (GET and POST), and its Response is used", async () => {
  const seen = [];
  const client = new AppxiteClient({
    baseUrl: mock.url,
    referer: REFERER,
    token: "dev-token",
    fetch: (input, init) => {
      seen.push(input);
      return fetch(input, init);
    },
  });
  const reseller = mock.resellers[0];
  assert.equal((await client.customers(reseller.id).toArray()).length, reseller.customerCount);
  assert.equal((await client.customersByIds([reseller.id]).toArray()).length, reseller.customerCount);
  assert.equal(seen.length, 2);
  for (const [request, method] of [[seen[0], "GET"], [seen[1], "POST"]]) {
    assert.ok(request instanceof Request);
    assert.equal(request.method, method);
    assert.equal(request.redirect, "manual", "redirects are never followed");
    assert.equal(request.headers.get("x-referer"), REFERER);
    assert.equal(request.headers.get("authorization"), "Bearer dev-token");
  }
  assert.deepEqual(JSON.parse((await lastRequests(1))[0].body), [reseller.id]);
});
