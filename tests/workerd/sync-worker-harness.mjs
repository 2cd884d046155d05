// examples/sync-worker in workerd (Miniflare: real local D1, Durable Objects with alarms,
// Queues) behind tests/workerd/sync-worker-limits.js, which counts every invocation against
// Cloudflare's Paid limits. Helpers to drive runs and to compare D1 with the emulator.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Miniflare } from "miniflare";

const EXAMPLE = new URL("../../examples/sync-worker/", import.meta.url);
export const ADMIN = "test-admin-token";
export const SECTIONS = "includeAddresses=true&includeContacts=true&includeCustomProperties=true&includeTenants=true&includeIndustries=true";

const PKG = process.env.BENCH_PKG ? new URL(`file://${process.env.BENCH_PKG}/`) : new URL("../../pkg/", import.meta.url);

/**
 * The built package as modules under `dir`, importable as "appxite-customers": its workerd entry
 * and every file that imports, followed from the entry (so a new module in the package needs no
 * change here).
 */
export function packageModules(dir) {
  const manifest = JSON.parse(readFileSync(new URL("package.json", PKG), "utf8"));
  const entry = manifest.exports["."].workerd;
  if (!entry) throw new Error("pkg/package.json has no workerd export");
  const out = [];
  const seen = new Set();
  const add = (file, path) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (file.endsWith(".wasm")) {
      out.push({ type: "CompiledWasm", path: `${dir}${path}`, contents: readFileSync(new URL(file, PKG)) });
      return;
    }
    const text = readFileSync(new URL(file, PKG), "utf8");
    out.push({ type: "ESModule", path: `${dir}${path}`, contents: text });
    for (const x of text.matchAll(/(?:import|export)\s[^"';]*?from\s*["'](\.\/[^"']+)["']|import\s*["'](\.\/[^"']+)["']/g)) {
      const name = (x[1] ?? x[2]).slice(2);
      add(name, name);
    }
  };
  add(entry.replace(/^\.\//, ""), "appxite-customers");
  return out;
}

/** The example's modules as wrangler would bundle them, the limits wrapper as the entry point. */
export function exampleModules() {
  const src = readdirSync(new URL("src/", EXAMPLE)).filter((f) => f.endsWith(".js"));
  return [
    { type: "ESModule", path: "harness.js", contents: readFileSync(new URL("sync-worker-limits.js", import.meta.url)) },
    ...src.map((f) => ({ type: "ESModule", path: `src/${f}`, contents: readFileSync(new URL(`src/${f}`, EXAMPLE)) })),
    { type: "Text", path: "schema.sql", contents: readFileSync(new URL("schema.sql", EXAMPLE), "utf8") },
    ...packageModules("src/"),
  ];
}

/**
 * A mirror of `orgs` against `mock`. `vars` override the example's variables; `queue: true`
 * binds the RUNS queue (the cron fans out through it); `options` are more of Miniflare's.
 */
export async function startMirror({ mock, orgs, vars = {}, queue = false, options = {} }) {
  const mf = new Miniflare({
    modules: exampleModules(),
    compatibilityDate: "2025-09-01",
    d1Databases: { DB: `mirror-${process.pid}-${Math.random().toString(36).slice(2)}` },
    durableObjects: { ORG_MIRROR: { className: "OrgMirror", useSQLite: true } },
    ...(queue ? { queueProducers: { RUNS: "appxite-mirror-runs" }, queueConsumers: { "appxite-mirror-runs": { maxBatchTimeout: 0, maxBatchSize: 100 } } } : {}),
    bindings: {
      APPXITE_BASE_URL: mock.url,
      APPXITE_REFERER: "https://portal.example",
      APPXITE_TOKEN: "dev-token",
      APPXITE_ORG_IDS: orgs.join(","),
      ADMIN_TOKEN: ADMIN,
      STEP_PAUSE_MS: "0",
      RETRY_BASE_MS: "0",
      ...vars,
    },
    ...options,
  });
  await mf.ready;
  return mirrorClient(mf, mock);
}

export function mirrorClient(mf, mock) {
  const call = async (method, path, body, headers = {}) => {
    const res = await mf.dispatchFetch(`http://mirror${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: json };
  };
  const m = {
    mf,
    mock,
    get: (path) => call("GET", path),
    control: async (path, body) => (await call(body === undefined ? "GET" : "POST", `/__test/${path}`, body)).body,
    trigger: (org) => call("POST", org ? `/runs?org=${org}` : "/runs", undefined, { authorization: `Bearer ${ADMIN}` }),
    scheduled: async (cron = "*/15 * * * *") => (await mf.getWorker()).scheduled({ cron }),
    db: () => mf.getD1Database("DB"),
    /** The org's row of mirror_runs, read from D1 directly (not an invocation). */
    async state(org) {
      for (let attempt = 1; ; attempt++) {
        const db = await m.db();
        try {
          return await db.prepare("SELECT * FROM mirror_runs WHERE org = ?").bind(org).first();
        } catch (e) {
          if (/no such table/.test(e.message)) return null;
          // Miniflare's proxy connection to workerd closed while idle (seen after minutes of
          // the emulator mutating 250,000 customers): ask again.
          if (attempt < 3 && /fetch failed/.test(e.message)) continue;
          throw e;
        }
      }
    },
    /**
     * Waits until `org` has a complete run newer than `afterRun`. While it has none and no run
     * is in progress (a killed start, a failed run), it asks for one; while a run is in
     * progress it asks too now and then — a no-op that re-arms a lost alarm.
     */
    async complete(org, afterRun = 0, { triggerEvery = 40, maxPolls = 30_000, pollMs = 10 } = {}) {
      for (let i = 0; ; i++) {
        if (i === maxPolls) throw new Error(`${org}: no complete run after ${afterRun}: ${JSON.stringify(await m.state(org))} ${JSON.stringify(await m.control("paused"))}`);
        const s = await m.state(org);
        if (s && s.phase === "idle" && (s.last_complete_run ?? 0) > afterRun) return s;
        if (!s || s.phase === "idle" || i % triggerEvery === triggerEvery - 1) await m.trigger(org);
        await sleep(s && s.phase !== "idle" ? pollMs : 5);
      }
    },
    /** Starts a run of `org` and waits for it to complete; returns the org's mirror_runs row. */
    async run(org) {
      const before = (await m.state(org))?.last_complete_run ?? 0;
      await m.trigger(org);
      return m.complete(org, before);
    },
    stats: () => m.control("stats"),
    dispose: () => mf.dispose(),
  };
  return m;
}

/** The emulator's customers of `org` with every section (the mirror's query): id → JSON text. */
export async function truth(mock, org, { children = true } = {}) {
  const out = new Map();
  for (let page = 1; ; page++) {
    const res = await fetch(`${mock.url}/distis/organizations/details/${org}?${SECTIONS}&includeChildOrganizations=${children}&pageSize=10000&page=${page}`, {
      headers: { "X-Referer": "https://truth.example", Authorization: "Bearer dev-token" },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const list = await res.json();
    for (const c of list) out.set(c.customerId, JSON.stringify(c));
    if (list.length < 10000) return out;
  }
}

/** The mirror's rows of `org`: id → the stored record re-serialized, read in keyset chunks. */
export async function mirrored(m, org) {
  const db = await m.db();
  const out = new Map();
  let after = "";
  for (;;) {
    const { results } = await db.prepare("SELECT id, name, status, reseller_id, data FROM mirror_customers WHERE org = ? AND id > ? ORDER BY id LIMIT 5000").bind(org, after).all();
    for (const r of results) {
      const c = JSON.parse(r.data);
      assert.equal(r.name, c.customerName ?? null, `${r.id}: the name column is the record's`);
      assert.equal(r.status, c.customerStatus ?? null);
      out.set(r.id, JSON.stringify(c));
    }
    if (results.length < 5000) return out;
    after = results.at(-1).id;
  }
}

/** D1 holds exactly the API's customers of `org`, each record deep-equal to the emulator's. */
export async function assertMirrorEqualsApi(m, org, label, options = {}) {
  const [want, got] = await Promise.all([truth(options.api ?? m.mock, org, options), mirrored(m, org)]);
  const missing = [...want.keys()].filter((id) => !got.has(id));
  const stale = [...got.keys()].filter((id) => !want.has(id));
  assert.deepEqual({ missing: missing.slice(0, 5), stale: stale.slice(0, 5), counts: [missing.length, stale.length] }, { missing: [], stale: [], counts: [0, 0] }, `${label}: the same customers (${got.size} mirrored, ${want.size} in the API)`);
  for (const [id, json] of want) {
    if (got.get(id) !== json) assert.deepEqual(JSON.parse(got.get(id)), JSON.parse(json), `${label}: ${id} as the API has it`);
  }
  return want.size;
}

/** No invocation crossed a Paid limit; returns the stats. */
export async function assertWithinLimits(m, label) {
  const s = await m.stats();
  assert.deepEqual(s.violations, [], `${label}: Paid limits crossed`);
  return s;
}

export const mutate = async (mock, body) => (await fetch(`${mock.url}/__mock/mutate`, { method: "POST", body: JSON.stringify(body) })).json();
export const drift = async (mock, body) => (await fetch(`${mock.url}/__mock/drift`, { method: "POST", body: JSON.stringify(body) })).json();
