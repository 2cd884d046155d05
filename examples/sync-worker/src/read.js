// The read API: answers from D1 only, never from Appxite's API. Every parameter is checked;
// a bad one is a 400 with {"error":{"code","message"}}.
import { configuredOrgs, orgId } from "./config.js";

const STATUSES = new Map(["New", "Active", "Suspended"].map((s) => [s.toLowerCase(), s]));
const MAX_QUERY_CHARS = 1000;
const EXPORT_CHUNK = 1000;

export class BadRequest extends Error {
  constructor(code, message, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function errorResponse(status, code, message, headers = {}) {
  return Response.json({ error: { code, message } }, { status, headers });
}

/** The query's parameters, each allowed once and only those in `allowed`. */
function params(url, allowed) {
  const out = {};
  for (const [name, value] of url.searchParams) {
    if (!allowed.includes(name)) throw new BadRequest("UNKNOWN_PARAMETER", `unknown parameter '${name.slice(0, 40)}'; allowed: ${allowed.join(", ")}`);
    if (name in out) throw new BadRequest("REPEATED_PARAMETER", `'${name}' given more than once`);
    out[name] = value;
  }
  return out;
}

function limitParam(value, fallback) {
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) {
    throw new BadRequest("BAD_LIMIT", "limit must be a whole number from 1 to 1000");
  }
  return Number(value);
}

function orgParam(value) {
  if (value === undefined) return null;
  const id = orgId(value);
  if (id === null) throw new BadRequest("BAD_ORG", "org must be an organization ID (a UUID)");
  return id;
}

const encodeCursor = (value) => btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A keyset cursor: [org, id] for customers, a change's seq for changes. */
function decodeCursor(text, check) {
  if (text === undefined) return null;
  let value;
  try {
    if (text.length > 600 || !/^[A-Za-z0-9_-]+$/.test(text)) throw new Error();
    value = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    value = undefined;
  }
  if (value === undefined || !check(value)) throw new BadRequest("BAD_CURSOR", "cursor is not one this API gave out");
  return value;
}

const isKey = (v) => Array.isArray(v) && v.length === 2 && v.every((s) => typeof s === "string" && s.length <= 200);

/** GET /customers?org=&status=&q=&cursor=&limit= — keyset-paginated by (org, id). */
async function customers(db, url) {
  const p = params(url, ["org", "status", "q", "cursor", "limit"]);
  const org = orgParam(p.org);
  let status = null;
  if (p.status !== undefined) {
    status = STATUSES.get(p.status.toLowerCase()) ?? null;
    if (status === null) throw new BadRequest("BAD_STATUS", "status must be New, Active or Suspended");
  }
  let q = null;
  if (p.q !== undefined) {
    if (p.q.length === 0 || p.q.length > MAX_QUERY_CHARS) throw new BadRequest("BAD_QUERY", `q must be 1 to ${MAX_QUERY_CHARS} characters`);
    q = p.q;
  }
  const after = decodeCursor(p.cursor, isKey);
  const limit = limitParam(p.limit, 100);
  // instr(), not LIKE: D1 caps a LIKE pattern at 50 bytes, and `%`/`_` are plain characters here.
  // lower() folds ASCII letters only (SQLite without ICU).
  const { results } = await db
    .prepare(
      `SELECT org, id, name, status, country, reseller_id AS resellerId, reseller_name AS resellerName, updated_run AS updatedRun, updated_at AS updatedAt
       FROM mirror_customers
       WHERE (?1 IS NULL OR org = ?1) AND (?2 IS NULL OR status = ?2)
         AND (?3 IS NULL OR instr(lower(name), lower(?3)) > 0 OR id = lower(?3))
         AND (?4 IS NULL OR (org, id) > (?4, ?5))
       ORDER BY org, id LIMIT ?6`,
    )
    .bind(org, status, q, after?.[0] ?? null, after?.[1] ?? null, limit + 1)
    .all();
  const more = results.length > limit;
  const page = more ? results.slice(0, limit) : results;
  const last = page.at(-1);
  return Response.json({ customers: page, next: more ? encodeCursor([last.org, last.id]) : null });
}

/** GET /customers/{id}?org= — the record as stored. */
async function customer(db, url, rawId) {
  const p = params(url, ["org"]);
  const org = orgParam(p.org);
  let id;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    throw new BadRequest("BAD_ID", "the customer ID is not valid percent-encoding");
  }
  if (id.length === 0 || id.length > 200 || /[\u0000-\u001f]/.test(id)) throw new BadRequest("BAD_ID", "the customer ID must be 1 to 200 printable characters");
  const row = await db
    .prepare("SELECT org, id, data, updated_run AS updatedRun, updated_at AS updatedAt FROM mirror_customers WHERE id = ?1 AND (?2 IS NULL OR org = ?2) ORDER BY org LIMIT 1")
    .bind(id, org)
    .first();
  if (!row) return errorResponse(404, "NOT_FOUND", "no such customer in the mirror");
  // The stored JSON goes out as it is, not parsed and serialized again.
  const head = JSON.stringify({ org: row.org, id: row.id, updatedRun: row.updatedRun, updatedAt: row.updatedAt });
  return new Response(`${head.slice(0, -1)},"customer":${row.data}}`, { headers: { "content-type": "application/json; charset=utf-8" } });
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** GET /changes?since=<run id | ISO-8601>&org=&cursor=&limit= — in log order (seq). */
async function changes(db, url) {
  const p = params(url, ["since", "org", "cursor", "limit"]);
  const org = orgParam(p.org);
  let sinceRun = null;
  let sinceAt = null;
  if (p.since !== undefined) {
    if (/^[0-9]{1,15}$/.test(p.since)) sinceRun = Number(p.since);
    else if (ISO.test(p.since) && Number.isFinite(Date.parse(p.since)) && Number(p.since.slice(0, 4)) >= 1970) {
      sinceAt = new Date(Date.parse(p.since)).toISOString();
    } else throw new BadRequest("BAD_SINCE", "since must be a run id (a whole number) or an ISO-8601 instant, e.g. 2026-11-28T10:00:00Z");
  }
  const after = decodeCursor(p.cursor, (v) => Number.isSafeInteger(v) && v >= 0);
  const limit = limitParam(p.limit, 1000);
  const { results } = await db
    .prepare(
      `SELECT seq, run_id AS run, at, org, type, customer_id AS customerId, name, detail FROM mirror_changes
       WHERE (?1 IS NULL OR org = ?1) AND (?2 IS NULL OR run_id > ?2) AND (?3 IS NULL OR at > ?3) AND seq > ?4
       ORDER BY seq LIMIT ?5`,
    )
    .bind(org, sinceRun, sinceAt, after ?? 0, limit + 1)
    .all();
  const more = results.length > limit;
  const page = more ? results.slice(0, limit) : results;
  return Response.json({ changes: page, next: more ? encodeCursor(page.at(-1).seq) : null });
}

/** GET /status — per organization: the run in progress, the last complete one, lag, counts. */
async function status(db, url, env) {
  const p = params(url, ["org"]);
  const org = orgParam(p.org);
  const { results } = await db
    .prepare(
      `SELECT r.*, (SELECT status FROM mirror_run_log l WHERE l.org = r.org ORDER BY id DESC LIMIT 1) AS last_status,
              (SELECT error FROM mirror_run_log l WHERE l.org = r.org ORDER BY id DESC LIMIT 1) AS last_error
       FROM mirror_runs r WHERE ?1 IS NULL OR r.org = ?1 ORDER BY r.org`,
    )
    .bind(org)
    .all();
  const now = Date.now();
  const configured = configuredOrgs(env);
  const byOrg = new Map(results.map((r) => [r.org, r]));
  const orgs = [...new Set([...configured.filter((o) => org === null || o === org), ...byOrg.keys()])].sort().map((id) => {
    const r = byOrg.get(id);
    if (!r) return { org: id, configured: true, phase: "never", running: null, lastComplete: null, lagSeconds: null, customers: 0 };
    return {
      org: id,
      configured: configured.includes(id),
      phase: r.phase,
      running:
        r.phase === "idle"
          ? null
          : {
              run: r.run_id,
              trigger: r.trigger,
              startedAt: r.started_at,
              lastStepAt: r.step_at,
              steps: r.steps,
              pages: r.pages,
              listed: r.listed,
              confirmed: r.confirmed,
              removed: r.removed,
              failures: r.failures,
              error: r.error,
            },
      lastComplete:
        r.last_complete_run === null
          ? null
          : { run: r.last_complete_run, startedAt: r.last_complete_started_at, finishedAt: r.last_complete_at, added: r.last_added, changed: r.last_changed, removed: r.last_removed },
      lastRun: { run: r.run_id, status: r.last_status, error: r.last_status === "failed" ? r.last_error : null },
      // The mirror is the API as of the last complete run's start (at the latest).
      lagSeconds: r.last_complete_started_at === null ? null : Math.round((now - Date.parse(r.last_complete_started_at)) / 1000),
      customers: r.customers,
      skippedTriggers: r.skipped_triggers,
      lastSkippedAt: r.last_skipped_at,
    };
  });
  return Response.json({ now: new Date(now).toISOString(), orgs });
}

/** GET /export?org= — every mirrored customer as stored, one per line, read in keyset chunks. */
function exportAll(db, url) {
  const p = params(url, ["org"]);
  const org = orgParam(p.org);
  let after = ["", ""];
  let done = false;
  const encoder = new TextEncoder();
  const body = new ReadableStream(
    {
      async pull(controller) {
        if (done) return;
        try {
          const { results } = await db
            .prepare("SELECT org, id, data FROM mirror_customers WHERE (?1 IS NULL OR org = ?1) AND (org, id) > (?2, ?3) ORDER BY org, id LIMIT ?4")
            .bind(org, after[0], after[1], EXPORT_CHUNK)
            .all();
          if (results.length > 0) {
            const last = results.at(-1);
            after = [last.org, last.id];
            controller.enqueue(encoder.encode(results.map((r) => `${r.data}\n`).join("")));
          }
          if (results.length < EXPORT_CHUNK) {
            done = true;
            controller.close();
          }
        } catch (e) {
          console.error("export failed:", e);
          done = true;
          controller.error(new Error("export failed"));
        }
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: { "content-type": "application/x-ndjson; charset=utf-8" } });
}

export async function read(request, env, url) {
  const db = env.DB;
  const path = url.pathname;
  if (path === "/customers") return customers(db, url);
  if (path.startsWith("/customers/") && path.length > "/customers/".length && !path.slice(11).includes("/")) return customer(db, url, path.slice(11));
  if (path === "/changes") return changes(db, url);
  if (path === "/status") return status(db, url, env);
  if (path === "/export") return exportAll(db, url);
  return null;
}
