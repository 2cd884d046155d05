-- The D1 schema of the mirror (examples/sync-worker). The Worker applies it itself on its first
-- query of an isolate (every statement is IF NOT EXISTS); to apply it by hand:
--   npx wrangler d1 execute appxite-customers --remote --file=schema.sql
-- D1 is the mirror AND the only place where run state lives: a step's rows and its cursor
-- commit in one batch (one transaction), so the mirror never describes rows it does not hold.

-- The mirror: one row per (mirrored organization, customer), the record as the API sent it.
CREATE TABLE IF NOT EXISTS mirror_customers (
  org TEXT NOT NULL,               -- the configured organization this row is mirrored under
  id TEXT NOT NULL,                -- customerId
  name TEXT,
  status TEXT,
  country TEXT,
  reseller_id TEXT,
  reseller_name TEXT,
  data TEXT NOT NULL,              -- the whole record, JSON
  updated_run INTEGER NOT NULL,    -- the run that last changed it
  updated_at TEXT NOT NULL,
  PRIMARY KEY (org, id)
);
-- A rowid table, not WITHOUT ROWID: a ~2 KB record exceeds what an index b-tree keeps in a
-- page cell (~1 KB of a 4 KB page) and would spill into an overflow page each — 5.1 KB per
-- customer measured, against ~2.6 KB here.
CREATE INDEX IF NOT EXISTS mirror_customers_id ON mirror_customers (id);
CREATE INDEX IF NOT EXISTS mirror_customers_status ON mirror_customers (org, status, id);

-- One row per mirrored organization: the run in progress (phase, cursor, lease) and the last
-- complete one. Every write of a step is conditioned on `lease`.
CREATE TABLE IF NOT EXISTS mirror_runs (
  org TEXT PRIMARY KEY,
  phase TEXT NOT NULL DEFAULT 'idle', -- idle | listing | confirming
  run_id INTEGER,                  -- the run in progress, or the last one
  lease INTEGER NOT NULL DEFAULT 0,-- bumped by each step; the fencing token
  cursor TEXT,                     -- the SDK's continuationToken after the last committed page
  pages INTEGER NOT NULL DEFAULT 0,
  listed INTEGER NOT NULL DEFAULT 0,
  confirmed INTEGER NOT NULL DEFAULT 0, -- candidates the POST form still returned
  removed INTEGER NOT NULL DEFAULT 0,
  steps INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,  -- consecutive failed steps of this run
  error TEXT,
  started_at TEXT,
  step_at TEXT,
  trigger TEXT,
  skipped_triggers INTEGER NOT NULL DEFAULT 0, -- triggers that found a run in progress
  last_skipped_at TEXT,
  customers INTEGER NOT NULL DEFAULT 0,        -- rows, as of the last complete run
  last_complete_run INTEGER,
  last_complete_started_at TEXT,
  last_complete_at TEXT,
  last_added INTEGER, last_changed INTEGER, last_removed INTEGER
);

-- The history of runs (ids are global and increasing: /changes?since=<run id>).
CREATE TABLE IF NOT EXISTS mirror_run_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org TEXT NOT NULL,
  trigger TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL,            -- running | complete | failed
  pages INTEGER, steps INTEGER,
  added INTEGER, changed INTEGER, removed INTEGER, customers INTEGER,
  error TEXT
);
CREATE INDEX IF NOT EXISTS mirror_run_log_org ON mirror_run_log (org, id);

-- The change log: written by the triggers below (added, changed) and by the sweep (removed).
CREATE TABLE IF NOT EXISTS mirror_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL,
  org TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  type TEXT NOT NULL,              -- added | changed | removed
  name TEXT,                       -- for removed: the last name the mirror had
  detail TEXT,                     -- removed: gone (the API no longer has it) | moved (another organization's now)
  at TEXT NOT NULL
);
-- Two indexes only: D1 counts every index entry written as a row written.
CREATE INDEX IF NOT EXISTS mirror_changes_run ON mirror_changes (run_id);
CREATE INDEX IF NOT EXISTS mirror_changes_at ON mirror_changes (at);

CREATE TRIGGER IF NOT EXISTS mirror_customers_added AFTER INSERT ON mirror_customers BEGIN
  INSERT INTO mirror_changes (run_id, org, customer_id, type, name, at)
  VALUES (new.updated_run, new.org, new.id, 'added', new.name, new.updated_at);
END;
CREATE TRIGGER IF NOT EXISTS mirror_customers_changed AFTER UPDATE OF data ON mirror_customers
WHEN old.data IS NOT new.data BEGIN
  INSERT INTO mirror_changes (run_id, org, customer_id, type, name, at)
  VALUES (new.updated_run, new.org, new.id, 'changed', new.name, new.updated_at);
END;

-- The IDs each page (or confirmation) of the run in progress saw, one row per page: the sweep
-- takes the org's rows whose ID no row of this run lists. One row per page, not a write per
-- unchanged customer (D1 bills rows written).
CREATE TABLE IF NOT EXISTS mirror_seen (
  org TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  part INTEGER NOT NULL,
  ids TEXT NOT NULL,               -- JSON array of customer IDs
  resellers TEXT NOT NULL,         -- JSON array of the resellerIds on that page
  PRIMARY KEY (org, run_id, part)
);

-- Never holds a row: a fenced batch inserts NULL here and fails, which rolls the batch back.
CREATE TABLE IF NOT EXISTS mirror_fence (ok INTEGER NOT NULL);

-- Optional: more organizations than APPXITE_ORG_IDS can hold (a Worker variable is ≤ 5 KB).
CREATE TABLE IF NOT EXISTS mirror_orgs (org TEXT PRIMARY KEY);
