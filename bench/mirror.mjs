// examples/sync-worker at scale: a first full mirror and a repeat after 1 % of the customers
// changed, in workerd (Miniflare: local D1, Durable Object alarms) behind the limits wrapper of
// tests/workerd/sync-worker-limits.js, with the example's default configuration (1,000
// customers per page, 10 pages per step). Prints a markdown table.
//
//   node bench/mirror.mjs                        every distributor of 25,000 customers, one after the other
//   node bench/mirror.mjs --customers 100000     the first distributor (~25,000 customers)
//   node bench/mirror.mjs --customers 1000000    the first distributor (~251,000; the emulator needs ~2.7 GB)
//   … --page-size 100 --pages-per-step 1         smaller steps (what a Free-plan invocation could take)
//
// CPU per invocation is the workerd process's CPU (/proc) between the wrapper's marks at the
// start and end of each invocation, organizations run one at a time so that invocations do not
// overlap. It includes the local D1's SQLite work, which on Cloudflare runs in D1, not in the
// Worker: an upper bound of the Worker's own CPU. Memory is workerd's peak RSS (everything in
// the process: isolate, D1, SQLite caches), reset between the two runs.
import { createServer } from "node:http";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMock } from "../tests/node/mock.mjs";
import { startMirror, truth, mirrored, mutate } from "../tests/workerd/sync-worker-harness.mjs";
import { childPid, cpuMs, memMB } from "./proc.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const CUSTOMERS = Number(arg("--customers", "25000"));
// The example's defaults unless given (e.g. --page-size 100 --pages-per-step 1: a Free-plan step).
const PAGE_SIZE = arg("--page-size", "1000");
const PAGES_PER_STEP = arg("--pages-per-step", "10");
const log = (...a) => console.error(...a);
const median = (xs) => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

log(`starting appxite-mock --customers ${CUSTOMERS} …`);
const mock = await startMock(["--customers", String(CUSTOMERS)]);
const orgs = CUSTOMERS <= 25_000 ? mock.distributors : [mock.distributors[0]];
const size = orgs.reduce((n, o) => n + o.customerCount, 0);
log(`mirroring ${orgs.length} distributor(s), ${size} customers`);

// Marks from the wrapper: CPU of workerd at each invocation's start and end.
let pid;
const open = new Map();
const cpu = []; // { kind, ms }
const server = createServer((req, res) => {
  const u = new URL(req.url, "http://x");
  const now = cpuMs(pid);
  const id = u.searchParams.get("inv");
  if (u.searchParams.get("edge") === "start") open.set(id, now);
  else if (open.has(id)) {
    cpu.push({ kind: u.searchParams.get("kind"), ms: now - open.get(id) });
    open.delete(id);
  }
  res.end();
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));

// D1 on disk, to tell its size per customer.
const persist = mkdtempSync(join(tmpdir(), "mirror-bench-"));
const d1Bytes = (pattern) => {
  let n = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (pattern.test(e.name)) n += statSync(join(dir, e.name)).size;
    }
  };
  walk(persist);
  return n;
};
const m = await startMirror({ mock, orgs: orgs.map((o) => o.id), vars: { STEP_PAUSE_MS: "0", PAGE_SIZE, PAGES_PER_STEP }, options: { d1Persist: persist } });
pid = childPid("workerd");
await m.control("harness", { url: `http://127.0.0.1:${server.address().port}` });

function resetPeak() {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM
  } catch {
    // not allowed here: the peak is the process's since it started
  }
}

async function measure(label) {
  await m.control("reset");
  cpu.length = 0;
  resetPeak();
  const baseMem = memMB(pid, "VmRSS");
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  for (const org of orgs) {
    const before = (await m.state(org.id))?.last_complete_run ?? 0;
    await m.trigger(org.id);
    // Each poll is a D1 query that workerd serves: rare, so as to add next to nothing to its CPU.
    await m.complete(org.id, before, { triggerEvery: 1e9, maxPolls: 1e9, pollMs: 500 });
  }
  const wall = performance.now() - t0;
  const total = cpuMs(pid) - cpu0;
  const s = await m.stats();
  if (s.violations.length > 0) throw new Error(`${label}: Paid limits crossed: ${JSON.stringify(s.violations.slice(0, 3))}`);
  const steps = cpu.filter((c) => c.kind === "alarm").map((c) => c.ms);
  const row = {
    label,
    wall: wall / 1000,
    invocations: s.invocations,
    steps: s.byKind.alarm ?? 0,
    cpuMedian: median(steps),
    cpuMax: Math.max(0, ...steps),
    cpuTotal: total,
    d1Max: s.max.d1Queries,
    subMax: s.max.subrequests,
    paramsMax: s.max.maxParams,
    valueMax: s.max.maxValueBytes,
    peak: memMB(pid, "VmHWM"),
    base: baseMem,
  };
  log(`${label}: ${JSON.stringify(row)}`);
  return row;
}

const rows = [];
rows.push(await measure("first full mirror"));
const db = await m.db();
// Every customer, its row, two indexes and one change-log entry (with its two index entries).
const perCustomer = d1Bytes(/\.sqlite$/) / size;
const walPerCustomer = d1Bytes(/\.sqlite-wal$/) / size;
const pct = (p) => Math.max(1, Math.round(size * p));
await mutate(mock, { seed: 42, add: pct(0.002), remove: pct(0.002), change: pct(0.006), under: orgs.length === 1 ? orgs[0].id : undefined });
rows.push(await measure("repeat, 1 % changed"));

// Checked: the mirror holds exactly the API's customers (counts for the large size, records too for 25k).
let exact = true;
for (const org of orgs) {
  const [want, got] = await Promise.all([truth(mock, org.id), size <= 50_000 ? mirrored(m, org.id) : null]);
  if (got) exact &&= want.size === got.size && [...want].every(([id, json]) => got.get(id) === json);
  else exact &&= want.size === (await db.prepare("SELECT COUNT(*) AS n FROM mirror_customers WHERE org = ?").bind(org.id).first()).n;
}
const bytes = await db.prepare("SELECT SUM(LENGTH(data)) AS data, COUNT(*) AS n FROM mirror_customers").first();

await m.dispose();
await mock.stop();
server.close();
rmSync(persist, { recursive: true, force: true });

const f = (x, d = 0) => x.toFixed(d);
console.log(`\n### sync-worker mirror: ${size.toLocaleString("en")} customers (${orgs.length} distributor${orgs.length > 1 ? "s, one after the other" : ""}, emulator --customers ${CUSTOMERS}; ${PAGE_SIZE} customers per page, ${PAGES_PER_STEP} pages per step)\n`);
console.log("| run | wall | invocations (alarm steps) | workerd CPU per step, median / max | workerd CPU, all | D1 queries per invocation, max | subrequests per invocation, max | largest bound value | workerd peak RSS |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.label} | ${f(r.wall, 1)} s | ${r.invocations} (${r.steps}) | ${f(r.cpuMedian)} / ${f(r.cpuMax)} ms | ${f(r.cpuTotal / 1000, 1)} s | ${r.d1Max} | ${r.subMax} | ${f(r.valueMax / 1e6, 2)} MB | ${f(r.peak)} MB |`,
  );
}
console.log(`\nD1 = API after the repeat: ${exact ? "yes" : "NO"}; record JSON stored: ${f(bytes.data / bytes.n)} bytes per customer on average; D1 after the first run: ${f(perCustomer)} bytes per customer in the SQLite file (row, indexes, its change-log entry), ${f(walPerCustomer)} more in its WAL. No invocation crossed a Paid limit (checked per statement by the wrapper).`);
console.log("workerd CPU includes the local D1's SQLite work (on Cloudflare it runs in D1, not in the Worker): an upper bound of the Worker's CPU.");
