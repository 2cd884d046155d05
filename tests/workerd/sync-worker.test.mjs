// examples/sync-worker: the read API (D1 only) and /status around runs, in workerd with real
// local D1 and Durable Objects against appxite-mock; every invocation counted against
// Cloudflare's Paid limits (sync-worker-limits.js). Runnable alone:
//   node --test tests/workerd/sync-worker.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startMock } from "../node/mock.mjs";
import { startMirror, assertMirrorEqualsApi, assertWithinLimits, truth, mutate } from "./sync-worker-harness.mjs";
import { schemaStatements } from "../../examples/sync-worker/src/schema.js";

let mock;
let m;
let org; // a distributor with its resellers
let reseller; // a second mirrored organization
const FAKE = "00000000-0000-4000-8000-0000000000aa"; // rows put into D1 by the test itself

before(async () => {
  mock = await startMock(["--customers", "3000"]);
  org = mock.distributors[0].id;
  reseller = mock.distributors[1].id;
  m = await startMirror({ mock, orgs: [org, reseller], vars: { PAGE_SIZE: "100", PAGES_PER_STEP: "2" } });
});
after(async () => {
  await m?.dispose();
  await mock?.stop();
});

/** A JSON error body, and nothing that looks like SQL, a stack or a secret in the response. */
function assertError(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get("content-type"), /application\/json/);
  assert.equal(typeof res.body?.error?.message, "string", res.text);
  if (code) assert.equal(res.body.error.code, code, res.text);
  assert.doesNotMatch(res.text, /SELECT|INSERT|FROM |mirror_|sqlite|D1_|\bat [\w.]+ \(|\.js:\d+|dev-token|test-admin-token/);
}

test("before any run: /status lists the configured organizations as never run, /customers is empty", async () => {
  const status = await m.get("/status");
  assert.equal(status.status, 200);
  assert.deepEqual(status.body.orgs.map((o) => [o.org, o.phase]).sort(), [[org, "never"], [reseller, "never"]].sort());
  assert.deepEqual((await m.get("/customers")).body, { customers: [], next: null });
});

test("/status during a run (paused at its fourth write: the second page's) and after it; D1 equals the API", async () => {
  // Writes: 1 the run's start, 2 the first step's lease, 3 page 1, 4 page 2.
  await m.control("plan", { pause: { org, at: 4 } });
  let started;
  try {
    started = await m.trigger(org);
    assert.equal(started.status, 202, started.text);
    assert.equal(started.body.started, true);
    let paused;
    while ((paused = await m.control("paused")) === null) await sleep(5);
    assert.equal(paused.kind, "alarm");
    const during = (await m.get(`/status?org=${org}`)).body.orgs[0];
    assert.equal(during.phase, "listing");
    assert.equal(during.running.run, started.body.run);
    assert.equal(during.running.pages, 1, "the first page is committed, the second is waiting");
    assert.equal(during.running.listed, 100);
    assert.equal(during.running.steps, 1);
    assert.equal(during.lastComplete, null);
    // A trigger while the run is in progress starts nothing, and says so.
    const again = await m.trigger(org);
    assert.equal(again.body.started, false);
    assert.equal(again.body.run, started.body.run);
  } finally {
    await m.control("plan", {});
    await m.control("release");
  }
  const done = await m.complete(org);
  const after = (await m.get(`/status?org=${org}`)).body.orgs[0];
  assert.equal(after.phase, "idle");
  assert.equal(after.running, null);
  assert.equal(after.lastComplete.run, started.body.run);
  assert.equal(after.lastComplete.added, mock.distributors[0].customerCount);
  assert.equal(after.customers, mock.distributors[0].customerCount);
  assert.equal(after.skippedTriggers, 1);
  assert.ok(after.lagSeconds >= 0);
  assert.equal(after.lastRun.status, "complete");
  assert.equal(done.pages, Math.ceil(mock.distributors[0].customerCount / 100));
  await assertMirrorEqualsApi(m, org, "after the first run");
  await m.run(reseller);
  await assertMirrorEqualsApi(m, reseller, "the second organization");
});

test("GET /customers: keyset pagination returns every customer exactly once; status filter; org filter", async () => {
  const want = new Map([...(await truth(mock, org)), ...(await truth(mock, reseller))].map(([id, json]) => [id, JSON.parse(json)]));
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const res = await m.get(`/customers?limit=97${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.customers.length <= 97);
    seen.push(...res.body.customers);
    cursor = res.body.next;
    pages += 1;
  } while (cursor);
  assert.equal(pages, Math.ceil(want.size / 97));
  assert.equal(new Set(seen.map((c) => `${c.org}/${c.id}`)).size, seen.length, "no customer twice");
  assert.deepEqual(seen.map((c) => c.id).sort(), [...want.keys()].sort(), "every customer");
  for (const c of seen) {
    assert.equal(c.name, want.get(c.id).customerName);
    assert.equal(c.resellerId, want.get(c.id).resellerId);
  }
  const active = [];
  cursor = null;
  do {
    const res = await m.get(`/customers?status=active&org=${org}&limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
    active.push(...res.body.customers);
    cursor = res.body.next;
  } while (cursor);
  const wantActive = [...(await truth(mock, org)).values()].map((j) => JSON.parse(j)).filter((c) => c.customerStatus === "Active");
  assert.ok(wantActive.length > 0);
  assert.deepEqual(active.map((c) => c.id).sort(), wantActive.map((c) => c.customerId).sort());
});

test("GET /customers?q=: names of any length (60 ASCII, 20 CJK characters), case-insensitive for ASCII, % and _ literal", async () => {
  const db = await m.db();
  const ascii = "The Extraordinarily Long Named Customer Holding Company Ltd.";
  const cjk = "東京都千代田区丸の内一丁目株式会社日本商事中央";
  assert.equal(ascii.length, 60);
  assert.ok([...cjk].length >= 20);
  const row = (id, name) =>
    db
      .prepare("INSERT INTO mirror_customers (org, id, name, status, data, updated_run, updated_at) VALUES (?, ?, ?, 'Active', ?, 0, '2026-01-01T00:00:00.000Z')")
      .bind(FAKE, id, name, JSON.stringify({ customerId: id, customerName: name }));
  await db.batch([row("fake-ascii", ascii), row("fake-cjk", cjk), row("fake-percent", "100% Real_Name")]);
  try {
    const find = async (q) => {
      const res = await m.get(`/customers?org=${FAKE}&q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, res.text);
      return res.body.customers.map((c) => c.id);
    };
    assert.deepEqual(await find(ascii), ["fake-ascii"]);
    assert.deepEqual(await find(ascii.toUpperCase()), ["fake-ascii"]);
    assert.deepEqual(await find(cjk), ["fake-cjk"]);
    assert.deepEqual(await find([...cjk].slice(3, 23).join("")), ["fake-cjk"]);
    assert.deepEqual(await find("x".repeat(300)), []);
    assert.deepEqual(await find("%"), ["fake-percent"]);
    assert.deepEqual(await find("1_0"), [], "_ is not a wildcard");
    assert.deepEqual(await find("real_name"), ["fake-percent"]);
    // A real customer by a piece of its name, and by its exact ID.
    const someone = JSON.parse([...(await truth(mock, org)).values()][7]);
    const part = someone.customerName.slice(2, 14);
    const res = await m.get(`/customers?org=${org}&q=${encodeURIComponent(part)}&limit=1000`);
    assert.ok(res.body.customers.some((c) => c.id === someone.customerId));
    assert.ok(res.body.customers.every((c) => c.name.toLowerCase().includes(part.toLowerCase())));
    assert.deepEqual((await m.get(`/customers?q=${someone.customerId}`)).body.customers.map((c) => c.id), [someone.customerId]);
  } finally {
    await db.prepare("DELETE FROM mirror_customers WHERE org = ?").bind(FAKE).run();
  }
});

test("GET /customers/{id}: the record as stored; unknown → 404 JSON", async () => {
  const want = [...(await truth(mock, org)).values()].map((j) => JSON.parse(j));
  for (const c of [want[0], want.at(-1)]) {
    const res = await m.get(`/customers/${c.customerId}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.customer, c);
    assert.equal(res.body.org, org);
    assert.equal(res.body.id, c.customerId);
  }
  assertError(await m.get("/customers/00000000-0000-4000-8000-000000000000"), 404, "NOT_FOUND");
  assertError(await m.get("/customers/a%01b"), 400, "BAD_ID");
  assertError(await m.get("/customers/%E0%A4%A"), 400, "BAD_ID");
  assertError(await m.get(`/customers/${"x".repeat(201)}`), 400, "BAD_ID");
});

test("bad parameters are 400 JSON without SQL or a stack; wrong methods 405; unknown paths 404; POST /runs needs the admin token", async () => {
  const bad = [
    ["/customers?limit=2.5", "BAD_LIMIT"],
    ["/customers?limit=0", "BAD_LIMIT"],
    ["/customers?limit=1001", "BAD_LIMIT"],
    ["/customers?limit=abc", "BAD_LIMIT"],
    ["/customers?limit=-1", "BAD_LIMIT"],
    ["/customers?limit=1e3", "BAD_LIMIT"],
    ["/customers?status=Deleted", "BAD_STATUS"],
    ["/customers?q=", "BAD_QUERY"],
    [`/customers?q=${"a".repeat(1001)}`, "BAD_QUERY"],
    ["/customers?cursor=abc", "BAD_CURSOR"],
    ["/customers?cursor=WzFd", "BAD_CURSOR"],
    ["/customers?cursor=%27%3B--", "BAD_CURSOR"],
    ["/customers?org=acme", "BAD_ORG"],
    ["/customers?limit=5&limit=6", "REPEATED_PARAMETER"],
    ["/customers?sort=name", "UNKNOWN_PARAMETER"],
    ["/changes?since=abc", "BAD_SINCE"],
    ["/changes?since=-1", "BAD_SINCE"],
    ["/changes?since=1.5", "BAD_SINCE"],
    ["/changes?since=2026-13-45T00:00:00Z", "BAD_SINCE"],
    ["/changes?since=2026-01-01T25:00:00Z", "BAD_SINCE"],
    ["/changes?since=0001-01-01", "BAD_SINCE"],
    ["/changes?cursor=-5", "BAD_CURSOR"],
    ["/changes?limit=0", "BAD_LIMIT"],
    ["/status?org=1", "BAD_ORG"],
    ["/export?limit=5", "UNKNOWN_PARAMETER"],
  ];
  for (const [path, code] of bad) assertError(await m.get(path), 400, code);
  assertError(await m.get("/nothing"), 404, "NOT_FOUND");
  const post = await m.mf.dispatchFetch("http://mirror/customers", { method: "POST" });
  assert.equal(post.status, 405);
  const runs = await m.mf.dispatchFetch(`http://mirror/runs?org=${org}`, { method: "POST" });
  assert.equal(runs.status, 401);
  const wrong = await m.mf.dispatchFetch(`http://mirror/runs?org=${org}`, { method: "POST", headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  assertError({ status: wrong.status, headers: wrong.headers, text: await wrong.text(), body: { error: { message: "" } } }, 401);
  const other = await m.trigger("11111111-1111-4111-8111-111111111111");
  assertError(other, 404, "NOT_FOUND");
});

test("a failure inside is a 500 JSON with a generic message: no SQL text, no stack", async () => {
  const db = await m.db();
  await db.prepare("ALTER TABLE mirror_changes RENAME TO mirror_changes_away").run();
  try {
    const res = await m.get("/changes");
    assertError(res, 500, "INTERNAL");
    assert.equal(res.body.error.message, "internal error");
  } finally {
    await db.prepare("ALTER TABLE mirror_changes_away RENAME TO mirror_changes").run();
  }
  assert.equal((await m.get("/changes?limit=1")).status, 200);
});

test("GET /changes: since a run id or an instant, paginated; a run's changes are exactly what the API changed, removed ones with their last names", async () => {
  const first = (await m.state(org)).last_complete_run;
  const at = new Date().toISOString();
  const done = await mutate(mock, { seed: 11, add: 4, remove: 3, change: 5, under: org });
  const run = await m.run(org);
  await assertMirrorEqualsApi(m, org, "after the mutation");
  const all = [];
  let cursor = null;
  do {
    const res = await m.get(`/changes?since=${first}&org=${org}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(res.status, 200, res.text);
    all.push(...res.body.changes);
    cursor = res.body.next;
  } while (cursor);
  assert.equal(new Set(all.map((c) => c.seq)).size, all.length);
  assert.ok(all.every((c) => c.run === run.last_complete_run && c.org === org));
  const of = (type) => all.filter((c) => c.type === type).map((c) => c.customerId).sort();
  assert.deepEqual(of("added"), [...done.added].sort());
  assert.deepEqual(of("changed"), [...done.changed].sort());
  assert.deepEqual(of("removed"), [...done.removed].sort());
  assert.ok(all.filter((c) => c.type === "removed").every((c) => c.detail === "gone" && typeof c.name === "string" && c.name.length > 0));
  const byInstant = (await m.get(`/changes?since=${encodeURIComponent(at)}&org=${org}`)).body.changes;
  assert.deepEqual(byInstant.map((c) => c.seq), all.map((c) => c.seq));
  const everything = (await m.get(`/changes?org=${org}&limit=1000`)).body;
  assert.equal(everything.changes.length, Math.min(1000, mock.distributors[0].customerCount + 12));
  assert.equal((await m.get(`/status?org=${org}`)).body.orgs[0].lastComplete.removed, 3);
});

test("GET /export: every mirrored customer as stored, NDJSON, in keyset chunks", async () => {
  const res = await m.mf.dispatchFetch("http://mirror/export");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /application\/x-ndjson/);
  const lines = (await res.text()).split("\n");
  assert.equal(lines.pop(), "", "every line ends with a newline");
  const want = new Map([...(await truth(mock, org)), ...(await truth(mock, reseller))]);
  assert.equal(lines.length, want.size);
  for (const line of lines) {
    const c = JSON.parse(line);
    assert.deepEqual(c, JSON.parse(want.get(c.customerId)));
  }
  const one = (await (await m.mf.dispatchFetch(`http://mirror/export?org=${reseller}`)).text()).trim().split("\n");
  assert.equal(one.length, mock.distributors[1].customerCount);
});

test("the change log and the run log are pruned when a run completes (CHANGES_KEEP_DAYS, 30 by default)", async () => {
  const db = await m.db();
  const old = "2000-01-01T00:00:00.000Z";
  await db.batch([
    db.prepare("INSERT INTO mirror_changes (run_id, org, customer_id, type, name, at) VALUES (0, ?, 'old-one', 'changed', 'Old', ?)").bind(reseller, old),
    db.prepare("INSERT INTO mirror_changes (run_id, org, customer_id, type, name, at) VALUES (0, ?, 'old-two', 'changed', 'Old', ?)").bind(org, old),
    db.prepare("INSERT INTO mirror_run_log (org, started_at, finished_at, status) VALUES (?, ?, ?, 'complete')").bind(reseller, old, old),
  ]);
  const recent = (await db.prepare("SELECT COUNT(*) AS n FROM mirror_changes WHERE org = ? AND at > ?").bind(reseller, old).first()).n;
  await m.run(reseller);
  const left = (await db.prepare("SELECT customer_id AS id FROM mirror_changes WHERE at = ?").bind(old).all()).results.map((r) => r.id);
  assert.deepEqual(left, ["old-two"], "the reseller's run pruned its own old entries, not another organization's");
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM mirror_changes WHERE org = ? AND at > ?").bind(reseller, old).first()).n, recent);
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM mirror_run_log WHERE started_at = ?").bind(old).first()).n, 0);
  await db.prepare("DELETE FROM mirror_changes WHERE at = ?").bind(old).run();
});

test("no invocation crossed a Paid limit; secrets never reach D1", async () => {
  const s = await assertWithinLimits(m, "read API file");
  assert.ok(s.invocations > 20 && s.byKind.alarm > 5, JSON.stringify(s.byKind));
  const db = await m.db();
  for (const table of ["mirror_runs", "mirror_run_log", "mirror_changes", "mirror_customers"]) {
    const { results } = await db.prepare(`SELECT * FROM ${table}`).all();
    assert.doesNotMatch(JSON.stringify(results), /dev-token|test-admin-token/, table);
  }
});

test("the limits wrapper bites: with the D1 query limit lowered to 1, /export's second chunk fails its invocation and is recorded", async () => {
  const all = (await (await m.mf.dispatchFetch("http://mirror/export")).text()).split("\n").length - 1;
  assert.ok(all > 1000, "more than one chunk");
  await m.control("limits", { d1Queries: 1 });
  let lines;
  try {
    const res = await m.mf.dispatchFetch("http://mirror/export");
    lines = (await res.text().catch(() => "")).split("\n").length - 1;
  } finally {
    await m.control("limits", {});
  }
  try {
    assert.ok(lines <= 1000, `the export broke off after its first chunk (${lines} of ${all} lines)`);
    const s = await m.stats();
    assert.deepEqual(
      s.violations.map((v) => [v.kind, v.what, v.value, v.max]),
      [["fetch", "D1 queries", 2, 1]],
    );
  } finally {
    await m.control("reset");
  }
});

test("schema.sql splits into its statements (triggers whole)", () => {
  const statements = schemaStatements(
    "CREATE TABLE a (x INT); -- a; comment\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO a VALUES (1);\n  INSERT INTO a VALUES (2);\nEND;\nCREATE INDEX i ON a (x);\n",
  );
  assert.equal(statements.length, 3);
  assert.match(statements[1], /^CREATE TRIGGER[\s\S]*VALUES \(2\);\nEND$/);
});
