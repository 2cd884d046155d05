// examples/worker in workerd (Miniflare) against appxite-mock: every customer exactly once,
// and backpressure — a slow reader stops the Worker from fetching ahead.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startMock, truthIds } from "../node/mock.mjs";
import { startWorker } from "./miniflare.mjs";

let mock;
let mf;
before(async () => {
  mock = await startMock(["--customers", "25000"]);
  const source = readFileSync(new URL("../../examples/worker/src/index.js", import.meta.url), "utf8");
  mf = startWorker(source, { APPXITE_BASE_URL: mock.url, APPXITE_REFERER: "https://portal.example", APPXITE_TOKEN: "dev-token" });
  await mf.ready;
});
after(async () => {
  await mf?.dispose();
  await mock?.stop();
});

test("streams every customer exactly once as NDJSON", async () => {
  const d = mock.distributors[0];
  const res = await mf.dispatchFetch(`http://w/customers.ndjson?org=${d.id}&include=addresses,contacts,tenants,customProperties,industries&pageSize=1000`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /ndjson/);
  const lines = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
  const ids = lines.map((c) => c.customerId);
  assert.equal(new Set(ids).size, ids.length, "no duplicates");
  assert.deepEqual(ids, await truthIds(mock, d.id));
  assert.ok(lines.every((c) => "customerTenants" in c && "customerPrimaryAddress" in c));
});

test("status filter and errors before the first line get a real status code", async () => {
  const d = mock.distributors[0];
  const res = await mf.dispatchFetch(`http://w/customers.ndjson?org=${d.id}&status=Suspended`);
  const lines = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.ok(lines.length > 0 && lines.every((c) => c.customerStatus === "Suspended"));
  const missing = await mf.dispatchFetch(`http://w/customers.ndjson?org=00000000-0000-4000-8000-000000000000`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "NOT_FOUND");
  assert.equal((await mf.dispatchFetch(`http://w/customers.ndjson?org=${d.id}&include=everything`)).status, 400);
  // Only an organization ID goes into the authenticated request: no dot segments, no paths.
  for (const org of ["..", ".", "../../__mock/stats", `${d.id}/..`]) {
    const res = await mf.dispatchFetch(`http://w/customers.ndjson?org=${encodeURIComponent(org)}`);
    assert.equal(res.status, 400, org);
    assert.match((await res.json()).error, /organization ID/);
  }
});

// Reads the example's response inside workerd (no sockets in between to buffer it), pausing
// after a few chunks, and reports how many pages the Worker fetched meanwhile.
const SLOW_READER = `
import example from "example.js";
const stats = async (env) => (await fetch(env.MOCK + "/__mock/stats")).json();
export default {
  async fetch(request, env) {
    const target = new URL(request.url).searchParams.get("target");
    const before = await stats(env);
    const res = await example.fetch(new Request(target), env);
    const reader = res.body.getReader();
    let lines = 0;
    const decoder = new TextDecoder();
    for (let i = 0; i < 3; i++) lines += decoder.decode((await reader.read()).value).split("\\n").length - 1;
    await new Promise((r) => setTimeout(r, 800));
    const during = await stats(env);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      lines += decoder.decode(value).split("\\n").length - 1;
    }
    const after = await stats(env);
    return Response.json({ paused: during.requests - before.requests, total: after.requests - before.requests, lines });
  },
};`;

test("a slow reader holds the Worker back: it does not fetch ahead, so memory stays flat", async () => {
  const d = mock.distributors[0];
  const source = readFileSync(new URL("../../examples/worker/src/index.js", import.meta.url), "utf8");
  const { Miniflare } = await import("miniflare");
  const { packageModules } = await import("./miniflare.mjs");
  const slow = new Miniflare({
    modules: [
      { type: "ESModule", path: "reader.js", contents: SLOW_READER },
      { type: "ESModule", path: "example.js", contents: source },
      ...packageModules(),
    ],
    compatibilityDate: "2025-09-01",
    bindings: { MOCK: mock.url, APPXITE_BASE_URL: mock.url, APPXITE_REFERER: "https://portal.example", APPXITE_TOKEN: "dev-token" },
  });
  try {
    const target = encodeURIComponent(`http://w/customers.ndjson?org=${d.id}&pageSize=100&include=tenants,addresses`);
    const r = await (await slow.dispatchFetch(`http://reader/?target=${target}`)).json();
    const pages = Math.floor(d.customerCount / 100) + 1;
    assert.ok(r.paused <= 3, `fetched ${r.paused} of ${pages} pages while the reader was paused`);
    assert.equal(r.total, pages);
    assert.equal(r.lines, d.customerCount);
  } finally {
    await slow.dispose();
  }
});
