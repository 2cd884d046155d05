// client.sync, continuation tokens and de-duplication under live data, against appxite-mock's
// /__mock/mutate and /__mock/drift over real HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { AppxiteClient } from "appxite-customers";
import { startMock, truthIds, rejection } from "./mock.mjs";

let mock;
let client;
const ALL = { includeAddresses: true, includeContacts: true, includeCustomProperties: true, includeTenants: true, includeIndustries: true };

before(async () => {
  mock = await startMock(["--customers", "3000"]);
  client = new AppxiteClient({ baseUrl: mock.url, referer: "https://portal.example", token: "dev-token" });
});
after(() => mock.stop());

async function post(path, body) {
  const res = await fetch(`${mock.url}${path}`, { method: "POST", body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}
const drift = (d) => post("/__mock/drift", d);

/** Run a sync to its end: its changes, stats and snapshot. */
async function runSync(orgId, options = {}) {
  const run = client.sync(orgId, options);
  const changes = [];
  for await (const c of run) changes.push(c);
  return { changes, stats: run.stats, snapshot: run.snapshot };
}
const idsOf = (changes, type) => changes.filter((c) => c.type === type).map((c) => c.customerId).sort();

test("sync: first every customer is added; then only what /__mock/mutate changed, removed ones last", async () => {
  const reseller = mock.resellers[1];
  const query = { ...ALL, pageSize: 40 };
  const first = await runSync(reseller.id, query);
  const truth = await truthIds(mock, reseller.id);
  assert.deepEqual(first.changes.map((c) => c.customerId), truth, "every customer added, in the server's order");
  assert.ok(first.changes.every((c) => c.type === "added" && c.customer.customerId === c.customerId && Array.isArray(c.customer.customerTenants)));
  assert.deepEqual(first.stats, { added: truth.length, changed: 0, removed: 0, unchanged: 0 });
  assert.ok(first.snapshot instanceof Uint8Array);
  assert.equal(first.snapshot.length, 32 + 24 * truth.length, "24 bytes a customer plus a 32-byte header");

  const quiet = await runSync(reseller.id, { ...query, snapshot: first.snapshot });
  assert.deepEqual(quiet.changes, []);
  assert.deepEqual(quiet.stats, { added: 0, changed: 0, removed: 0, unchanged: truth.length });
  assert.deepEqual(quiet.snapshot, first.snapshot);

  const done = await post("/__mock/mutate", { seed: 3, add: 5, remove: 4, change: 6, under: reseller.id });
  const second = await runSync(reseller.id, { ...query, snapshot: first.snapshot });
  assert.deepEqual(idsOf(second.changes, "added"), [...done.added].sort());
  assert.deepEqual(idsOf(second.changes, "changed"), [...done.changed].sort());
  assert.deepEqual(idsOf(second.changes, "removed"), [...done.removed].sort());
  const firstRemoved = second.changes.findIndex((c) => c.type === "removed");
  assert.ok(second.changes.slice(firstRemoved).every((c) => c.type === "removed"), "removed after every added/changed");
  assert.ok(second.changes.filter((c) => c.type === "removed").every((c) => !("customer" in c)));
  assert.deepEqual(second.stats, { added: 5, changed: 6, removed: 4, unchanged: truth.length - 10 });
  // The next sync from the new snapshot sees nothing.
  const third = await runSync(reseller.id, { ...query, snapshot: second.snapshot });
  assert.deepEqual(third.stats, { added: 0, changed: 0, removed: 0, unchanged: truth.length + 1 });
});

test("sync: pageSize is not part of what a snapshot is bound to: another page size, the same snapshot", async () => {
  const reseller = mock.resellers[2];
  const a = await runSync(reseller.id, { pageSize: 7 });
  const b = await runSync(reseller.id, { pageSize: 10000, snapshot: a.snapshot });
  assert.deepEqual(b.changes, []);
  assert.deepEqual(b.snapshot, a.snapshot);
});

test("sync: a snapshot of another org or query, damaged bytes or not a Uint8Array are INVALID_ARGUMENT before any request", async () => {
  const [r1, r2] = mock.resellers;
  const { snapshot } = await runSync(r1.id, { pageSize: 500 });
  const before = (await mock.stats()).requests;
  const cases = [
    [r2.id, { snapshot }],
    [r1.id, { snapshot, includeTenants: true }],
    [r1.id, { snapshot, customerStatus: "Active" }],
    [r1.id, { snapshot: snapshot.subarray(0, snapshot.length - 3) }],
    [r1.id, { snapshot: Uint8Array.from(snapshot, (b, i) => (i === 40 ? b ^ 1 : b)) }],
    [r1.id, { snapshot: new Uint8Array(10) }],
    [r1.id, { snapshot: [1, 2, 3] }],
    [r1.id, { page: 2 }],
  ];
  for (const [org, options] of cases) {
    let error;
    try {
      client.sync(org, options);
    } catch (e) {
      error = e;
    }
    assert.equal(error?.code, "INVALID_ARGUMENT", JSON.stringify(Object.keys(options)));
    assert.ok(error instanceof Error && error.message.length > 10);
  }
  assert.equal((await mock.stats()).requests, before, "nothing was sent");
});

test("sync: snapshot stays undefined after break or an error (never a partial snapshot)", async () => {
  const reseller = mock.resellers[3];
  const run = client.sync(reseller.id, { pageSize: 10 });
  let n = 0;
  for await (const c of run) {
    assert.equal(run.snapshot, undefined);
    if (++n === 15) break;
  }
  assert.equal(run.snapshot, undefined);
  assert.equal(run.stats.added, 20, "two pages were read");
  const aborted = client.sync(reseller.id, { pageSize: 10, signal: AbortSignal.abort() });
  const e = await rejection(async () => {
    for await (const _ of aborted);
  });
  assert.equal(e.code, "ABORTED");
  assert.equal(aborted.snapshot, undefined);
});

test("drift: for await never hands out a customer twice while inserts shift the pages", async () => {
  const reseller = mock.resellers[4];
  const truth = await truthIds(mock, reseller.id);
  await drift({ insert: 2 });
  try {
    const got = [];
    for await (const c of client.customers(reseller.id, { pageSize: 10 })) got.push(c.customerId);
    assert.equal(new Set(got).size, got.length, "no customer twice");
    for (const id of truth) assert.ok(got.includes(id), `${id} was lost`);
  } finally {
    await drift({});
  }
});

test("drift: sync never calls an existing customer removed, reports skipped changes, and the next sync is exact", async () => {
  const reseller = mock.resellers[5];
  const query = { pageSize: 10, includeTenants: true };
  const base = await runSync(reseller.id, query);
  const mutated = await post("/__mock/mutate", { seed: 9, add: 0, remove: 0, change: 12, under: reseller.id });
  await drift({ insert: 1, remove: 2, change: 1 });
  let during;
  try {
    during = await runSync(reseller.id, { ...query, snapshot: base.snapshot });
  } finally {
    await drift({});
  }
  const truth = new Set(await truthIds(mock, reseller.id));
  const seen = during.changes.map((c) => c.customerId);
  assert.equal(new Set(seen).size, seen.length, "no customer reported twice");
  for (const id of idsOf(during.changes, "removed")) assert.ok(!truth.has(id), `${id} was called removed but exists`);
  // Changed before the sync: reported changed when listed or, if a removal pushed it past the
  // listing, when confirmed by ID.
  for (const id of mutated.changed) {
    if (truth.has(id)) assert.ok(idsOf(during.changes, "changed").includes(id), `change of ${id} missed`);
  }
  const { added, changed, removed, unchanged } = during.stats;
  assert.equal(changed + unchanged + removed, base.changes.length, "every customer of the snapshot accounted for once");
  const posts = (await mock.requests()).filter((r) => r.method === "POST");
  assert.ok(posts.length > 0, "skipped customers were confirmed by ID");
  assert.ok(added === 0, "customers inserted behind the listing are the next sync's");
  // Without drift the next sync lands exactly on the truth.
  const settle = await runSync(reseller.id, { ...query, snapshot: during.snapshot });
  const fresh = await runSync(reseller.id, query);
  assert.deepEqual(settle.snapshot, fresh.snapshot);
  assert.equal(fresh.stats.added, truth.size);
});

test("byPage: continuationToken resumes right after its page, same query enforced", async () => {
  const d = mock.distributors[1];
  const query = { pageSize: 25, includeContacts: true };
  const truth = await truthIds(mock, d.id);
  const pages = [];
  for await (const page of client.customers(d.id, query).byPage()) {
    pages.push(page);
    if (pages.length === 3) break;
  }
  assert.ok(pages.every((p) => typeof p.continuationToken === "string" && p.continuationToken.length > 20));
  const rest = [];
  for await (const c of client.customers(d.id, { ...query, continuationToken: pages[1].continuationToken })) rest.push(c.customerId);
  assert.deepEqual(rest, truth.slice(50), "resumed exactly after page 2");
  // Another query, another org, a damaged token, or page + token: INVALID_ARGUMENT at once.
  const token = pages[1].continuationToken;
  for (const [org, options] of [
    [d.id, { pageSize: 26, includeContacts: true, continuationToken: token }],
    [d.id, { pageSize: 25, continuationToken: token }],
    [mock.distributors[0].id, { ...query, continuationToken: token }],
    [d.id, { ...query, continuationToken: token.slice(0, -2) }],
    [d.id, { ...query, page: 2, continuationToken: token }],
  ]) {
    assert.throws(() => client.customers(org, options), (e) => e.code === "INVALID_ARGUMENT", JSON.stringify(options));
  }
  // customersByIds pages carry none.
  for await (const page of client.customersByIds([d.id], { pageSize: 25 }).byPage()) {
    assert.equal(page.continuationToken, undefined);
    break;
  }
});

test("byPage: a resume after an insert into a page already read does not hand out that page's last customer again", async () => {
  const reseller = mock.resellers[6];
  const query = { pageSize: 10 };
  let first;
  await drift({ insert: 1 }); // lands inside page 1 once it has been served
  try {
    for await (const page of client.customers(reseller.id, query).byPage()) {
      first = page;
      break;
    }
  } finally {
    await drift({});
  }
  const truth = await truthIds(mock, reseller.id);
  const last = first.items.at(-1).customerId;
  assert.equal(truth[10], last, "the insert pushed page 1's last customer onto page 2");
  const rest = [];
  for await (const c of client.customers(reseller.id, { ...query, continuationToken: first.continuationToken })) rest.push(c.customerId);
  assert.deepEqual(rest, truth.slice(11), "resumed after page 1 without repeating its last customer");
});

test("the emulator's --drift flag drifts from the start, like POST /__mock/drift", async () => {
  const drifting = await startMock(["--customers", "3000", "--drift", "1,0,0"]);
  try {
    const r = drifting.resellers[0];
    const get = async (page) => {
      const res = await fetch(`${drifting.url}/distis/organizations/details/${r.id}?pageSize=10&page=${page}`, {
        headers: { "X-Referer": "https://truth.example", Authorization: "Bearer dev-token" },
      });
      return (await res.json()).map((c) => c.customerId);
    };
    const [p1, p2] = [await get(1), await get(2)];
    assert.equal(p2[0], p1[9], "the insert after page 1 pushed its last customer onto page 2");
  } finally {
    await drifting.stop();
  }
});
