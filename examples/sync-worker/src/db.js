// D1 helpers: the schema, applied once per isolate, and fencing.
import SCHEMA from "../schema.sql";
import { schemaStatements } from "./schema.js";

let ready = null;

/**
 * Creates the tables if this database lacks them: one query per isolate once they exist (the
 * schema is applied in one batch, so its last table existing means all do).
 */
export function ensureSchema(db) {
  ready ??= (async () => {
    const have = await db.prepare("SELECT 1 AS ok FROM sqlite_master WHERE type = 'table' AND name = 'mirror_orgs'").first();
    if (!have) await db.batch(schemaStatements(SCHEMA).map((s) => db.prepare(s)));
  })().catch((e) => {
    ready = null;
    throw e;
  });
  return ready;
}

/** A batch that a newer lease holder made void. */
export class Fenced extends Error {
  constructor() {
    super("a newer step holds this organization's lease");
    this.name = "Fenced";
  }
}

export const isFenceError = (e) => /mirror_fence/.test(String(e?.message ?? ""));

/** `(SELECT lease …) = ?`: the condition every write statement of a step carries. */
export const LEASE_HOLDS = "(SELECT lease FROM mirror_runs WHERE org = ?1) = ?2";

/**
 * The first statement of every write batch: inserts NULL into a NOT NULL column — failing the
 * batch, so D1 rolls all of it back — unless (org, lease) still holds the lease.
 */
export function fence(db, org, lease) {
  return db.prepare("INSERT INTO mirror_fence (ok) SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM mirror_runs WHERE org = ?1 AND lease = ?2)").bind(org, lease);
}

export const iso = (ms = Date.now()) => new Date(ms).toISOString();
