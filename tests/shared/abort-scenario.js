// Cancellation, run unchanged in Node and in headless Chromium: abort during the fetch,
// during the body stream, during a retry wait and between pages. Each must reject the
// pending next() with ABORTED, with the signal's reason as `cause`, within 100 ms.
export async function abortScenario(AppxiteClient, cfg) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const results = {};
  // A consumer iterates as fast as it can; the signal fires after `abortAfter` ms, while the
  // consumer is waiting on the fetch, the body or a retry wait.
  async function measure(name, url, query, abortAfter) {
    const client = new AppxiteClient({ baseUrl: url, referer: cfg.referer, token: "dev-token", retry: { maxRetries: 5 } });
    const controller = new AbortController();
    const it = client.customers(cfg.org, { ...query, signal: controller.signal })[Symbol.asyncIterator]();
    let received = 0;
    const consumer = (async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        received++;
      }
    })();
    consumer.catch(() => {});
    await sleep(abortAfter);
    const reason = new Error(`cancel ${name}`);
    const t0 = performance.now();
    controller.abort(reason);
    try {
      await consumer;
      results[name] = { error: `finished instead of rejecting, after ${received}` };
    } catch (e) {
      results[name] = { code: e.code, causeIsReason: e.cause === reason, ms: performance.now() - t0, received };
    }
  }
  // The emulator waits 2 s before the headers.
  await measure("during fetch", cfg.slowUrl, { pageSize: 100 }, 300);
  // 10,000 customers with every section (~20 MB) at 2 MB/s: still streaming after 300 ms.
  await measure("during body", cfg.narrowUrl, { pageSize: 10000, includeTenants: true, includeAddresses: true, includeContacts: true }, 300);
  // One request per second allowed: the second page gets 429 + Retry-After: 1, then a wait.
  await measure("during retry wait", cfg.limitedUrl, { pageSize: 5 }, 300);
  // Aborted while the caller is between pages: the next call rejects at once.
  {
    const client = new AppxiteClient({ baseUrl: cfg.url, referer: cfg.referer, token: "dev-token" });
    const controller = new AbortController();
    const it = client.customers(cfg.org, { pageSize: 5, signal: controller.signal })[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) await it.next();
    const reason = new Error("cancel between pages");
    controller.abort(reason);
    const t0 = performance.now();
    try {
      await it.next();
      results["between pages"] = { error: "resolved instead of rejecting" };
    } catch (e) {
      results["between pages"] = { code: e.code, causeIsReason: e.cause === reason, ms: performance.now() - t0 };
    }
  }
  return results;
}
