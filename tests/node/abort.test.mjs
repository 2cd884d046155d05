// Cancellation in Node: ABORTED within 100 ms wherever the run is, and nothing left running
// (the emulator's view: no open request; Node's view: no timer left behind).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { AppxiteClient } from "appxite-customers";
import { abortScenario } from "../shared/abort-scenario.js";
import { abortSetup, checkAbort } from "../shared/abort-setup.mjs";

const setup = await abortSetup();
after(() => setup.stop());

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

test("abort during fetch, body, retry wait and between pages (Node)", async () => {
  const timersBefore = timers();
  const results = await abortScenario(AppxiteClient, { ...setup.cfg, referer: "https://portal.example" });
  await checkAbort(assert, "node", results, setup.mocks);
  assert.equal(timers(), timersBefore, "no timer left running");
});

test("break during a streaming body closes the request on the server", async () => {
  const client = new AppxiteClient({ baseUrl: setup.cfg.narrowUrl, referer: "https://portal.example", token: "dev-token" });
  let n = 0;
  for await (const _ of client.customers(setup.cfg.org, { pageSize: 10000, includeTenants: true })) {
    if (++n === 10) break;
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await setup.mocks.narrow.stats()).inFlight, 0);
});

test("a 401 refreshes the token once; a second 401 is UNAUTHORIZED; no token in errors or events", async () => {
  const events = [];
  let calls = [];
  const client = new AppxiteClient({
    baseUrl: setup.cfg.url,
    referer: "https://portal.example",
    token: (refresh) => {
      calls.push(refresh);
      return refresh ? "dev-token" : "expired-token-abc123";
    },
    onEvent: (e) => events.push(e),
  });
  const got = await client.customers(setup.cfg.org, { pageSize: 10000 }).toArray();
  assert.ok(got.length > 0);
  assert.deepEqual(calls, [false, true]);
  calls = [];
  const never = new AppxiteClient({ baseUrl: setup.cfg.url, referer: "https://portal.example", token: () => "never-valid-token-xyz" });
  const e = await never.customers(setup.cfg.org).toArray().catch((x) => x);
  assert.equal(e.code, "UNAUTHORIZED");
  assert.ok(!e.message.includes("never-valid-token-xyz"));
  assert.ok(!JSON.stringify(events).includes("expired-token-abc123"));
});

test("a 429 storm with --rate-limit is ridden out by honouring Retry-After", async () => {
  const retries = [];
  const client = new AppxiteClient({ baseUrl: setup.cfg.limitedUrl, referer: "https://portal.example", token: "dev-token", onEvent: (e) => e.type === "retry" && retries.push(e) });
  const org = setup.mocks.limited.resellers[0];
  const all = await client.customers(org.id, { pageSize: Math.ceil(org.customerCount / 3) }).toArray();
  assert.equal(all.length, org.customerCount);
  assert.ok(retries.length >= 1 && retries.every((r) => r.reason === "RATE_LIMITED" && r.delayMs === 1000), JSON.stringify(retries));
});

test("deadlineMs bounds a whole run; timeoutMs each attempt", async () => {
  const slow = setup.mocks.slow; // 2 s before the headers
  const client = new AppxiteClient({ baseUrl: slow.url, referer: "https://portal.example", token: "dev-token" });
  const t0 = performance.now();
  const e = await client.customers(setup.cfg.org, { deadlineMs: 500 }).toArray().catch((x) => x);
  const ms = performance.now() - t0;
  assert.equal(e.code, "TIMEOUT");
  assert.match(e.message, /deadlineMs/);
  assert.ok(ms < 900, `took ${ms} ms`);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await slow.stats()).inFlight, 0, "the timed-out request was closed");
});

test("customersByIds runs up to `concurrency` batches at once, yielding in input order", async () => {
  const slow = setup.mocks.slow; // 2 s before the headers: requests pile up where they overlap
  const client = new AppxiteClient({ baseUrl: slow.url, referer: "https://portal.example", token: "dev-token" });
  const platform = slow.resellers[0].platformUrl;
  const ids = slow.resellers.filter((r) => r.platformUrl === platform).slice(0, 4);
  for (const [concurrency, expected] of [[4, 4], [1, 1]]) {
    const controller = new AbortController();
    const run = client.customersByIds(ids.map((r) => r.id), { batchSize: 1, concurrency, signal: controller.signal }).toArray();
    run.catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await slow.stats()).inFlight, expected, `concurrency ${concurrency}`);
    controller.abort();
    assert.equal((await run.catch((e) => e)).code, "ABORTED");
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await slow.stats()).inFlight, 0, "every batch's request was closed by the abort");
  const got = await new AppxiteClient({ baseUrl: setup.cfg.url, referer: "https://portal.example", token: "dev-token" })
    .customersByIds(setup.mocks.plain.resellers.slice(0, 5).filter((r) => r.platformUrl === setup.mocks.plain.resellers[0].platformUrl).map((r) => r.id), { batchSize: 1, concurrency: 3 })
    .toArray();
  const byIdsTruth = [];
  for (const r of setup.mocks.plain.resellers.slice(0, 5).filter((r) => r.platformUrl === setup.mocks.plain.resellers[0].platformUrl)) {
    byIdsTruth.push(...(await new AppxiteClient({ baseUrl: setup.cfg.url, referer: "https://portal.example", token: "dev-token" }).customers(r.id).toArray()).map((c) => c.customerId));
  }
  assert.deepEqual(got.map((c) => c.customerId), byIdsTruth);
});
