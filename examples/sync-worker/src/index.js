// A Cloudflare Worker that keeps one organization's customers in D1 (Cloudflare's SQLite):
// a Cron Trigger runs `client.sync` with the snapshot the last run stored, upserts what was
// added or changed, deletes what was removed, logs each run's changes, and stores the new
// snapshot — all in D1. Two read endpoints answer from D1, never from the API:
//   GET /customers?status=Active&q=acme&limit=100
//   GET /changes?since=2026-11-28T10:00:00.000Z
import { AppxiteClient } from "appxite-customers";
import SCHEMA from "../schema.sql";

const QUERY = {
  includeAddresses: true,
  includeContacts: true,
  includeCustomProperties: true,
  includeTenants: true,
  includeIndustries: true,
  pageSize: 1000,
};
/** Statements per D1 batch (one round trip, one transaction). */
const BATCH = 100;
/** Snapshot bytes per row: D1 caps a row at 2 MB. */
const PART = 1 << 20;
const STATUSES = ["New", "Active", "Suspended"];

async function ensureSchema(db) {
  const statements = SCHEMA.replace(/--.*$/gm, "")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);
  await db.batch(statements.map((s) => db.prepare(s)));
}

async function loadSnapshot(db, key) {
  const { results } = await db.prepare("SELECT bytes FROM snapshot_parts WHERE key = ? ORDER BY part").bind(key).all();
  if (results.length === 0) return undefined;
  const parts = results.map((r) => new Uint8Array(r.bytes));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function snapshotWrites(db, key, bytes) {
  const writes = [db.prepare("DELETE FROM snapshot_parts WHERE key = ?").bind(key)];
  for (let part = 0; part * PART < bytes.length; part++) {
    const slice = bytes.slice(part * PART, (part + 1) * PART).buffer; // D1 stores an ArrayBuffer as a BLOB
    writes.push(db.prepare("INSERT INTO snapshot_parts (key, part, bytes) VALUES (?, ?, ?)").bind(key, part, slice));
  }
  return writes;
}

/** One sync of `env.APPXITE_ORG_ID` into D1. Returns the run's stats. */
export async function syncOnce(env) {
  const db = env.DB;
  await ensureSchema(db);
  const key = env.APPXITE_ORG_ID.trim().toLowerCase();
  const started = new Date().toISOString();
  const { meta } = await db.prepare("INSERT INTO runs (started_at, status) VALUES (?, 'running')").bind(started).run();
  const runId = meta.last_row_id;
  const client = new AppxiteClient({ baseUrl: env.APPXITE_BASE_URL, referer: env.APPXITE_REFERER, token: env.APPXITE_TOKEN });
  let snapshot = await loadSnapshot(db, key);
  let run;
  try {
    run = client.sync(key, { ...QUERY, snapshot });
  } catch (e) {
    // A stored snapshot this SDK cannot use (another query, a newer format): sync afresh.
    if (e.code !== "INVALID_ARGUMENT" || snapshot === undefined) throw e;
    console.warn(`run ${runId}: stored snapshot not usable (${e.message}); syncing every customer`);
    snapshot = undefined;
    run = client.sync(key, QUERY);
  }
  let pending = [];
  let seq = 0;
  const flush = async () => {
    if (pending.length > 0) await db.batch(pending);
    pending = [];
  };
  const log = (type, id, name) =>
    db.prepare("INSERT INTO changes (run_id, seq, type, customer_id, name) VALUES (?, ?, ?, ?, ?)").bind(runId, seq++, type, id, name);
  try {
    for await (const change of run) {
      if (change.type === "removed") {
        // The name as it was, for the log, before the row goes.
        pending.push(
          db
            .prepare("INSERT INTO changes (run_id, seq, type, customer_id, name) VALUES (?, ?, 'removed', ?, (SELECT name FROM customers WHERE id = ?))")
            .bind(runId, seq++, change.customerId, change.customerId),
          db.prepare("DELETE FROM customers WHERE id = ?").bind(change.customerId),
        );
      } else {
        const c = change.customer;
        pending.push(
          db
            .prepare(
              `INSERT INTO customers (id, name, status, country, reseller_id, reseller_name, data, updated_run)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status, country = excluded.country,
                 reseller_id = excluded.reseller_id, reseller_name = excluded.reseller_name, data = excluded.data,
                 updated_run = excluded.updated_run`,
            )
            .bind(c.customerId, c.customerName ?? null, c.customerStatus ?? null, c.customerCountry ?? null, c.resellerId ?? null, c.resellerName ?? null, JSON.stringify(c), runId),
          log(change.type, c.customerId, c.customerName ?? null),
        );
      }
      if (pending.length >= BATCH) await flush();
    }
    // Without a snapshot every customer was written in this run: rows it did not write are gone.
    if (snapshot === undefined) pending.push(db.prepare("DELETE FROM customers WHERE updated_run <> ?").bind(runId));
    await flush();
    const s = run.stats;
    // The new snapshot and the run's completion commit together: a run that dies before this
    // leaves the old snapshot, and the next run redoes its (idempotent) writes.
    await db.batch([
      ...snapshotWrites(db, key, run.snapshot),
      db
        .prepare("UPDATE runs SET status = 'complete', finished_at = ?, added = ?, changed = ?, removed = ?, unchanged = ? WHERE id = ?")
        .bind(new Date().toISOString(), s.added, s.changed, s.removed, s.unchanged, runId),
    ]);
    console.log(`run ${runId}: +${s.added} added, ${s.changed} changed, ${s.removed} removed, ${s.unchanged} unchanged`);
    return s;
  } catch (e) {
    // SDK errors never carry the token; the message is safe to keep.
    await db.prepare("UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?").bind(new Date().toISOString(), `${e.code ?? e.name}: ${e.message}`, runId).run();
    console.error(`run ${runId} failed: ${e.code ?? e.name}: ${e.message}`);
    throw e;
  }
}

function json(status, body) {
  return Response.json(body, { status });
}

async function customers(db, params) {
  const status = params.get("status");
  if (status !== null && !STATUSES.includes(status)) return json(400, { error: `status must be one of ${STATUSES.join(", ")}` });
  const q = params.get("q");
  const limit = Math.min(Math.max(Number(params.get("limit") ?? 100) || 100, 1), 1000);
  const like = q === null ? null : `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
  const { results } = await db
    .prepare(
      `SELECT id, name, status, country, reseller_name AS resellerName FROM customers
       WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR name LIKE ?2 ESCAPE '\\' OR id = ?3)
       ORDER BY name, id LIMIT ?4`,
    )
    .bind(status, like, q, limit)
    .all();
  return json(200, { customers: results });
}

async function changes(db, params) {
  const since = params.get("since") ?? "";
  const { results } = await db
    .prepare(
      `SELECT r.id AS run, r.finished_at AS at, c.type, c.customer_id AS customerId, c.name
       FROM changes c JOIN runs r ON r.id = c.run_id
       WHERE r.status = 'complete' AND r.finished_at > ?
       ORDER BY r.id, c.seq LIMIT 10000`,
    )
    .bind(since)
    .all();
  return json(200, { changes: results });
}

export default {
  async scheduled(controller, env) {
    await syncOnce(env);
  },

  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method !== "GET") return json(405, { error: "GET only" });
    try {
      if (url.pathname === "/customers") return await customers(env.DB, url.searchParams);
      if (url.pathname === "/changes") return await changes(env.DB, url.searchParams);
    } catch (e) {
      // Before the first scheduled run there are no tables yet.
      if (String(e.message).includes("no such table")) return json(503, { error: "no sync has run yet" });
      throw e;
    }
    return json(404, { error: "GET /customers?status=&q=&limit= or /changes?since=" });
  },
};
