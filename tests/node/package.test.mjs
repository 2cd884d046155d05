// pkg/ is ready for `npm pack`: every file the manifest lists is there, and every export
// condition points at a file that exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const PKG = new URL("../../pkg/", import.meta.url);

test("npm pack includes the wasm, the glue, the entries, the types and the README", () => {
  const [info] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", PKG.pathname], { encoding: "utf8" }));
  const files = info.files.map((f) => f.path).sort();
  for (const f of ["appxite_customers_bg.wasm", "appxite_customers.js", "appxite_customers.d.ts", "index.d.ts", "index.browser.js", "index.node.js", "index.workerd.js", "fast-iterator.js", "README.md", "package.json"]) {
    assert.ok(files.includes(f), `${f} missing from the tarball: ${files}`);
  }
  assert.equal(info.name, "appxite-customers");
});

test("every export condition resolves to a file; ESM, side-effect free, Node >= 20", () => {
  const manifest = JSON.parse(readFileSync(new URL("package.json", PKG), "utf8"));
  assert.equal(manifest.type, "module");
  assert.equal(manifest.sideEffects, false);
  for (const [condition, file] of Object.entries(manifest.exports["."])) {
    assert.ok(existsSync(new URL(file, PKG)), `${condition}: ${file}`);
  }
  assert.deepEqual(Object.keys(manifest.exports["."]), ["types", "workerd", "node", "browser", "default"]);
  assert.ok(readFileSync(new URL("README.md", PKG), "utf8").includes("for await"));
});
