import { startMock } from "../node/mock.mjs";

/** The emulators the abort scenario needs: plain, slow headers, narrow bandwidth, rate limited. */
export async function abortSetup(extra = []) {
  const mocks = {
    plain: await startMock([...extra]),
    slow: await startMock(["--latency-ms", "2000"]),
    narrow: await startMock(["--bandwidth", "2000000", "--customers", "25000"]),
    limited: await startMock(["--rate-limit", "1"]),
  };
  const cfg = {
    url: mocks.plain.url,
    slowUrl: mocks.slow.url,
    narrowUrl: mocks.narrow.url,
    limitedUrl: mocks.limited.url,
    // The first distributor is generated first, so it has the same ID in every data set.
    org: mocks.narrow.distributors[0].id,
  };
  return { mocks, cfg, stop: () => Promise.all(Object.values(mocks).map((m) => m.stop())) };
}

export async function checkAbort(assert, label, results, mocks) {
  console.log(`abort ${label}: ${JSON.stringify(results)}`);
  for (const [name, r] of Object.entries(results)) {
    assert.equal(r.code, "ABORTED", `${name}: ${JSON.stringify(r)}`);
    assert.ok(r.causeIsReason, `${name}: cause is the signal's reason`);
    assert.ok(r.ms < 100, `${name}: rejected after ${r.ms} ms`);
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const [name, m] of Object.entries(mocks)) {
    assert.equal((await m.stats()).inFlight, 0, `${name}: a request is still open on the server`);
  }
}
