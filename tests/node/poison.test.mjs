// Hardening, round two: nothing a caller passes can break the wasm module for later calls;
// whatever breaks inside it anyway (a forced trap) is INTERNAL and the next call works; one
// sync iterated in any mix of ways hands out each change exactly once; credentials sent as
// headers never come back in a message.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { AppxiteClient } from "appxite-customers";
import { startMock, truthIds, rejection } from "./mock.mjs";
import { trapScenario, checkTrap } from "../shared/trap-scenario.js";

const mock = await startMock(["--customers", "3000"]);
const slow = await startMock(["--customers", "3000", "--latency-ms", "1500"]);
after(() => Promise.all([mock.stop(), slow.stop()]));

const REFERER = "https://portal.example";
const client = (options = {}) => new AppxiteClient({ baseUrl: mock.url, referer: REFERER, token: "dev-token", ...options });
const reseller = mock.resellers[0];

/** Arguments that run the caller's code while the wasm reads them, and throw there. */
function hostileArguments() {
  const throwingKeys = new Proxy({}, { ownKeys() { throw new Error("ownKeys"); } });
  const throwingGetter = { get pageSize() { throw new Error("getter"); } };
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  class Liar extends Uint8Array {
    get length() { return 1 << 30; }
  }
  const detached = new Uint8Array(64);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const org = reseller.id;
  return [
    ["options whose ownKeys throws", (c) => c.customers(org, throwingKeys)],
    ["an option getter that throws", (c) => c.customers(org, throwingGetter)],
    ["a revoked Proxy as options", (c) => c.sync(org, revoked.proxy)],
    ["a Proxy around the snapshot", (c) => c.sync(org, { snapshot: new Proxy(new Uint8Array(64), {}) })],
    ["a detached snapshot", (c) => c.sync(org, { snapshot: detached })],
    ["a Uint8Array subclass whose length lies", (c) => c.sync(org, { snapshot: new Liar(40) })],
    ["ids as a Proxy whose get throws", (c) => c.customersByIds(new Proxy([org], { get() { throw new Error("get"); } }))],
    ["headers whose ownKeys throws", () => new AppxiteClient({ baseUrl: mock.url, referer: REFERER, headers: throwingKeys })],
    ["a retry object whose getter throws", (c) => c.customers(org, { retry: { get maxRetries() { throw new Error("x"); } } })],
  ];
}

test("10,000 arguments that throw inside the wasm are INVALID_ARGUMENT, and the client still lists every customer", { timeout: 120_000 }, async () => {
  const c = client();
  const cases = hostileArguments();
  const codes = new Map();
  for (let i = 0; i < 10_000; i++) {
    const [what, call] = cases[i % cases.length];
    try {
      call(c);
      assert.fail(`${what}: accepted`);
    } catch (e) {
      assert.equal(e.name, "AppxiteError", `${what}: ${e}`);
      codes.set(`${what}: ${e.code}`, (codes.get(`${what}: ${e.code}`) ?? 0) + 1);
    }
  }
  for (const [key] of codes) assert.match(key, /: INVALID_ARGUMENT$/);
  assert.equal(codes.size, cases.length);
  const got = (await c.customers(reseller.id).toArray()).map((x) => x.customerId).sort();
  assert.deepEqual(got, (await truthIds(mock, reseller.id)).sort());
});

test("a 200 MB file that is no snapshot is refused from its header, before it is copied into the wasm", async () => {
  const junk = new Uint8Array(200 << 20).fill(7);
  const before = process.memoryUsage().rss;
  const e = await rejection(() => client().sync(reseller.id, { snapshot: junk }));
  const grew = process.memoryUsage().rss - before;
  assert.equal(e.code, "INVALID_ARGUMENT");
  assert.ok(grew < 20 << 20, `RSS grew by ${grew} bytes`);
});

test("a trap inside the wasm is INTERNAL — at once, or inside a pending promise — and every later call works", { timeout: 30_000 }, async () => {
  const c = client();
  const now = await rejection(() => AppxiteClient.__testTrap("now"));
  assert.deepEqual([now.name, now.code], ["AppxiteError", "INTERNAL"]);
  assert.ok(now instanceof Error);
  // The old client made before the trap works on the fresh instance.
  assert.deepEqual((await c.customers(reseller.id).toArray()).length, reseller.customerCount);

  // A run waiting on a slow server when the instance breaks fails with INTERNAL instead of
  // hanging; so does the promise the trap was in.
  const waiting = new AppxiteClient({ baseUrl: slow.url, referer: REFERER, token: "dev-token" }).customers(reseller.id).toArray();
  const later = AppxiteClient.__testTrap("later");
  assert.equal((await rejection(later)).code, "INTERNAL");
  assert.equal((await rejection(waiting)).code, "INTERNAL");
  // Iterators of the old instance: INTERNAL, not a hang and not a crash.
  const sync = c.sync(reseller.id);
  assert.equal((await rejection(() => AppxiteClient.__testTrap("now"))).code, "INTERNAL");
  assert.equal((await rejection(() => sync[Symbol.asyncIterator]().next())).code, "INTERNAL");
  // And the next call works, on the same client and on a new one.
  assert.equal((await c.customers(reseller.id).toArray()).length, reseller.customerCount);
  assert.equal((await client().customers(reseller.id).toArray()).length, reseller.customerCount);
});

test("the shared trap scenario (as in Chromium and workerd)", { timeout: 30_000 }, async () => {
  const result = await trapScenario(AppxiteClient, { url: mock.url, slowUrl: slow.url, referer: REFERER, org: reseller.id });
  checkTrap(assert, "node", result, reseller.customerCount);
});

test("one sync iterated by next(), two for-await loops and break: each change exactly once, and a snapshot only then", async () => {
  const c = client();
  const truth = (await truthIds(mock, reseller.id)).sort();
  const run = c.sync(reseller.id, { pageSize: 60 });
  const seen = [];
  const first = await run[Symbol.asyncIterator]().next();
  seen.push(first.value.customerId);
  let n = 0;
  for await (const change of run) {
    seen.push(change.customerId);
    if (++n === 30) break; // break ends the run: no snapshot
  }
  assert.equal(run.snapshot, undefined, "a sync left by break has no snapshot");

  // Without break: peek, then a loop, then another loop that finds nothing left.
  const whole = c.sync(reseller.id, { pageSize: 60 });
  const got = [(await whole[Symbol.asyncIterator]().next()).value.customerId];
  for await (const change of whole) got.push(change.customerId);
  for await (const change of whole) got.push(change.customerId);
  assert.deepEqual([...got].sort(), truth, "every change once");
  assert.ok(whole.snapshot instanceof Uint8Array);
  const again = c.sync(reseller.id, { pageSize: 60, snapshot: whole.snapshot });
  for await (const change of again) assert.fail(`nothing changed, got ${change.type}`);
  assert.equal(again.stats.unchanged, truth.length);
});

test("two loops sharing one customers() iterator get each customer once between them", async () => {
  const it = client().customers(reseller.id, { pageSize: 70 })[Symbol.asyncIterator]();
  const got = [];
  const loop = async () => {
    for (let r = await it.next(); !r.done; r = await it.next()) got.push(r.value.customerId);
  };
  await Promise.all([loop(), loop()]);
  assert.deepEqual(got.sort(), (await truthIds(mock, reseller.id)).sort());
});

test("credential headers never come back in a message: Cookie, Proxy-Authorization and a declared secret header", async () => {
  const echo = async (request) =>
    new Response(JSON.stringify({ statusCode: 403, message: `rejected ${request.headers.get("cookie")} / ${request.headers.get("proxy-authorization")} / ${request.headers.get("x-api-key")}` }), {
      status: 403,
      headers: { "content-type": "application/json" },
    });
  const c = new AppxiteClient({
    baseUrl: "https://api.example",
    referer: REFERER,
    fetch: echo,
    headers: { Cookie: "theme=dark; sid=s3cr3t-session", "Proxy-Authorization": "Basic dXNlcjpwYXNz", "X-Api-Key": "k3y-v4lue-1" },
    secretHeaders: ["x-api-key"],
  });
  const e = await rejection(c.customers(reseller.id).toArray());
  assert.equal(e.code, "FORBIDDEN");
  for (const secret of ["s3cr3t-session", "dXNlcjpwYXNz", "k3y-v4lue-1"]) assert.ok(!e.message.includes(secret), e.message);
  assert.match(e.message, /rejected/);
  // A declared secret header is a credential: not over plain http to another host.
  const plain = await rejection(() => new AppxiteClient({ baseUrl: "http://api.example", referer: REFERER, headers: { "X-Api-Key": "k" }, secretHeaders: ["X-Api-Key"] }));
  assert.equal(plain.code, "INVALID_ARGUMENT");
});

test("nothing the SDK handed out stays reachable from it once the run is over (no promise keeps a chunk alive)", async () => {
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  const refs = [];
  for (let run = 0; run < 3; run++) {
    let n = 0;
    for await (const c of client().customers(reseller.id, { pageSize: 50 })) if (n++ % 50 === 0) refs.push(new WeakRef(c));
  }
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
  }
  assert.ok(refs.length >= 12);
  assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, "customers still reachable after their runs ended");
});
