// OrgMirror: one Durable Object per mirrored organization, the single driver of its runs.
//
// A run is a sequence of steps, each its own invocation (a DO alarm: durable, retried). A step
// bumps the organization's lease in D1, then does a bounded amount of work — a few pages of the
// listing, or one round of confirming removal candidates — and commits it in D1 batches whose
// every statement is conditioned on that lease. The run's cursor (the SDK's continuationToken)
// commits in the same batch as the page it follows, so a step killed anywhere committed the page
// and its cursor, or nothing; the retry redoes the rest, idempotently.
import { DurableObject } from "cloudflare:workers";
import { AppxiteClient } from "appxite-customers";
import { config, orgId } from "./config.js";
import { ensureSchema, fence, Fenced, isFenceError, iso, LEASE_HOLDS } from "./db.js";

/** Bytes of JSON per bound parameter: D1 caps a string at 2,000,000 bytes. */
const MAX_PARAM_BYTES = 1_500_000;
/** A step stops taking pages once it has used this many D1 queries (the limit is 1,000). */
const QUERY_BUDGET = 600;
/** Errors a retry will not cure: the run fails at once. */
const PERMANENT = new Set(["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "MIXED_PLATFORM", "BAD_REQUEST", "MISSING_REFERER"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** What /status and the run log may show of an error: the SDK's (scrubbed) message, or only a kind. */
export function describeError(e) {
  if (e?.name === "AppxiteError") return `${e.code}: ${e.message}`.slice(0, 500);
  if (e?.name === "ConfigError") return `configuration: ${e.message}`;
  return `${e?.name ?? "Error"} (details in the Worker's logs)`;
}

/** UTF-8 length of a string without encoding it when it is ASCII. */
function utf8Length(s) {
  if (!/[^\x00-\x7f]/.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3; // a surrogate pair counts 6 for 4: an upper bound
  }
  return n;
}

/** Customers as JSON arrays of at most MAX_PARAM_BYTES each (one bound parameter per array). */
function jsonChunks(customers) {
  const chunks = [];
  let parts = [];
  let bytes = 2;
  const skipped = [];
  for (const c of customers) {
    const s = JSON.stringify(c);
    const n = utf8Length(s);
    if (n + 2 > MAX_PARAM_BYTES) {
      // Larger than a D1 row may be: kept as it was (still counted as seen), logged.
      skipped.push(c.customerId);
      continue;
    }
    if (parts.length > 0 && bytes + n + 1 > MAX_PARAM_BYTES) {
      chunks.push(`[${parts.join(",")}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(s);
    bytes += n + 1;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(",")}]`);
  if (skipped.length > 0) console.error(`customers too large for a D1 row, not updated: ${skipped.join(", ")}`);
  return chunks;
}

export class OrgMirror extends DurableObject {
  /**
   * The fetch the SDK's requests go through (each call is one subrequest). A method so that a
   * subclass — the test harness counts subrequests per invocation — can observe it.
   */
  apiFetch(input, init) {
    return fetch(input, init);
  }

  client() {
    const env = this.env;
    return new AppxiteClient({
      baseUrl: env.APPXITE_BASE_URL,
      referer: env.APPXITE_REFERER,
      token: env.APPXITE_TOKEN,
      ...(env.APPXITE_SUBSCRIPTION_KEY ? { subscriptionKey: env.APPXITE_SUBSCRIPTION_KEY } : {}),
      fetch: (input, init) => this.apiFetch(input, init),
      timeoutMs: 30_000,
      deadlineMs: 600_000, // a step, whatever it waits for, ends well inside an alarm's 15 minutes
    });
  }

  /**
   * Starts a run of `org` unless one is in progress (then the trigger is only counted, and the
   * run's alarm re-armed if it was lost). RPC, called by the cron, the queue consumer or POST /runs.
   */
  async start(org, trigger = "manual") {
    const id = orgId(org);
    if (id === null) throw new Error("not an organization ID");
    const known = await this.ctx.storage.get("org");
    if (known === undefined) await this.ctx.storage.put("org", id);
    else if (known !== id) throw new Error("this object mirrors another organization");
    const db = this.env.DB;
    await ensureSchema(db);
    const now = iso();
    const results = await db.batch([
      db.prepare("INSERT OR IGNORE INTO mirror_runs (org) VALUES (?1)").bind(id),
      db.prepare("UPDATE mirror_runs SET skipped_triggers = skipped_triggers + 1, last_skipped_at = ?2 WHERE org = ?1 AND phase <> 'idle'").bind(id, now),
      db
        .prepare("INSERT INTO mirror_run_log (org, trigger, started_at, status) SELECT ?1, ?2, ?3, 'running' WHERE (SELECT phase FROM mirror_runs WHERE org = ?1) = 'idle'")
        .bind(id, trigger, now),
      db
        .prepare(
          `UPDATE mirror_runs SET phase = 'listing', run_id = (SELECT MAX(id) FROM mirror_run_log WHERE org = ?1), lease = lease + 1,
             cursor = NULL, pages = 0, listed = 0, confirmed = 0, removed = 0, steps = 0, failures = 0, error = NULL,
             started_at = ?2, step_at = NULL, trigger = ?3
           WHERE org = ?1 AND phase = 'idle'`,
        )
        .bind(id, now, trigger),
      // What earlier runs saw is of no use to this one.
      db.prepare("DELETE FROM mirror_seen WHERE org = ?1 AND run_id < (SELECT run_id FROM mirror_runs WHERE org = ?1)").bind(id),
      db.prepare("SELECT phase, run_id FROM mirror_runs WHERE org = ?1").bind(id),
    ]);
    const started = results[2].meta.changes === 1;
    const state = results[5].results[0];
    let resumed = false;
    if (started) await this.ctx.storage.setAlarm(Date.now());
    else if (state.phase !== "idle" && (await this.ctx.storage.getAlarm()) === null) {
      // A run whose alarm is gone (its retries ran out): the trigger is its watchdog.
      await this.ctx.storage.setAlarm(Date.now());
      resumed = true;
    }
    return { org: id, started, resumed, run: state.run_id, phase: state.phase };
  }

  async alarm() {
    const org = await this.ctx.storage.get("org");
    if (org === undefined) return;
    const step = { org, lease: null, queries: 0 };
    let delay;
    try {
      const cfg = config(this.env);
      step.cfg = cfg;
      delay = await this.step(step);
    } catch (e) {
      delay = await this.stepFailed(step, e);
    }
    if (delay !== null) await this.ctx.storage.setAlarm(Date.now() + delay);
  }

  /** One step of the run in progress. Returns the pause before the next step, or null when the run is over. */
  async step(step) {
    const { org, cfg } = step;
    const db = this.env.DB;
    await ensureSchema(db);
    const current = await db.prepare("SELECT lease, phase FROM mirror_runs WHERE org = ?1").bind(org).first();
    step.queries += 1;
    if (!current || current.phase === "idle") return null;
    // The step's lease: conditional on the lease it read, so a zombie's late bump changes nothing.
    const bumped = await db
      .prepare("UPDATE mirror_runs SET lease = lease + 1, steps = steps + 1, step_at = ?3 WHERE org = ?1 AND lease = ?2 AND phase <> 'idle' RETURNING *")
      .bind(org, current.lease, iso())
      .first();
    step.queries += 1;
    if (!bumped) return cfg.stepPauseMs; // another step took the lease meanwhile
    step.lease = bumped.lease;
    step.run = bumped;
    if (bumped.phase === "listing") {
      await this.list(step);
      return cfg.stepPauseMs;
    }
    return (await this.confirm(step)) ? null : cfg.stepPauseMs;
  }

  async batch(step, statements) {
    step.queries += statements.length;
    try {
      return await this.env.DB.batch(statements);
    } catch (e) {
      if (isFenceError(e)) throw new Fenced();
      throw e;
    }
  }

  /** Pages of the listing, from the stored cursor, each committed with the cursor after it. */
  async list(step) {
    const { org, cfg, run } = step;
    const query = { ...cfg.sections, includeChildOrganizations: cfg.includeChildOrganizations, pageSize: cfg.pageSize };
    const client = this.client();
    let cursor = run.cursor;
    for (;;) {
      let pages = 0;
      try {
        const pager = client.customers(org, cursor ? { ...query, continuationToken: cursor } : query);
        for await (const page of pager.byPage()) {
          const last = page.items.length < cfg.pageSize;
          await this.writePage(step, page, last);
          pages += 1;
          if (last || pages >= cfg.pagesPerStep || step.queries > QUERY_BUDGET) return;
        }
      } catch (e) {
        // A cursor of another query (PAGE_SIZE or INCLUDE changed during the run): the run goes
        // on from the first page; what it saw so far stays seen.
        if (!(e?.code === "INVALID_ARGUMENT" && cursor && pages === 0)) throw e;
        console.warn(`${org}: the stored cursor does not fit the configuration; listing again from the first page`);
        await this.batch(step, [
          fence(this.env.DB, org, step.lease),
          this.env.DB.prepare("UPDATE mirror_runs SET cursor = NULL WHERE org = ?1 AND lease = ?2").bind(org, step.lease),
        ]);
        cursor = null;
        continue;
      }
      // The listing ended without a short page: the last page was full and the next one empty.
      await this.batch(step, [
        fence(this.env.DB, org, step.lease),
        this.env.DB.prepare("UPDATE mirror_runs SET phase = 'confirming' WHERE org = ?1 AND lease = ?2").bind(org, step.lease),
      ]);
      return;
    }
  }

  /** Upserts of `customers` (one statement per ≤1.5 MB of JSON) and the row saying this run saw them. */
  seenStatements(step, customers, seenIds) {
    const db = this.env.DB;
    const { org, lease, run } = step;
    const now = iso();
    const upserts = jsonChunks(customers).map((json) =>
      db
        .prepare(
          `INSERT INTO mirror_customers (org, id, name, status, country, reseller_id, reseller_name, data, updated_run, updated_at)
           SELECT ?1, json_extract(j.value, '$.customerId'), json_extract(j.value, '$.customerName'), json_extract(j.value, '$.customerStatus'),
                  json_extract(j.value, '$.customerCountry'), json_extract(j.value, '$.resellerId'), json_extract(j.value, '$.resellerName'),
                  j.value, ?3, ?4
           FROM json_each(?5) AS j
           WHERE ${LEASE_HOLDS}
           ON CONFLICT (org, id) DO UPDATE SET name = excluded.name, status = excluded.status, country = excluded.country,
             reseller_id = excluded.reseller_id, reseller_name = excluded.reseller_name, data = excluded.data,
             updated_run = excluded.updated_run, updated_at = excluded.updated_at
           WHERE mirror_customers.data IS NOT excluded.data`,
        )
        .bind(org, lease, run.run_id, now, json),
    );
    const resellers = [...new Set(customers.map((c) => (typeof c.resellerId === "string" ? c.resellerId.toLowerCase() : null)).filter(Boolean))];
    const seen = db
      .prepare(
        `INSERT INTO mirror_seen (org, run_id, part, ids, resellers)
         SELECT ?1, ?3, (SELECT COALESCE(MAX(part), 0) + 1 FROM mirror_seen WHERE org = ?1 AND run_id = ?3), ?4, ?5
         WHERE ${LEASE_HOLDS}`,
      )
      .bind(org, lease, run.run_id, JSON.stringify(seenIds), JSON.stringify(resellers));
    return [...upserts, seen];
  }

  async writePage(step, page, last) {
    const db = this.env.DB;
    const { org, lease } = step;
    const customers = page.items.filter((c) => typeof c?.customerId === "string" && c.customerId !== "");
    const ids = customers.map((c) => c.customerId);
    const results = await this.batch(step, [
      fence(db, org, lease),
      ...this.seenStatements(step, customers, ids),
      db
        .prepare("UPDATE mirror_runs SET cursor = ?3, pages = pages + 1, listed = listed + ?4, phase = ?5 WHERE org = ?1 AND lease = ?2")
        .bind(org, lease, page.continuationToken ?? null, customers.length, last ? "confirming" : "listing"),
    ]);
    if (results.at(-1).meta.changes !== 1) throw new Fenced();
  }

  /**
   * The sweep: the organization's rows that no page of this run listed are candidates. Each is
   * asked for by ID (the POST form): still there and still this organization's → upserted
   * (paging drift skipped it); gone (404) or another organization's now → removed, logged with
   * its last name. Returns true when no candidate is left and the run is complete.
   */
  async confirm(step) {
    const { org, cfg, run } = step;
    const db = this.env.DB;
    const { results: candidates } = await db
      .prepare(
        `SELECT c.id FROM mirror_customers c
         WHERE c.org = ?1 AND c.id NOT IN (SELECT j.value FROM mirror_seen s, json_each(s.ids) AS j WHERE s.org = ?1 AND s.run_id = ?2)
         ORDER BY c.id LIMIT ?3`,
      )
      .bind(org, run.run_id, cfg.confirmBatch * 4)
      .all();
    step.queries += 1;
    if (candidates.length === 0) {
      await this.complete(step);
      return true;
    }
    // Which resellers this run's listing saw: with child organizations, a customer is still
    // this organization's when its reseller is one of them (or the organization itself).
    let resellers = new Set([org]);
    if (cfg.includeChildOrganizations) {
      const { results } = await db
        .prepare("SELECT DISTINCT j.value AS id FROM mirror_seen s, json_each(s.resellers) AS j WHERE s.org = ?1 AND s.run_id = ?2")
        .bind(org, run.run_id)
        .all();
      step.queries += 1;
      for (const r of results) resellers.add(r.id);
    }
    const client = this.client();
    const query = { ...cfg.sections, includeChildOrganizations: false, batchSize: cfg.confirmBatch, concurrency: 1 };
    const present = [];
    const removed = []; // { id, detail }
    const groups = [];
    // The POST form takes UUIDs only; an ID that is none cannot be confirmed, and the listing
    // did not return it: gone.
    const askable = [];
    for (const c of candidates) (UUID.test(c.id) ? askable : removed).push(UUID.test(c.id) ? c.id : { id: c.id, detail: "gone" });
    for (let i = 0; i < askable.length; i += cfg.confirmBatch) groups.push(askable.slice(i, i + cfg.confirmBatch));
    let requests = 0;
    while (groups.length > 0 && requests < cfg.confirmRequestsPerStep) {
      const ids = groups.shift();
      requests += 1;
      try {
        const found = await client.customersByIds(ids, query).toArray();
        const asked = new Set(ids);
        const returned = new Set();
        for (const c of found) {
          if (!asked.has(c.customerId)) continue;
          returned.add(c.customerId);
          const owner = typeof c.resellerId === "string" ? c.resellerId.toLowerCase() : null;
          if (owner !== null && resellers.has(owner)) present.push(c);
          else removed.push({ id: c.customerId, detail: "moved" });
        }
        for (const id of ids) if (!returned.has(id)) removed.push({ id, detail: "gone" });
      } catch (e) {
        // The API answers 404 for the whole POST when one ID is unknown, naming it: take that
        // one out and ask again; when it names none, halve the batch.
        if (e?.code !== "NOT_FOUND") throw e;
        const named = (String(e.message).match(UUID_IN_TEXT) ?? []).map((s) => s.toLowerCase());
        const gone = ids.filter((id) => named.includes(id.toLowerCase()));
        if (gone.length > 0) {
          for (const id of gone) removed.push({ id, detail: "gone" });
          const rest = ids.filter((id) => !gone.includes(id));
          if (rest.length > 0) groups.unshift(rest);
        } else if (ids.length === 1) removed.push({ id: ids[0], detail: "gone" });
        else groups.unshift(ids.slice(0, ids.length >> 1), ids.slice(ids.length >> 1));
      }
    }
    const { lease } = step;
    const statements = [fence(db, org, lease)];
    if (present.length > 0) statements.push(...this.seenStatements(step, present, present.map((c) => c.customerId)));
    if (removed.length > 0) {
      const list = JSON.stringify(removed);
      statements.push(
        db
          .prepare(
            `INSERT INTO mirror_changes (run_id, org, customer_id, type, name, detail, at)
             SELECT ?3, ?1, c.id, 'removed', c.name, json_extract(j.value, '$.detail'), ?4
             FROM json_each(?5) AS j JOIN mirror_customers c ON c.org = ?1 AND c.id = json_extract(j.value, '$.id')
             WHERE ${LEASE_HOLDS}`,
          )
          .bind(org, lease, run.run_id, iso(), list),
        db
          .prepare(`DELETE FROM mirror_customers WHERE org = ?1 AND id IN (SELECT json_extract(value, '$.id') FROM json_each(?3)) AND ${LEASE_HOLDS}`)
          .bind(org, lease, list),
      );
    }
    statements.push(
      db
        .prepare("UPDATE mirror_runs SET confirmed = confirmed + ?3, removed = removed + ?4 WHERE org = ?1 AND lease = ?2")
        .bind(org, lease, present.length, removed.length),
    );
    const results = await this.batch(step, statements);
    if (results.at(-1).meta.changes !== 1) throw new Fenced();
    return false;
  }

  /** The run's last batch: counts, idle, what it saw dropped, the change log pruned. */
  async complete(step) {
    const { org, lease, run, cfg } = step;
    const db = this.env.DB;
    const now = iso();
    const count = (type) => `(SELECT COUNT(*) FROM mirror_changes WHERE run_id = ?3 AND type = '${type}')`;
    const statements = [
      fence(db, org, lease),
      db
        .prepare(
          `UPDATE mirror_run_log SET status = 'complete', finished_at = ?4, pages = ?5, steps = ?6,
             added = ${count("added")}, changed = ${count("changed")}, removed = ${count("removed")},
             customers = (SELECT COUNT(*) FROM mirror_customers WHERE org = ?1)
           WHERE id = ?3 AND ${LEASE_HOLDS}`,
        )
        .bind(org, lease, run.run_id, now, run.pages, run.steps),
      db
        .prepare(
          `UPDATE mirror_runs SET phase = 'idle', cursor = NULL, failures = 0, error = NULL,
             customers = (SELECT customers FROM mirror_run_log WHERE id = ?3),
             last_complete_run = ?3, last_complete_started_at = started_at, last_complete_at = ?4,
             last_added = (SELECT added FROM mirror_run_log WHERE id = ?3), last_changed = (SELECT changed FROM mirror_run_log WHERE id = ?3),
             last_removed = (SELECT removed FROM mirror_run_log WHERE id = ?3)
           WHERE org = ?1 AND lease = ?2`,
        )
        .bind(org, lease, run.run_id, now),
      db.prepare(`DELETE FROM mirror_seen WHERE org = ?1 AND ${LEASE_HOLDS}`).bind(org, lease),
    ];
    if (cfg.changesKeepDays > 0) {
      const cutoff = iso(Date.now() - cfg.changesKeepDays * 86_400_000);
      // Bounded per run; a backlog shrinks by this much each run.
      statements.push(
        db
          .prepare(`DELETE FROM mirror_changes WHERE seq IN (SELECT seq FROM mirror_changes WHERE org = ?1 AND at < ?3 ORDER BY seq LIMIT 50000) AND ${LEASE_HOLDS}`)
          .bind(org, lease, cutoff),
        db
          .prepare(`DELETE FROM mirror_run_log WHERE id IN (SELECT id FROM mirror_run_log WHERE org = ?1 AND started_at < ?3 AND status <> 'running' LIMIT 1000) AND ${LEASE_HOLDS}`)
          .bind(org, lease, cutoff),
      );
    }
    await this.batch(step, statements);
  }

  /** A step threw. Returns the pause before the next attempt, or null when the run failed for good. */
  async stepFailed(step, e) {
    if (e instanceof Fenced) {
      // A newer step holds the lease; the next alarm takes a fresh one (one alarm per object).
      console.warn(`${step.org}: step fenced off`);
      return step.cfg?.stepPauseMs ?? 1000;
    }
    const message = describeError(e);
    console.error(`${step.org}: step failed: ${message}`, e?.name === "AppxiteError" ? "" : e);
    const cfg = step.cfg;
    const backoff = (n) => Math.min((cfg?.retryBaseMs ?? 5000) * 2 ** Math.max(0, n - 1), 600_000);
    if (!cfg) return 60_000; // a configuration error: fixed by a deploy, which restarts the object
    if (step.lease === null) return backoff(1);
    try {
      const db = this.env.DB;
      const row = await db
        .prepare("UPDATE mirror_runs SET failures = failures + 1, error = ?3 WHERE org = ?1 AND lease = ?2 RETURNING failures, run_id")
        .bind(step.org, step.lease, message)
        .first();
      if (!row) return cfg.stepPauseMs; // fenced meanwhile
      if (!PERMANENT.has(e?.code) && row.failures < cfg.maxStepFailures) return backoff(row.failures);
      // The run fails; the next trigger starts a new one. Its rows stay: each is what the API
      // said at some point, and the next complete run's sweep corrects what changed since.
      await this.batch(step, [
        fence(db, step.org, step.lease),
        db.prepare(`UPDATE mirror_run_log SET status = 'failed', finished_at = ?4, error = ?5 WHERE id = ?3 AND ${LEASE_HOLDS}`).bind(step.org, step.lease, row.run_id, iso(), message),
        db.prepare("UPDATE mirror_runs SET phase = 'idle', cursor = NULL WHERE org = ?1 AND lease = ?2").bind(step.org, step.lease),
      ]);
      return null;
    } catch (e2) {
      // Even D1 failed us: try again later; the alarm is the only thing that must survive.
      console.error(`${step.org}: could not record the failure:`, e2?.message);
      return backoff(2);
    }
  }
}
