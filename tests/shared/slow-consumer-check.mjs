/** What the slow-consumer scenario must show in every runtime. */
export function checkSlowConsumer(assert, label, results, expectedCount) {
  console.log(`hardening ${label}: ${JSON.stringify(results)}`);
  assert.equal(results.slowConsumer.count, expectedCount, "every customer arrived");
  assert.equal(results.slowConsumer.unique, expectedCount, "none twice");
  assert.equal(results.stuckToken.code, "TIMEOUT");
  assert.ok(results.stuckToken.ms < 400, `stuck token: TIMEOUT after ${results.stuckToken.ms} ms`);
  assert.equal(results.deafFetch.code, "ABORTED");
  assert.ok(results.deafFetch.ms < 100, `deaf fetch: ABORTED ${results.deafFetch.ms} ms after the abort`);
}
