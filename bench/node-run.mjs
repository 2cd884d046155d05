// One measured run in a fresh Node process (so memory peaks do not mix):
//   node bench/node-run.mjs <method> <baseUrl> <orgId,orgId,…> <pageSize>
// Prints one JSON line: customers, wall and CPU ms, peak RSS above the idle process, the
// wasm linear memory (SDK), time to first customer after the first body byte, and for
// sdk-sync-prepare the snapshots' bytes.
import { readFileSync, writeFileSync } from "node:fs";
import createClient from "openapi-fetch";

const [method, baseUrl, orgList, pageSizeArg] = process.argv.slice(2);
const orgs = orgList.split(",");
const pageSize = Number(pageSizeArg);
const ALL = { includeAddresses: true, includeContacts: true, includeCustomProperties: true, includeTenants: true, includeIndustries: true };
const HEADERS = { "X-Referer": "https://bench.example", Authorization: "Bearer dev-token" };
const QUERY = new URLSearchParams({ ...Object.fromEntries(Object.entries(ALL).map(([k, v]) => [k, String(v)])), pageSize: String(pageSize) });

// sdk-sync: the snapshots a previous `sdk-sync-prepare` run stored, read before measuring.
// BENCH_SNAPSHOT_TAG: another data set (the emulator's IDs repeat across data-set sizes).
const snapshotFile = (org) => new URL(`../build/bench-snapshot-${process.env.BENCH_SNAPSHOT_TAG ?? ""}${org}.bin`, import.meta.url);
const snapshots = method === "sdk-sync" ? Object.fromEntries(orgs.map((o) => [o, new Uint8Array(readFileSync(snapshotFile(o)))])) : {};

// Idle baseline: everything imported and instantiated, nothing fetched.
let wasmMemory = null;
let AppxiteClient = null;
if (method.startsWith("sdk")) {
  // BENCH_PKG: another build of the package to compare (A/B while profiling).
  const dir = process.env.BENCH_PKG ? new URL(`file://${process.env.BENCH_PKG}/`) : new URL("../pkg/", import.meta.url);
  // The package's Node entry, as `import "appxite-customers"` resolves it (it instantiates the
  // wasm and installs the JS fast path for `for await`); initSync again only returns the
  // instance's exports, for the wasm memory size.
  ({ AppxiteClient } = await import(new URL("index.node.js", dir).href));
  const glue = await import(new URL("appxite_customers.js", dir).href);
  wasmMemory = glue.initSync({ module: readFileSync(new URL("appxite_customers_bg.wasm", dir)) }).memory;
}
// Warm up (fetch's code loaded and compiled, one connection made) so that "idle" is a process
// that has already made a request, the same for every method.
await (await fetch(`${baseUrl}/distis/organizations/details/${orgs[0]}?pageSize=1`, { headers: HEADERS })).arrayBuffer();
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 50));
const baseline = process.memoryUsage().rss;
const heapBaseline = process.memoryUsage().heapUsed;
let peak = baseline;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);

let count = 0;
let snapshotBytes = 0;
let sink = 0; // the caller "uses" each record, then drops it
let firstByteAt = null;
let firstCustomerAt = null;
const FIRST_ONLY = process.env.BENCH_FIRST_ONLY === "1";
class Enough extends Error {}
const take = (c) => {
  if (firstCustomerAt === null) firstCustomerAt = performance.now();
  if (FIRST_ONLY) throw new Enough();
  sink += c.customerId.length;
  count++;
};

const cpu0 = process.cpuUsage();
const t0 = performance.now();
try {
if (method === "fetch-json") {
  for (const org of orgs) {
    for (let page = 1; ; page++) {
      const res = await fetch(`${baseUrl}/distis/organizations/details/${org}?${QUERY}&page=${page}`, { headers: HEADERS });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (firstByteAt === null) firstByteAt = performance.now();
      const list = await res.json();
      for (const c of list) take(c);
      if (list.length < pageSize) break;
    }
  }
} else if (method === "openapi-fetch") {
  const client = createClient({ baseUrl, headers: HEADERS });
  for (const org of orgs) {
    for (let page = 1; ; page++) {
      const { data, error, response } = await client.GET("/distis/organizations/details/{orgId}", {
        params: { path: { orgId: org }, query: { ...ALL, pageSize, page } },
      });
      if (error) throw new Error(`HTTP ${response.status}`);
      if (firstByteAt === null) firstByteAt = performance.now(); // after the body, for lack of a hook
      for (const c of data) take(c);
      if (data.length < pageSize) break;
    }
  }
} else if (method === "sdk-items" || method === "sdk-pages") {
  const client = new AppxiteClient({
    baseUrl,
    referer: "https://bench.example",
    token: "dev-token",
    onEvent: (e) => {
      if (e.type === "response" && firstByteAt === null) firstByteAt = performance.now();
    },
  });
  for (const org of orgs) {
    const pager = client.customers(org, { ...ALL, pageSize });
    if (method === "sdk-items") {
      for await (const c of pager) take(c);
    } else {
      for await (const p of pager.byPage()) for (const c of p.items) take(c);
    }
  }
} else if (method.startsWith("sdk-sync")) {
  // sdk-sync-first: no snapshot, every customer `added` (decoded). sdk-sync: the data as the
  // snapshot saw it, so every customer is `unchanged` (fingerprinted, never decoded); `count`
  // is the customers the sync looked at. sdk-sync-prepare stores the snapshots.
  const client = new AppxiteClient({ baseUrl, referer: "https://bench.example", token: "dev-token" });
  for (const org of orgs) {
    const run = client.sync(org, { ...ALL, pageSize, snapshot: snapshots[org] });
    for await (const change of run) take(change.customer);
    if (method === "sdk-sync") count += run.stats.unchanged;
    if (method === "sdk-sync-prepare") {
      writeFileSync(snapshotFile(org), run.snapshot);
      snapshotBytes += run.snapshot.length;
    }
  }
} else if (method === "read-only") {
  // The floor of any client that streams: every page's body read through its stream reader,
  // nothing parsed, each chunk dropped (for Node's peak memory with its defaults). Without
  // parsing it cannot tell the last page, so it also fetches the empty one after it.
  for (const org of orgs) {
    for (let page = 1; ; page++) {
      const res = await fetch(`${baseUrl}/distis/organizations/details/${org}?${QUERY}&page=${page}`, { headers: HEADERS });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (firstByteAt === null) firstByteAt = performance.now();
      const reader = res.body.getReader();
      let bytes = 0;
      for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.length;
      sink += bytes;
      if (bytes <= 2) break; // "[]": past the last page
    }
  }
} else if (method === "raw-bytes") {
  // The emulator's own serving rate: read the bytes, parse nothing. `count` is bytes here.
  for (const org of orgs) {
    for (let page = 1; ; page++) {
      const res = await fetch(`${baseUrl}/distis/organizations/details/${org}?${QUERY}&page=${page}`, { headers: HEADERS });
      const n = (await res.arrayBuffer()).byteLength;
      count += n;
      if (n <= 2) break;
    }
  }
} else {
  throw new Error(`unknown method ${method}`);
}
} catch (e) {
  if (!(e instanceof Enough)) throw e;
}
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
// What the run left alive in the JS heap: after a full collection, above the idle heap.
globalThis.gc?.();
const heapAfterGc = process.memoryUsage().heapUsed - heapBaseline;
console.log(
  JSON.stringify({
    method,
    count,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakMB: (peak - baseline) / 1048576,
    wasmMB: wasmMemory ? wasmMemory.buffer.byteLength / 1048576 : null,
    ttfcMs: firstCustomerAt !== null && firstByteAt !== null ? firstCustomerAt - firstByteAt : null,
    snapshotBytes,
    heapAfterGcMB: heapAfterGc / 1048576,
    sink,
  }),
);
