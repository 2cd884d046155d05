// Runs a Worker in workerd (Cloudflare's runtime, through Miniflare) with the built package
// importable as "appxite-customers", resolved through the package's own `exports` map with
// the "workerd" condition — the file wrangler would pick.
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";

// BENCH_PKG: another build of the package (A/B comparisons while profiling; see bench/).
const PKG = process.env.BENCH_PKG ? new URL(`file://${process.env.BENCH_PKG}/`) : new URL("../../pkg/", import.meta.url);

/** `dir`: where the importing Worker module is (workerd resolves bare names next to it). */
export function packageModules(dir = "") {
  const manifest = JSON.parse(readFileSync(new URL("package.json", PKG), "utf8"));
  const entry = manifest.exports["."].workerd;
  if (!entry) throw new Error("pkg/package.json has no workerd export");
  const read = (f) => readFileSync(new URL(f, PKG));
  return [
    { type: "ESModule", path: `${dir}appxite-customers`, contents: read(entry) },
    { type: "ESModule", path: `${dir}appxite_customers.js`, contents: read("appxite_customers.js") },
    { type: "ESModule", path: `${dir}fast-iterator.js`, contents: read("fast-iterator.js") },
    { type: "ESModule", path: `${dir}guard.js`, contents: read("guard.js") },
    { type: "CompiledWasm", path: `${dir}appxite_customers_bg.wasm`, contents: read("appxite_customers_bg.wasm") },
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

/**
 * A Worker that runs `scenario(AppxiteClient, cfg)` (a function from tests/shared/) for each
 * POSTed `cfg` and answers with its result: the same scenarios as in Node and the browsers.
 */
export function scenarioWorker(scenario) {
  const mf = startWorker(`
import { AppxiteClient } from "appxite-customers";
const scenario = ${scenario.toString()};
export default {
  async fetch(request) {
    return Response.json(await scenario(AppxiteClient, await request.json()));
  },
};`);
  return {
    async run(cfg) {
      const res = await mf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify(cfg) });
      return res.json();
    },
    dispose: () => mf.dispose(),
  };
}
