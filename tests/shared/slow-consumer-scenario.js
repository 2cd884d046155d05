// Hardening, run unchanged in Node, headless Chromium and workerd: a consumer slower than
// timeoutMs per page, a token function that never settles, and a fetch that ignores its
// signal. Each must end — with every customer once, or with TIMEOUT / ABORTED in time.
export async function slowConsumerScenario(AppxiteClient, cfg) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const results = {};
  const base = { baseUrl: cfg.url, referer: cfg.referer, token: "dev-token" };
  // 300 customers a page, ~4 ms of work each: ~1.2 s per page against timeoutMs 1 s.
  {
    const ids = [];
    const t0 = Date.now();
    for await (const c of new AppxiteClient({ ...base, timeoutMs: 1000 }).customers(cfg.org, { pageSize: 300 })) {
      ids.push(c.customerId);
      await sleep(4);
    }
    results.slowConsumer = { count: ids.length, unique: new Set(ids).size, ms: Date.now() - t0 };
  }
  async function outcome(promise, abort) {
    const t0 = Date.now();
    let settledAt = t0;
    try {
      await promise;
      return { error: "resolved" };
    } catch (e) {
      settledAt = Date.now();
      return { code: e.code, ms: settledAt - (abort ?? t0) };
    }
  }
  const never = () => new Promise(() => {});
  results.stuckToken = await outcome(
    new AppxiteClient({ ...base, token: never, retry: false }).customers(cfg.org, { timeoutMs: 300 }).toArray(),
  );
  {
    const controller = new AbortController();
    const run = new AppxiteClient({ ...base, retry: false, fetch: never }).customers(cfg.org, { signal: controller.signal }).toArray();
    run.catch(() => {});
    await sleep(100);
    const abortAt = Date.now();
    controller.abort();
    results.deafFetch = await outcome(run, abortAt);
  }
  return results;
}
