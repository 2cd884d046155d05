// One chaos scenario, run unchanged in Node, in headless Chromium and in workerd (its source
// is passed to each runtime as text, so it must stay a self-contained function).
export async function chaosScenario(AppxiteClient, cfg) {
  const faults = { retries: 0, reasons: {}, requests: 0 };
  const client = new AppxiteClient({
    baseUrl: cfg.url,
    referer: cfg.referer,
    token: "dev-token",
    retry: { maxRetries: 12, budget: 200, baseDelayMs: 10, maxDelayMs: 200 },
    timeoutMs: 10_000,
    onEvent: (e) => {
      if (e.type === "request") faults.requests++;
      if (e.type === "retry") {
        faults.retries++;
        faults.reasons[e.reason] = (faults.reasons[e.reason] ?? 0) + 1;
      }
    },
  });
  const items = [];
  for await (const c of client.customers(cfg.orgA, { pageSize: 1000, includeTenants: true })) items.push(c.customerId);
  const pages = [];
  for await (const p of client.customers(cfg.orgB, { pageSize: 1000, includeAddresses: true, includeContacts: true }).byPage()) {
    for (const c of p.items) pages.push(c.customerId);
  }
  const byIds = [];
  for await (const c of client.customersByIds(cfg.ids, { pageSize: 700, batchSize: 3 })) byIds.push(c.customerId);
  return { items, pages, byIds, faults };
}
