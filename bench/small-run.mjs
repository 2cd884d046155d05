// A small sync as a short-lived process sees it — a reseller's one page, every section:
//   node bench/small-run.mjs <method> <baseUrl> <orgId> [snapshotFile]
// fetch-json: fetch + res.json(); read-only: the body read through its stream reader and
// nothing parsed — the floor any streaming client pays in Node before decoding a byte;
// array-buffer: the body read at once (res.arrayBuffer()), nothing parsed; import-only: the
// SDK imported and a client constructed, nothing fetched;
// sdk-items: for await over client.customers(); sdk-sync-first: a sync with no snapshot (every
// customer added, decoded); sdk-sync: the repeat sync a scheduled job runs, from the snapshot
// a sdk-sync-prepare run wrote to snapshotFile (read before the clock starts; nothing changed).
// Everything counts, from the script's first line: importing the SDK (gunzip, compile and
// instantiate the wasm), the first fetch (undici loading), V8 compiling functions on first
// call. Peak is the process's maxRSS (it also catches spikes a sampler would miss) above the
// RSS at the first line. Prints one JSON line.
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const [arg, baseUrl, org, snapshotFile] = process.argv.slice(2);
// "-warm": the same page three times before the clock starts (the SDK imported, undici
// loaded, V8's compilers done with both), then measured a fourth time — a long-lived process
// (a portal's tab, a Worker isolate) on a later request. CPU and count are the fourth's; no
// peak is given (maxRSS covers the whole process).
const WARM_UPS = 3;
const warm = arg.endsWith("-warm");
const method = warm ? arg.slice(0, -"-warm".length) : arg;
const snapshot = method === "sdk-sync" ? new Uint8Array(readFileSync(snapshotFile)) : undefined;
const pkgDir = process.env.BENCH_PKG ? new URL(`file://${process.env.BENCH_PKG}/`) : new URL("../pkg/", import.meta.url);
const importSdk = () => import(new URL("index.node.js", pkgDir).href);

let cpu0 = process.cpuUsage();
const rss0 = process.memoryUsage.rss();
let t0 = performance.now();
const ALL = { includeAddresses: true, includeContacts: true, includeCustomProperties: true, includeTenants: true, includeIndustries: true };
const HEADERS = { "X-Referer": "https://bench.example", Authorization: "Bearer dev-token" };

let count = 0;
let sink = 0;
const take = (c) => {
  sink += c.customerId.length;
  count++;
};

/** One run of `method`, start to end. */
async function once() {
  if (method === "import-only") {
    // The SDK's fixed cost alone: the import (the wasm decoded, compiled, instantiated) and
    // one client constructed; nothing fetched.
    const { AppxiteClient } = await importSdk();
    new AppxiteClient({ baseUrl, referer: "https://bench.example", token: "dev-token" });
  } else if (method === "fetch-json" || method === "read-only" || method === "array-buffer") {
    const q = new URLSearchParams(Object.fromEntries(Object.entries(ALL).map(([k, v]) => [k, String(v)])));
    const res = await fetch(`${baseUrl}/distis/organizations/details/${org}?${q}&page=1`, { headers: HEADERS });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    if (method === "fetch-json") {
      for (const c of await res.json()) take(c);
    } else if (method === "array-buffer") {
      sink += (await res.arrayBuffer()).byteLength;
    } else {
      const reader = res.body.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) sink += r.value.length;
    }
  } else {
    const { AppxiteClient } = await importSdk();
    const client = new AppxiteClient({ baseUrl, referer: "https://bench.example", token: "dev-token" });
    if (method === "sdk-items") {
      for await (const c of client.customers(org, ALL)) take(c);
    } else if (method.startsWith("sdk-sync")) {
      const run = client.sync(org, { ...ALL, snapshot });
      for await (const change of run) take(change.customer);
      // A repeat sync hands out nothing here: count the customers it compared.
      if (method === "sdk-sync") count += run.stats.unchanged;
      if (method === "sdk-sync-prepare") writeFileSync(snapshotFile, run.snapshot);
    } else {
      throw new Error(`unknown method ${method}`);
    }
  }
}

if (warm) {
  for (let i = 0; i < WARM_UPS; i++) await once();
  count = 0;
  cpu0 = process.cpuUsage();
  t0 = performance.now();
}
await once();
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    method,
    count,
    wallMs: performance.now() - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakMB: warm ? undefined : (process.resourceUsage().maxRSS * 1024 - rss0) / 1048576,
    sink,
  }),
);
