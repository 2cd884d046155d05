// Runs a Worker in workerd (Cloudflare's runtime, through Miniflare) with the built package
// importable as "appxite-customers", resolved through the package's own `exports` map with
// the "workerd" condition — the file wrangler would pick.
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";

const PKG = new URL("../../pkg/", import.meta.url);

export function packageModules() {
  const manifest = JSON.parse(readFileSync(new URL("package.json", PKG), "utf8"));
  const entry = manifest.exports["."].workerd;
  if (!entry) throw new Error("pkg/package.json has no workerd export");
  const read = (f) => readFileSync(new URL(f, PKG));
  return [
    { type: "ESModule", path: "appxite-customers", contents: read(entry) },
    { type: "ESModule", path: "appxite_customers.js", contents: read("appxite_customers.js") },
    { type: "ESModule", path: "fast-iterator.js", contents: read("fast-iterator.js") },
    { type: "CompiledWasm", path: "appxite_customers_bg.wasm", contents: read("appxite_customers_bg.wasm") },
  ];
}

/** A Miniflare instance running `workerSource` (an ES module) with the package beside it. */
export function startWorker(workerSource, bindings = {}) {
  return new Miniflare({
    modules: [{ type: "ESModule", path: "worker.js", contents: workerSource }, ...packageModules()],
    compatibilityDate: "2025-09-01",
    bindings,
  });
}
