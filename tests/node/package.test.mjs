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
  for (const f of ["appxite_customers_bg.wasm", "appxite_customers.js", "appxite_customers.d.ts", "index.d.ts", "index.browser.js", "index.node.js", "index.workerd.js", "fast-iterator.js", "guard.js", "README.md", "CHANGELOG.md", "package.json"]) {
    assert.ok(files.includes(f), `${f} missing from the tarball: ${files}`);
  }
  assert.equal(info.name, "appxite-customers");
});

test("every export condition resolves to a file; ESM, side-effect free", () => {
  const manifest = JSON.parse(readFileSync(new URL("package.json", PKG), "utf8"));
  assert.equal(manifest.type, "module");
  assert.equal(manifest.sideEffects, false);
  for (const [condition, file] of Object.entries(manifest.exports["."])) {
    assert.ok(existsSync(new URL(file, PKG)), `${condition}: ${file}`);
  }
  assert.deepEqual(Object.keys(manifest.exports["."]), ["types", "workerd", "node", "browser", "default"]);
  assert.ok(readFileSync(new URL("README.md", PKG), "utf8").includes("for await"));
});

// scripts/node-lines.sh pins the Node lines make test runs this suite on; engines names the lowest.
const nodeLines = readFileSync(new URL("../../scripts/node-lines.sh", import.meta.url), "utf8")
  .match(/^NODE_LINES="(.*)"$/m)[1]
  .split(" ");
const byVersion = (a, b) => {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
};

test("engines.node is the lowest Node version make test runs the Node suites on", () => {
  const manifest = JSON.parse(readFileSync(new URL("package.json", PKG), "utf8"));
  assert.equal(manifest.engines.node, `>=${[...nodeLines].sort(byVersion)[0]}`);
});

// scripts/test.sh sets APPXITE_EXPECT_NODE for each Node it runs this suite on: the suite must
// really run on that binary, and what the tests spawn by name (`node`, npm) must use it too.
test("this suite runs on the Node scripts/test.sh announced, and `node` on PATH is the same", { skip: !process.env.APPXITE_EXPECT_NODE && "not run by scripts/test.sh" }, () => {
  assert.equal(process.version, process.env.APPXITE_EXPECT_NODE);
  assert.equal(execFileSync("node", ["--version"], { encoding: "utf8" }).trim(), process.version);
});

test("require() loads the package synchronously on this Node (require of an ES module)", () => {
  const script = 'const { AppxiteClient } = require("appxite-customers"); console.log(typeof AppxiteClient, typeof new AppxiteClient({ referer: "https://x.example" }).customers);';
  const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", cwd: new URL("../../", import.meta.url).pathname, stdio: ["ignore", "pipe", "pipe"] });
  assert.equal(out.trim(), "function function");
});
