// The catch-all, run unchanged in Node, Chromium and workerd: a trap forced inside the wasm —
// at once, and inside a pending promise while another run waits on a slow server — is
// INTERNAL for the call that hit it and for the run waiting; the client made before it, and a
// new one, then list every customer. Returns what happened, for the runner to check.
export async function trapScenario(AppxiteClient, cfg) {
  const make = (url) => new AppxiteClient({ baseUrl: url, referer: cfg.referer, token: "dev-token" });
  const outcome = async (f) => {
    try {
      await f();
      return "resolved";
    } catch (e) {
      return `${e.name}:${e.code}:${e instanceof Error}`;
    }
  };
  const client = make(cfg.url);
  const count = async (c) => (await c.customers(cfg.org).toArray()).length;
  const out = { before: await count(client) };
  out.now = await outcome(() => AppxiteClient.__testTrap("now"));
  out.afterNow = await count(client);
  const waiting = outcome(() => make(cfg.slowUrl).customers(cfg.org).toArray());
  out.later = await outcome(() => AppxiteClient.__testTrap("later"));
  out.waiting = await waiting;
  out.afterLater = await count(client);
  out.fresh = await count(make(cfg.url));
  return out;
}

/** What every runtime must report. */
export function checkTrap(assert, label, r, customers) {
  const internal = "AppxiteError:INTERNAL:true";
  assert.deepEqual(r, { before: customers, now: internal, afterNow: customers, later: internal, waiting: internal, afterLater: customers, fresh: customers }, label);
}
