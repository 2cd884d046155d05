// What every runtime's run of sync-scenario.js must show (tests/shared/sync-scenario.js).
import { truthIds } from "../node/mock.mjs";

export async function checkSync(assert, where, r, mock, org, before) {
  const sorted = (a) => [...a].sort();
  assert.deepEqual(r.added, before, `${where}: the first sync adds every customer in order`);
  assert.equal(r.snapshotBytes, 32 + 24 * before.length, `${where}: 24 bytes a customer`);
  const of = (type) => sorted(r.changes.filter((c) => c[0] === type).map((c) => c[1]));
  assert.deepEqual(of("added"), sorted(r.mutation.added), where);
  assert.deepEqual(of("changed"), sorted(r.mutation.changed), where);
  assert.deepEqual(of("removed"), sorted(r.mutation.removed), where);
  assert.equal(r.changes.at(-1)[0], "removed", `${where}: removed comes last`);
  assert.deepEqual(r.stats, { added: 2, changed: 2, removed: 1, unchanged: before.length - 3 }, where);
  assert.equal(r.nextSnapshot, true, where);
  assert.equal(r.wrongSnapshot, "INVALID_ARGUMENT", `${where}: a snapshot of another query`);
  assert.deepEqual(r.listed, await truthIds(mock, org), `${where}: page 1 + the resumed rest is the whole listing`);
}
