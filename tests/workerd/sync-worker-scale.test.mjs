// examples/sync-worker at scale, its default configuration (1,000 customers per page, 10 pages
// per step): every distributor of a 25,000-customer emulator (with their resellers), the cron
// fanning out through the queue, a first run and a repeat after ~1 % changed. Every invocation
// is held to Cloudflare's Paid limits (sync-worker-limits.js); D1 equals the API after each run.
// Runnable alone: node --test tests/workerd/sync-worker-scale.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startMock } from "../node/mock.mjs";
import { startMirror, assertMirrorEqualsApi, assertWithinLimits, mutate } from "./sync-worker-harness.mjs";
import { childPid, cpuMs, memMB } from "../../bench/proc.mjs";

let mock;
let m;
let orgs;

before(async () => {
  mock = await startMock(["--customers", "25000"]);
  orgs = mock.distributors.map((d) => d.id);
  m = await startMirror({ mock, orgs, queue: true });
});
after(async () => {
  await m?.dispose();
  await mock?.stop();
});

/** Fires the cron and waits until every organization has a complete run newer than `after`. */
async function cronRun(after) {
  const outcome = await m.scheduled();
  assert.equal(outcome.outcome, "ok");
  for (const org of orgs) {
    for (;;) {
      const s = await m.state(org);
      if (s && s.phase === "idle" && (s.last_complete_run ?? 0) > after) break;
      await sleep(50);
    }
  }
}

function report(t, label, s, cpu, mem) {
  t.diagnostic(
    `${label}: ${s.invocations} invocations (${JSON.stringify(s.byKind)}); max per invocation: ${s.max.d1Queries} D1 queries, ` +
      `${s.max.subrequests} subrequests (${s.max.fetches} API fetches), ${s.max.maxParams} bound parameters, ${s.max.maxSqlBytes} B of SQL, ` +
      `${(s.max.maxValueBytes / 1e6).toFixed(2)} MB in one bound value, ${s.max.maxRowBytes} B in one row read; ` +
      `workerd CPU ${Math.round(cpu)} ms in all; workerd peak RSS ${Math.round(mem)} MB`,
  );
}

test("every distributor of 25,000 customers: the cron fans out through the queue; a first run and a repeat after ~1 % changed, each within Paid limits, D1 = API", async (t) => {
  const pid = childPid("workerd");
  const total = mock.distributors.reduce((n, d) => n + d.customerCount, 0);
  assert.ok(total >= 20_000, `${total} customers`);

  let cpu0 = cpuMs(pid);
  await cronRun(0);
  const first = await assertWithinLimits(m, "first run");
  report(t, "first run", first, cpuMs(pid) - cpu0, memMB(pid, "VmHWM"));
  assert.ok(first.byKind.queue >= 1, "the cron went through the queue");
  assert.equal(first.byKind.scheduled, 1);
  let mirrored = 0;
  for (const org of orgs) mirrored += await assertMirrorEqualsApi(m, org, `first run of ${org}`);
  assert.equal(mirrored, total);
  const before = Math.max(...(await Promise.all(orgs.map(async (o) => (await m.state(o)).last_complete_run))));

  await m.control("reset");
  const change = await mutate(mock, { seed: 25, add: 80, remove: 80, change: 90 });
  assert.equal(change.added.length + change.removed.length + change.changed.length, 250);
  cpu0 = cpuMs(pid);
  await cronRun(before);
  const repeat = await assertWithinLimits(m, "repeat");
  report(t, "repeat, 1 % changed", repeat, cpuMs(pid) - cpu0, memMB(pid, "VmHWM"));
  for (const org of orgs) await assertMirrorEqualsApi(m, org, `repeat of ${org}`);
  // What the repeat logged is exactly the mutation.
  const db = await m.db();
  const { results } = await db.prepare("SELECT type, COUNT(*) AS n FROM mirror_changes WHERE run_id > ? GROUP BY type ORDER BY type").bind(before).all();
  assert.deepEqual(results, [
    { type: "added", n: 80 },
    { type: "changed", n: 90 },
    { type: "removed", n: 80 },
  ]);
  // The read API over the whole mirror: /status and a full keyset walk of /customers.
  const status = (await m.get("/status")).body.orgs;
  assert.equal(status.reduce((n, o) => n + o.customers, 0), total);
  let seen = 0;
  let cursor = null;
  do {
    const res = await m.get(`/customers?limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
    seen += res.body.customers.length;
    cursor = res.body.next;
  } while (cursor);
  assert.equal(seen, total);
  await assertWithinLimits(m, "read API");
});
