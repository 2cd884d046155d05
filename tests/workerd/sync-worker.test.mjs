// examples/sync-worker in workerd (Miniflare) with a real D1 (SQLite) against appxite-mock:
// two scheduled runs around /__mock/mutate; after each, D1 holds exactly the emulator's
// customers; /customers and /changes answer from D1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { startMock } from "../node/mock.mjs";
import { packageModules } from "./miniflare.mjs";

const EXAMPLE = new URL("../../examples/sync-worker/", import.meta.url);
let mock;
let mf;
let org;

before(async () => {
  mock = await startMock(["--customers", "3000"]);
  org = mock.resellers[0];
  mf = new Miniflare({
    modules: [
      { type: "ESModule", path: "src/index.js", contents: readFileSync(new URL("src/index.js", EXAMPLE)) },
      { type: "Text", path: "schema.sql", contents: readFileSync(new URL("schema.sql", EXAMPLE), "utf8") },
      ...packageModules("src/"),
    ],
    compatibilityDate: "2025-09-01",
    d1Databases: { DB: "sync-worker-test" },
    bindings: { APPXITE_BASE_URL: mock.url, APPXITE_REFERER: "https://portal.example", APPXITE_TOKEN: "dev-token", APPXITE_ORG_ID: org.id },
  });
  await mf.ready;
});
after(async () => {
  await mf?.dispose();
  await mock?.stop();
});

/** The emulator's customers of `org` with every section: id → record. */
async function truth() {
  const res = await fetch(
    `${mock.url}/distis/organizations/details/${org.id}?includeAddresses=true&includeContacts=true&includeCustomProperties=true&includeTenants=true&includeIndustries=true`,
    { headers: { "X-Referer": "https://truth.example", Authorization: "Bearer dev-token" } },
  );
  return new Map((await res.json()).map((c) => [c.customerId, c]));
}

async function d1Customers() {
  const db = await mf.getD1Database("DB");
  const { results } = await db.prepare("SELECT id, name, status, data FROM customers").all();
  return new Map(results.map((r) => [r.id, r]));
}

async function assertD1MatchesTruth(label) {
  const [want, got] = [await truth(), await d1Customers()];
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${label}: the same customers`);
  for (const [id, c] of want) {
    assert.deepEqual(JSON.parse(got.get(id).data), c, `${label}: ${id} as the API has it`);
    assert.equal(got.get(id).name, c.customerName);
  }
}

const runScheduled = async () => (await mf.getWorker()).scheduled({ cron: "*/15 * * * *" });
const get = async (path) => {
  const res = await mf.dispatchFetch(`http://worker${path}`);
  return { status: res.status, body: await res.json() };
};

test("before any run, the read endpoints say so", async () => {
  assert.deepEqual(await get("/customers"), { status: 503, body: { error: "no sync has run yet" } });
});

test("two scheduled runs around a mutation: D1 equals the API after each; /customers and /changes answer from D1", async () => {
  const first = await runScheduled();
  assert.equal(first.outcome, "ok", JSON.stringify(first));
  await assertD1MatchesTruth("after the first run");
  const db = await mf.getD1Database("DB");
  const runs1 = (await db.prepare("SELECT * FROM runs ORDER BY id").all()).results;
  assert.equal(runs1.length, 1);
  assert.deepEqual([runs1[0].status, runs1[0].added, runs1[0].removed], ["complete", org.customerCount, 0]);
  const snap = (await db.prepare("SELECT SUM(LENGTH(bytes)) AS n FROM snapshot_parts").first()).n;
  assert.equal(snap, 32 + 24 * org.customerCount, "the snapshot is in D1");

  const res = await fetch(`${mock.url}/__mock/mutate`, { method: "POST", body: JSON.stringify({ seed: 4, add: 5, remove: 3, change: 7, under: org.id }) });
  const done = await res.json();
  const second = await runScheduled();
  assert.equal(second.outcome, "ok", JSON.stringify(second));
  await assertD1MatchesTruth("after the second run");
  const run2 = (await db.prepare("SELECT * FROM runs ORDER BY id DESC").first());
  assert.deepEqual([run2.status, run2.added, run2.changed, run2.removed], ["complete", 5, 7, 3]);

  // /changes since the first run: exactly the mutation, removed ones with their old names.
  const { body } = await get(`/changes?since=${encodeURIComponent(runs1[0].finished_at)}`);
  const of = (type) => body.changes.filter((c) => c.type === type).map((c) => c.customerId).sort();
  assert.deepEqual(of("added"), [...done.added].sort());
  assert.deepEqual(of("changed"), [...done.changed].sort());
  assert.deepEqual(of("removed"), [...done.removed].sort());
  assert.ok(body.changes.every((c) => typeof c.name === "string" && c.name.length > 0 && c.run === run2.id));
  const all = (await get("/changes")).body.changes;
  assert.equal(all.length, org.customerCount + 15, "every change of both runs");

  // /customers filters by status and by name, from D1.
  const want = await truth();
  const active = (await get("/customers?status=Active&limit=1000")).body.customers;
  assert.deepEqual(active.map((c) => c.id).sort(), [...want.values()].filter((c) => c.customerStatus === "Active").map((c) => c.customerId).sort());
  const someone = [...want.values()][5];
  const found = (await get(`/customers?q=${encodeURIComponent(someone.customerName.slice(0, 12))}`)).body.customers;
  assert.ok(found.some((c) => c.id === someone.customerId));
  assert.ok(found.every((c) => c.name.includes(someone.customerName.slice(0, 12))));
  assert.equal((await get("/customers?status=Deleted")).status, 400);
  assert.equal((await get("/customers?q=%25")).body.customers.length, 0, "% is a character, not a wildcard");
});

test("a third run with nothing changed logs nothing and keeps D1 as it is", async () => {
  const r = await runScheduled();
  assert.equal(r.outcome, "ok");
  const db = await mf.getD1Database("DB");
  const run = await db.prepare("SELECT * FROM runs ORDER BY id DESC").first();
  assert.deepEqual([run.added, run.changed, run.removed], [0, 0, 0]);
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM changes WHERE run_id = ?").bind(run.id).first()).n, 0);
  await assertD1MatchesTruth("after a quiet run");
});
