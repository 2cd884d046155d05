-- The D1 schema of the sync Worker. Apply once:
--   npx wrangler d1 execute appxite-customers --remote --file=schema.sql
-- (the Worker also creates these tables itself if they are missing).
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY,
  name TEXT,
  status TEXT,
  country TEXT,
  reseller_id TEXT,
  reseller_name TEXT,
  data TEXT NOT NULL,            -- the whole record, as JSON
  updated_run INTEGER NOT NULL   -- the run that last wrote it
);
CREATE INDEX IF NOT EXISTS customers_status ON customers (status);
CREATE INDEX IF NOT EXISTS customers_name ON customers (name);
-- One row per scheduled run; only completed runs count for /changes.
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL,          -- running | complete | failed
  added INTEGER, changed INTEGER, removed INTEGER, unchanged INTEGER,
  error TEXT
);
CREATE TABLE IF NOT EXISTS changes (
  run_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,            -- added | changed | removed
  customer_id TEXT NOT NULL,
  name TEXT,
  PRIMARY KEY (run_id, seq)
);
-- The sync snapshot, in parts: D1 caps a row (and a BLOB) at 2 MB, and 100,000 customers
-- make a 2.4 MB snapshot.
CREATE TABLE IF NOT EXISTS snapshot_parts (
  key TEXT NOT NULL,
  part INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (key, part)
);
