// client.sync and continuation tokens, run unchanged in workerd, Chromium, Firefox and WebKit:
// a first sync, /__mock/mutate, a second sync from the first snapshot, a resumed listing.
// `cfg`: { url, org, referer? } — `org` is a reseller no other test of the run changes.
// Returns plain data for the caller to check against the emulator's answer.
export async function syncScenario(AppxiteClient, cfg) {
  const client = new AppxiteClient({ baseUrl: cfg.url, token: "dev-token", referer: cfg.referer });
  const query = { pageSize: 20, includeTenants: true };
  const first = client.sync(cfg.org, query);
  const added = [];
  for await (const c of first) added.push(c.type === "added" && c.customer.customerId === c.customerId ? c.customerId : `bad ${c.type}`);
  const snapshot = first.snapshot;
  const res = await fetch(`${cfg.url}/__mock/mutate`, {
    method: "POST",
    body: JSON.stringify({ seed: 11, add: 2, remove: 1, change: 2, under: cfg.org }),
  });
  const mutation = await res.json();
  const second = client.sync(cfg.org, { ...query, snapshot });
  const changes = [];
  for await (const c of second) changes.push([c.type, c.customerId]);
  let wrongSnapshot = "no error";
  try {
    client.sync(cfg.org, { snapshot });
  } catch (e) {
    wrongSnapshot = e.code;
  }
  let token;
  const firstPage = [];
  for await (const p of client.customers(cfg.org, { pageSize: 20 }).byPage()) {
    token = p.continuationToken;
    firstPage.push(...p.items.map((c) => c.customerId));
    break;
  }
  const rest = [];
  for await (const c of client.customers(cfg.org, { pageSize: 20, continuationToken: token })) rest.push(c.customerId);
  return {
    added,
    snapshotBytes: snapshot?.length ?? null,
    mutation,
    changes,
    stats: second.stats,
    nextSnapshot: second.snapshot instanceof Uint8Array,
    wrongSnapshot,
    listed: [...firstPage, ...rest],
  };
}
