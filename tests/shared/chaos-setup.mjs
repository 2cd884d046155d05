// Two emulators with the same seed: a chaotic one and a clean one, each other's ground truth.
import { startMock, truthIds } from "../node/mock.mjs";

export const CHAOS_ARGS = ["--customers", "44000", "--seed", "11"];

export async function chaosSetup() {
  const chaotic = await startMock([...CHAOS_ARGS, "--chaos", "0.3", "--www", "www", "--www-port", "0"]);
  const clean = await startMock(CHAOS_ARGS);
  const [orgA, orgB] = clean.distributors;
  const platform = clean.distributors[2].platformUrl;
  const ids = clean.resellers.filter((r) => r.platformUrl === platform).slice(0, 20).map((r) => r.id);
  const truth = {
    items: await truthIds(clean, orgA.id),
    pages: await truthIds(clean, orgB.id),
    byIds: (await Promise.all(ids.map((id) => truthIds(clean, id)))).flat(),
  };
  return { chaotic, clean, cfg: { url: chaotic.url, orgA: orgA.id, orgB: orgB.id, ids }, truth };
}

/** Assert exact delivery and print the fault counts of the run. */
export async function checkChaos(assert, label, result, truth, chaotic, before) {
  for (const k of ["items", "pages", "byIds"]) {
    assert.equal(new Set(result[k]).size, result[k].length, `${label} ${k}: duplicates`);
    assert.deepEqual(result[k], truth[k], `${label} ${k}: delivered IDs differ from the ground truth`);
  }
  const after = await chaotic.stats();
  const faults = {};
  for (const [kind, n] of Object.entries(after.faults)) faults[kind] = n - (before.faults[kind] ?? 0);
  const delivered = result.items.length + result.pages.length + result.byIds.length;
  console.log(
    `chaos ${label}: ${after.requests - before.requests} requests, faults ${JSON.stringify(faults)}, ` +
      `${result.faults.retries} retries ${JSON.stringify(result.faults.reasons)}, ${delivered} customers delivered, 0 duplicates, 0 lost`,
  );
  assert.ok(Object.values(faults).reduce((a, b) => a + b, 0) > 10, "faults were injected");
  assert.ok(delivered >= 10_000);
}
