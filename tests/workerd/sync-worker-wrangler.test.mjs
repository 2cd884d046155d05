// examples/sync-worker started from its own wrangler.toml (parsed with smol-toml; Miniflare
// does not read toml): its D1 database, Durable Object class (SQLite, from the migrations),
// queue producer and consumer, module rules, cron and vars — only the vars pointing at the
// API and the organization overridden, the token given as the secret would be. One cron event,
// then GET /status until the run is done; D1 equals the API. The example runs unwrapped here.
// Runnable alone: node --test tests/workerd/sync-worker-wrangler.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "smol-toml";
import { Miniflare } from "miniflare";
import { startMock } from "../node/mock.mjs";
import { exampleModules, mirrorClient, assertMirrorEqualsApi } from "./sync-worker-harness.mjs";

const EXAMPLE = new URL("../../examples/sync-worker/", import.meta.url);
let mock;
let mf;

before(async () => {
  mock = await startMock(["--customers", "3000"]);
});
after(async () => {
  await mf?.dispose();
  await mock?.stop();
});

/** Miniflare's options for what wrangler.toml declares. */
function fromWrangler(cfg, overrides) {
  const sqlite = (cfg.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []);
  const textGlobs = (cfg.rules ?? []).filter((r) => r.type === "Text").flatMap((r) => r.globs);
  // The example's modules, the entry point first; a module's type from the rules (schema.sql: Text).
  const modules = exampleModules()
    .filter((mod) => mod.path !== "harness.js")
    .map((mod) => (mod.path.endsWith(".sql") ? { ...mod, type: textGlobs.includes("**/*.sql") ? "Text" : "ESModule" } : mod));
  const main = modules.findIndex((mod) => mod.path === cfg.main);
  assert.ok(main >= 0, `main = ${cfg.main} is one of the example's modules`);
  modules.unshift(...modules.splice(main, 1));
  return {
    modules,
    compatibilityDate: cfg.compatibility_date,
    d1Databases: Object.fromEntries(cfg.d1_databases.map((d) => [d.binding, d.database_id])),
    durableObjects: Object.fromEntries(cfg.durable_objects.bindings.map((b) => [b.name, { className: b.class_name, useSQLite: sqlite.includes(b.class_name) }])),
    queueProducers: Object.fromEntries((cfg.queues?.producers ?? []).map((p) => [p.binding, p.queue])),
    queueConsumers: Object.fromEntries(
      (cfg.queues?.consumers ?? []).map((c) => [c.queue, { maxBatchSize: c.max_batch_size, maxBatchTimeout: c.max_batch_timeout, maxRetries: c.max_retries }]),
    ),
    bindings: { ...cfg.vars, ...overrides },
  };
}

test("from wrangler.toml: one cron event, /status polled until the run is done, D1 equals the API", async () => {
  const cfg = parse(readFileSync(new URL("wrangler.toml", EXAMPLE), "utf8"));
  assert.equal(cfg.durable_objects.bindings[0].class_name, "OrgMirror");
  assert.deepEqual(cfg.migrations[0].new_sqlite_classes, ["OrgMirror"]);
  assert.equal(cfg.queues.consumers[0].queue, cfg.queues.producers[0].queue);
  assert.equal(cfg.vars.APPXITE_TOKEN, undefined, "the token is a secret, not a var");
  const org = mock.distributors[0];
  mf = new Miniflare(
    fromWrangler(cfg, {
      APPXITE_BASE_URL: mock.url,
      APPXITE_ORG_IDS: org.id,
      APPXITE_TOKEN: "dev-token", // `wrangler secret put APPXITE_TOKEN`
    }),
  );
  await mf.ready;
  const m = mirrorClient(mf, mock);
  const outcome = await m.scheduled(cfg.triggers.crons[0]);
  assert.equal(outcome.outcome, "ok", JSON.stringify(outcome));
  let status;
  let polls = 0;
  for (;;) {
    const res = await m.get("/status");
    assert.equal(res.status, 200, res.text);
    status = res.body.orgs[0];
    if (status.lastComplete !== null && status.phase === "idle") break;
    polls += 1;
    await sleep(50);
  }
  assert.ok(polls > 0, "the run went on after the cron returned (queue → Durable Object → alarms)");
  assert.equal(status.org, org.id);
  assert.equal(status.lastComplete.added, org.customerCount);
  assert.equal(status.customers, org.customerCount);
  assert.equal(status.lastRun.status, "complete");
  await assertMirrorEqualsApi(m, org.id, "from wrangler.toml");
  const page = await m.get("/customers?limit=5");
  assert.equal(page.body.customers.length, 5);
});
