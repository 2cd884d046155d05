// Configuration from wrangler vars and secrets, checked once per use: a bad value is an error
// that names the variable (never its value: APPXITE_TOKEN is a secret).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConfigError";
  }
}

/** An organization ID as the mirror keys it (lower case), or null when it is not a UUID. */
export function orgId(text) {
  const id = String(text ?? "").trim().toLowerCase();
  return UUID.test(id) ? id : null;
}

function int(env, name, fallback, min, max) {
  const raw = env[name];
  if (raw === undefined || raw === null || String(raw).trim() === "") return fallback;
  const n = Number(String(raw).trim());
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

function bool(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === null || String(raw).trim() === "") return fallback;
  const v = String(raw).trim().toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new ConfigError(`${name} must be true or false`);
}

const SECTION_NAMES = {
  addresses: "includeAddresses",
  contacts: "includeContacts",
  customProperties: "includeCustomProperties",
  tenants: "includeTenants",
  industries: "includeIndustries",
};

/** The organizations named in APPXITE_ORG_IDS (comma or white space separated). */
export function configuredOrgs(env) {
  const text = String(env.APPXITE_ORG_IDS ?? env.APPXITE_ORG_ID ?? "");
  const out = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const id = orgId(part);
    if (id === null) throw new ConfigError("APPXITE_ORG_IDS must list organization IDs (UUIDs)");
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

export function config(env) {
  const include = String(env.INCLUDE ?? Object.keys(SECTION_NAMES).join(","))
    .split(/[\s,]+/)
    .filter(Boolean);
  const sections = {};
  for (const name of include) {
    if (!(name in SECTION_NAMES)) throw new ConfigError(`INCLUDE may list ${Object.keys(SECTION_NAMES).join(", ")}`);
    sections[SECTION_NAMES[name]] = true;
  }
  const pageSize = int(env, "PAGE_SIZE", 1000, 1, 2000);
  const pagesPerStep = int(env, "PAGES_PER_STEP", 10, 1, 100);
  if (pageSize * pagesPerStep > 50_000) throw new ConfigError("PAGE_SIZE × PAGES_PER_STEP must be at most 50,000 customers per step");
  return {
    sections,
    includeChildOrganizations: bool(env, "INCLUDE_CHILD_ORGANIZATIONS", true),
    pageSize,
    pagesPerStep,
    /** IDs per confirmation POST (the API takes up to 1,000). */
    confirmBatch: int(env, "CONFIRM_BATCH", 1000, 1, 1000),
    /** Confirmation requests per step (a removed customer costs one: the API 404s the POST naming it). */
    confirmRequestsPerStep: int(env, "CONFIRM_REQUESTS_PER_STEP", 100, 1, 500),
    stepPauseMs: int(env, "STEP_PAUSE_MS", 200, 0, 3_600_000),
    retryBaseMs: int(env, "RETRY_BASE_MS", 5000, 0, 3_600_000),
    maxStepFailures: int(env, "MAX_STEP_FAILURES", 8, 1, 1000),
    /** Change log entries older than this are pruned when a run completes (0: never). */
    changesKeepDays: int(env, "CHANGES_KEEP_DAYS", 30, 0, 36_500),
  };
}
