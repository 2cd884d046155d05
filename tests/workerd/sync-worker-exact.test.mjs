// examples/sync-worker is exact whatever happens: after the next complete run, D1 holds exactly
// the API's customers, each record deep-equal to the emulator's — with a step killed at every
// D1 write boundary (before the write, after it, or as a zombie whose write lands after a newer
// step's), triggers overlapping a run at several points, the data moving during runs (drift,
// mutations), and the API "changing back" after a failed run. Every invocation is held to
// Cloudflare's Paid limits. Runnable alone: node --test tests/workerd/sync-worker-exact.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startMock } from "../node/mock.mjs";
import { startMirror, assertMirrorEqualsApi, assertWithinLimits, truth, mirrored, mutate, drift } from "./sync-worker-harness.mjs";

let mock; // the API
let twin; // the same data set (same seed), mutated on its own: the API as it was for a while
let locked; // the same data set behind another token: the API refusing this mirror (401)
let m;
let org; // the organization the kill tests mutate and mirror
let org2; // another one, for "changed back" (untouched by org's mutations, so the twin agrees)
let org3; // another one, for a customer that moved
const VARS = { PAGE_SIZE: "20", PAGES_PER_STEP: "3", CONFIRM_BATCH: "25", CONFIRM_REQUESTS_PER_STEP: "4" };

before(async () => {
  mock = await startMock(["--customers", "3000"]);
  twin = await startMock(["--customers", "3000"]);
  locked = await startMock(["--customers", "3000", "--token", "another-token"]);
  const bySize = [...mock.resellers].sort((a, b) => a.customerCount - b.customerCount);
  [org, org2, org3] = [bySize[3].id, bySize[4].id, bySize[5].id];
  m = await startMirror({ mock, orgs: [org, org2, org3], vars: VARS });
});
after(async () => {
  await m?.dispose();
  await Promise.all([mock?.stop(), twin?.stop(), locked?.stop()]);
});

/** Stats so far: no limit crossed; then cleared (kills, zombies) for the next scenario. */
async function checkAndReset(label) {
  const s = await assertWithinLimits(m, label);
  await m.control("reset");
  return s;
}

const routeTo = (api) => m.control("route", api ? { from: mock.url, to: api.url } : {});

test("a step killed at every write boundary k — before the write, after it, and as a zombie — and the run still lands exactly on the API", async (t) => {
  await m.run(org);
  await assertMirrorEqualsApi(m, org, "first run");
  await checkAndReset("first run");
  const covered = {};
  for (const [mi, mode] of ["before", "after", "zombie"].entries()) {
    // A zombie is an alarm step's write (k = 1 is the run's start, an RPC: killed, not held).
    for (let k = mode === "zombie" ? 2 : 1; ; k++) {
      // Something to add, change and remove in every run, so the sweep has work at each k.
      await mutate(mock, { seed: 1000 * (mi + 1) + k, add: 2, remove: 2, change: 2, under: org });
      const before = (await m.state(org)).last_complete_run;
      await m.control("plan", { kill: { org, at: k, mode } });
      await m.trigger(org);
      await m.complete(org, before);
      await m.control("plan", {});
      await assertMirrorEqualsApi(m, org, `${mode} k=${k}`);
      const s = await checkAndReset(`${mode} k=${k}`);
      if (s.kills.length === 0) {
        covered[mode] = k - 1;
        break;
      }
      assert.equal(s.kills.length, 1);
      if (mode === "zombie") {
        // The held write ran after a newer step's write, and changed nothing.
        assert.equal(s.zombies.length, 1, JSON.stringify(s.kills));
        const z = s.zombies[0];
        assert.ok((!z.ok && /mirror_fence/.test(z.error)) || (z.ok && z.changes.every((c) => c === 0)), `zombie at k=${k}: ${JSON.stringify(z)}`);
      }
    }
  }
  // Every write of a run was a kill point: start, leases, pages, confirmation, completion.
  t.diagnostic(`write boundaries killed per mode: ${JSON.stringify(covered)}`);
  for (const mode of ["before", "after", "zombie"]) assert.ok(covered[mode] >= 15, JSON.stringify(covered));
});

test("triggers overlapping a run — at its start, its first step, mid-listing, in the sweep — start nothing; the run lands exactly", async () => {
  // A run's write log tells where its steps are.
  await mutate(mock, { seed: 7001, add: 3, remove: 3, change: 3, under: org });
  await m.control("reset");
  await m.run(org);
  const log = (await m.control("writes")).filter((w) => w.org === org);
  const sweep = log.findIndex((w) => w.statements.some((s) => s.startsWith("DELETE FROM mirror_customers")));
  const pages = log.map((w, i) => (w.statements.some((s) => s.startsWith("INSERT INTO mirror_customers")) ? i : -1)).filter((i) => i >= 0);
  assert.ok(sweep > 0 && pages.length >= 8, JSON.stringify(log.map((w) => w.statements[0])));
  const points = { start: 1, "first step": 2, "mid-listing": pages[Math.floor(pages.length / 2)] + 1, sweep: sweep + 1 };
  const db = await m.db();
  for (const [name, at] of Object.entries(points)) {
    await mutate(mock, { seed: 7100 + at, add: 3, remove: 3, change: 3, under: org });
    const runsBefore = (await db.prepare("SELECT COUNT(*) AS n FROM mirror_run_log WHERE org = ?").bind(org).first()).n;
    const skippedBefore = (await m.state(org)).skipped_triggers;
    const lastBefore = (await m.state(org)).last_complete_run;
    await m.control("plan", { pause: { org, at } });
    const first = m.trigger(org);
    try {
      while ((await m.control("paused")) === null) await sleep(5);
      // While the run stands there: a manual trigger and a cron.
      const [second, cron] = await Promise.all([m.trigger(org), m.scheduled()]);
      assert.equal(second.status, 202, second.text);
      assert.equal(cron.outcome, "ok");
      if (name !== "start") assert.equal(second.body.started, false, `${name}: ${second.text}`);
    } finally {
      await m.control("plan", {});
      await m.control("release");
    }
    const started = [(await first).body.started];
    await m.complete(org, lastBefore);
    const runsAfter = (await db.prepare("SELECT COUNT(*) AS n FROM mirror_run_log WHERE org = ?").bind(org).first()).n;
    assert.equal(runsAfter - runsBefore, 1, `${name}: three triggers, one run (${started})`);
    assert.equal((await m.state(org)).skipped_triggers - skippedBefore, 2, `${name}: two triggers counted as skipped`);
    await assertMirrorEqualsApi(m, org, `overlap at ${name}`);
  }
  await checkAndReset("overlaps");
});

test("two first runs close together (two crons at once on an empty mirror): one run, every customer", async () => {
  const fresh = await startMirror({ mock, orgs: [org2], vars: VARS });
  try {
    const [a, b] = await Promise.all([fresh.scheduled(), fresh.scheduled()]);
    assert.deepEqual([a.outcome, b.outcome], ["ok", "ok"]);
    const s = await fresh.complete(org2, 0, { triggerEvery: 1e9 });
    assert.equal(s.last_complete_run, 1);
    assert.equal(s.skipped_triggers, 1);
    await assertMirrorEqualsApi(fresh, org2, "two first runs");
    assert.deepEqual((await fresh.stats()).violations, []);
  } finally {
    await fresh.dispose();
  }
});

test("the data moving during runs: drift under paging, a mutation mid-run; the next quiet run lands exactly, and no customer the API still has was ever deleted", async () => {
  // Drift: after each page, customers inserted, removed and renamed in the part already served.
  // More removed than inserted before each next page: the listing skips customers, which the
  // sweep must confirm by ID and keep.
  await drift(mock, { insert: 1, remove: 2, change: 2 });
  let driftRun;
  try {
    driftRun = await m.run(org);
  } finally {
    await drift(mock, {});
  }
  const want = await truth(mock, org);
  const db = await m.db();
  const { results: removed } = await db.prepare("SELECT customer_id AS id FROM mirror_changes WHERE run_id = ? AND type = 'removed'").bind(driftRun.last_complete_run).all();
  for (const r of removed) assert.ok(!want.has(r.id), `${r.id} was deleted but the API has it`);
  assert.ok(driftRun.confirmed > 0, "skipped customers were confirmed by ID and kept");
  // A mutation while a run stands mid-listing.
  await m.control("plan", { pause: { org, at: 6 } });
  const before = (await m.state(org)).last_complete_run;
  await m.trigger(org);
  try {
    while ((await m.control("paused")) === null) await sleep(5);
    await mutate(mock, { seed: 8001, add: 6, remove: 6, change: 6, under: org });
  } finally {
    await m.control("plan", {});
    await m.control("release");
  }
  await m.complete(org, before);
  const quiet = await m.run(org);
  await assertMirrorEqualsApi(m, org, "after drift, a mid-run mutation and a quiet run");
  assert.ok(quiet.last_complete_run > before);
  await checkAndReset("drift");
});

test("the API changing back: a failed run that wrote the API's newer data, then the API as it was — the next run restores it exactly", async () => {
  await m.run(org2);
  await assertMirrorEqualsApi(m, org2, "org2 first run");
  const change = await mutate(twin, { seed: 9001, add: 10, remove: 10, change: 30, under: org2 });
  // For a while the API answers with the twin's (newer) data, then refuses this mirror (401)
  // half-way through the listing: the run fails for good after writing some of it.
  await routeTo(twin);
  const before = (await m.state(org2)).last_complete_run;
  await m.control("plan", { pause: { org: org2, at: 8 } });
  await m.trigger(org2);
  try {
    while ((await m.control("paused")) === null) await sleep(5);
    await routeTo(locked);
  } finally {
    await m.control("plan", {});
    await m.control("release");
  }
  let s;
  do {
    await sleep(10);
    s = await m.state(org2);
  } while (s.phase !== "idle");
  assert.equal(s.last_complete_run, before, "no run completed");
  const status = (await m.get(`/status?org=${org2}`)).body.orgs[0];
  assert.equal(status.lastRun.status, "failed");
  assert.match(status.lastRun.error, /^UNAUTHORIZED/);
  assert.doesNotMatch(JSON.stringify(status), /dev-token|another-token/);
  // D1 now holds some of the twin's data: neither what the API had nor what it has now.
  const [now, old] = [await mirrored(m, org2), await truth(mock, org2)];
  const newer = [...now].filter(([id, json]) => old.get(id) !== json).map(([id]) => id);
  assert.ok(newer.length > 0, "the failed run wrote newer data");
  assert.ok(newer.every((id) => change.added.includes(id) || change.changed.includes(id)));
  // The API is back as it was: the next run lands exactly on it.
  await routeTo(null);
  await m.run(org2);
  await assertMirrorEqualsApi(m, org2, "changed back after a failed run");
  // And the other way round: a complete run against the twin (its removals applied), then the
  // API as it was: the removed customers are present again.
  await routeTo(twin);
  await m.run(org2);
  await assertMirrorEqualsApi(m, org2, "the twin's data", { api: twin });
  await routeTo(null);
  const back = await m.run(org2);
  await assertMirrorEqualsApi(m, org2, "removed, then present again");
  const { results } = await (await m.db())
    .prepare("SELECT type, COUNT(*) AS n FROM mirror_changes WHERE run_id = ? GROUP BY type ORDER BY type")
    .bind(back.last_complete_run)
    .all();
  assert.deepEqual(results, [
    { type: "added", n: 10 },
    { type: "changed", n: 30 },
    { type: "removed", n: 10 },
  ]);
  await checkAndReset("changed back");
});

test("a customer that now belongs to another organization leaves the mirror, logged as removed (moved)", async () => {
  await m.run(org3);
  // A row of org3's mirror whose customer the API lists under another reseller: as if it had
  // moved there since the last run.
  const elsewhere = JSON.parse([...(await truth(mock, org))][0][1]);
  const db = await m.db();
  await db
    .prepare("INSERT INTO mirror_customers (org, id, name, data, updated_run, updated_at) VALUES (?, ?, ?, ?, 0, '2026-01-01T00:00:00.000Z')")
    .bind(org3, elsewhere.customerId, "Moved Customer", JSON.stringify({ ...elsewhere, resellerId: org3 }))
    .run();
  const run = await m.run(org3);
  await assertMirrorEqualsApi(m, org3, "after the move");
  const logged = await db.prepare("SELECT type, detail, name FROM mirror_changes WHERE run_id = ? AND customer_id = ?").bind(run.last_complete_run, elsewhere.customerId).all();
  assert.deepEqual(logged.results, [{ type: "removed", detail: "moved", name: "Moved Customer" }]);
  // It is still in org's mirror, where it belongs.
  assert.ok((await mirrored(m, org)).has(elsewhere.customerId));
  await checkAndReset("moved");
});
