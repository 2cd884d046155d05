// The package as npm users get it: `npm pack`, installed from the tarball into a small app of
// each toolchain and runtime, built with that toolchain's defaults (no plugin, no config line
// for wasm), then run against the emulator. A consumer that builds but fails at run time
// fails here. Apps live in build/consumers/<name>/ so their node_modules survive between
// runs (the first run installs from the registry; later ones only swap in the new tarball).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdtempSync, existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { gzipSync, constants } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startMock, truthIds } from "../node/mock.mjs";
import { launch } from "../browser/chromium.mjs";
import { BUDGET_GZIP } from "../size-budget.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = join(ROOT, "tests/consumers");
const WORK = join(ROOT, "build/consumers");
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", WRANGLER_SEND_METRICS: "false", DO_NOT_TRACK: "1", CI: "1" };

let tarball;
let mock;
let browser;
let org;
let truth;
/** Consumer → gzip size of the SDK's part of what its build ships to a browser. */
const sizes = {};

function run(cmd, args, cwd, options = {}) {
  return execFileSync(cmd, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20, ...options });
}

/** build/consumers/<name>: the app's files, `shared` files as `files` maps them, the tarball. */
function prepare(name, files = {}, source = join(SRC, name)) {
  const dir = join(WORK, name);
  mkdirSync(dir, { recursive: true });
  // Build output of an earlier run must not pass for this one's.
  for (const old of ["dist", "out", ".parcel-cache"]) rmSync(join(dir, old), { recursive: true, force: true });
  cpSync(source, dir, { recursive: true, filter: (f) => !f.includes("node_modules") });
  for (const [from, to] of Object.entries(files)) cpSync(join(SRC, "shared", from), join(dir, to), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  manifest.dependencies = { ...manifest.dependencies, "appxite-customers": `file:${tarball}` };
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  // With a lockfile, as a real app has one (Parcel takes the nearest folder with one for the
  // project root; without it, it climbs to this repository and fails to name its bundles).
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], dir);
  return dir;
}

/** The app's JSON line must be every customer of `org`, in order. */
function checkResult(name, text) {
  const result = JSON.parse(text.trim().split("\n").pop());
  assert.deepEqual(result, { ok: true, count: truth.length, first: truth.slice(0, 3) }, `${name}: ${text}`);
}

/** Serve `dist` on a port of its own (cross-origin to the API) and read #out in Chromium. */
async function inBrowser(name, dist, path = "/") {
  const site = await startMock(["--www", dist, "--www-port", "0", "--customers", "10"]);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${site.www.replace(/\/$/, "")}${path}?api=${mock.url}&org=${org}`);
    await page.waitForFunction(() => document.getElementById("out")?.textContent !== "loading", null, { timeout: 30_000 });
    checkResult(name, await page.locator("#out").innerText());
    assert.deepEqual(errors, [], `${name}: page errors`);
    await page.close();
  } finally {
    await site.stop();
  }
}

/**
 * gzip -9 of the files of a browser build that hold the SDK (its embedded wasm or its glue),
 * and any .wasm emitted (there should be none: the wasm is embedded). Frameworks' own chunks
 * (React, Next's runtime) are not counted. Held to the package's size budget.
 */
function sdkBytes(name, dist) {
  let total = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".wasm")) assert.fail(`${name} emitted ${e.name}: the wasm is embedded, nothing should be emitted`);
      else if (/\.m?js$/.test(e.name)) {
        const bytes = readFileSync(p);
        if (bytes.includes("wasmGzipBase64") || bytes.includes("AppxiteError") || bytes.includes("H4sI")) {
          total += gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length;
        }
      }
    }
  };
  walk(dist);
  sizes[name] = total;
  assert.ok(total > 40_000, `${name}: the SDK was not found in the build (${total} B)`);
  assert.ok(total <= BUDGET_GZIP + 2048, `${name}: ${total} B gzip of SDK chunks, over the budget ${BUDGET_GZIP} B (+2 KB for the app)`);
  return total;
}

before(async () => {
  mkdirSync(WORK, { recursive: true });
  // Named by content, so each app's install sees a new file whenever the package changed.
  const packed = run("npm", ["pack", join(ROOT, "pkg"), "--pack-destination", WORK, "--json", "--loglevel=error"], ROOT);
  const file = join(WORK, JSON.parse(packed)[0].filename);
  const hash = createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 12);
  tarball = join(WORK, `appxite-customers-${hash}.tgz`);
  cpSync(file, tarball);
  rmSync(file);
  mock = await startMock();
  org = mock.resellers[0].id;
  truth = await truthIds(mock, org);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await mock?.stop();
  console.log(`SDK share of each browser build (gzip -9): ${JSON.stringify(sizes)}`);
});

test("Node ESM: import", () => {
  const dir = prepare("node-esm", { "node-app.mjs": "app.mjs" });
  checkResult("node-esm", run("node", ["app.mjs", mock.url, org], dir));
});

test("Node CommonJS: require()", () => {
  const dir = prepare("node-cjs");
  checkResult("node-cjs", run("node", ["app.cjs", mock.url, org], dir));
});

test("Bun", () => {
  const dir = prepare("bun", { "node-app.mjs": "app.mjs" });
  checkResult("bun", run(join(dir, "node_modules/.bin/bun"), ["app.mjs", mock.url, org], dir));
});

test("Deno with --allow-net only (no file-system permission)", () => {
  const dir = prepare("deno", { "node-app.mjs": "app.mjs" });
  checkResult("deno", run(join(dir, "node_modules/.bin/deno"), ["run", "--allow-net", "--no-prompt", "app.mjs", mock.url, org], dir));
});

test("esbuild --platform=node bundle, run from another folder", () => {
  const dir = prepare("esbuild-node", { "node-app.mjs": "app.mjs" });
  run(join(dir, "node_modules/.bin/esbuild"), ["app.mjs", "--bundle", "--platform=node", "--format=esm", "--outfile=out/app.mjs", "--log-level=warning"], dir);
  // Alone in an empty folder: the bundle may not lean on node_modules or files beside it.
  const alone = mkdtempSync(join(tmpdir(), "esbuild-node-"));
  cpSync(join(dir, "out/app.mjs"), join(alone, "app.mjs"));
  checkResult("esbuild-node", run("node", ["app.mjs", mock.url, org], alone));
  rmSync(alone, { recursive: true, force: true });
});

test("esbuild browser bundle (--bundle --format=esm)", async () => {
  const dir = prepare("esbuild-browser", { "browser-app.js": "app.js", "index.html": "dist/index.html" });
  run(join(dir, "node_modules/.bin/esbuild"), ["app.js", "--bundle", "--format=esm", "--outfile=dist/app.js", "--log-level=warning"], dir);
  sdkBytes("esbuild", join(dir, "dist"));
  await inBrowser("esbuild-browser", join(dir, "dist"));
});

test("Rollup with @rollup/plugin-node-resolve only", async () => {
  const dir = prepare("rollup", { "browser-app.js": "app.js", "index.html": "dist/index.html" });
  run(join(dir, "node_modules/.bin/rollup"), ["-c", "--silent"], dir);
  sdkBytes("rollup", join(dir, "dist"));
  await inBrowser("rollup", join(dir, "dist"));
});

test("webpack 5, zero config (webpack --mode production)", async () => {
  const dir = prepare("webpack", { "browser-app.js": "src/index.js", "index.html": "dist/index.html" });
  // webpack's default output is dist/main.js, a classic script: point the page at it.
  const html = readFileSync(join(dir, "dist/index.html"), "utf8").replace('<script type="module" src="./app.js">', '<script src="./main.js">');
  writeFileSync(join(dir, "dist/index.html"), html);
  run(join(dir, "node_modules/.bin/webpack"), ["--mode", "production"], dir);
  sdkBytes("webpack", join(dir, "dist"));
  await inBrowser("webpack", join(dir, "dist"));
});

test("Vite, zero config (vite build)", async () => {
  const dir = prepare("vite", { "browser-app.js": "app.js", "index.html": "index.html" });
  run(join(dir, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], dir);
  sdkBytes("vite", join(dir, "dist"));
  await inBrowser("vite", join(dir, "dist"));
});

test("Vite dev server (vite), zero config", async () => {
  const dir = prepare("vite", { "browser-app.js": "app.js", "index.html": "index.html" });
  rmSync(join(dir, "node_modules/.vite"), { recursive: true, force: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(join(dir, "node_modules/.bin/vite"), ["--port", String(port), "--strictPort", "--host", "127.0.0.1"], { cwd: dir, env, stdio: ["ignore", "pipe", "inherit"] });
  try {
    let seen = "";
    child.stdout.on("data", (d) => (seen += d));
    for (let i = 0; i < 150 && !seen.includes(String(port)); i++) await new Promise((r) => setTimeout(r, 100));
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/?api=${mock.url}&org=${org}`);
    await page.waitForFunction(() => document.getElementById("out")?.textContent !== "loading", null, { timeout: 60_000 });
    checkResult("vite dev", await page.locator("#out").innerText());
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    child.kill();
    await once(child, "exit");
  }
});

test("Parcel 2, default config (parcel build index.html)", async () => {
  const dir = prepare("parcel", { "browser-app.js": "app.js", "index.html": "index.html" });
  run(join(dir, "node_modules/.bin/parcel"), ["build", "index.html", "--no-source-maps", "--log-level", "warn"], dir);
  sdkBytes("parcel", join(dir, "dist"));
  await inBrowser("parcel", join(dir, "dist"));
});

/** `next start` on a free port until stopped. */
async function nextStart(dir) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(join(dir, "node_modules/.bin/next"), ["start", "-p", String(port)], {
    cwd: dir,
    env: { ...env, APPXITE_API: mock.url, APPXITE_ORG: org },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let seen = "";
  child.stdout.on("data", (d) => (seen += d));
  for (let i = 0; i < 100 && !/Ready|started server/i.test(seen); i++) await new Promise((r) => setTimeout(r, 100));
  return { url: `http://127.0.0.1:${port}`, stop: async () => (child.kill(), await once(child, "exit")) };
}

for (const [label, flags] of [["Turbopack", []], ["webpack", ["--webpack"]]]) {
  test(`Next.js (${label}): route handler, server component, client component`, { timeout: 300_000 }, async () => {
    const dir = prepare("next");
    rmSync(join(dir, ".next"), { recursive: true, force: true });
    run(join(dir, "node_modules/.bin/next"), ["build", ...flags], dir);
    const server = await nextStart(dir);
    try {
      checkResult(`next ${label} route`, await (await fetch(`${server.url}/api/customers`)).text());
      const html = await (await fetch(server.url)).text();
      const serverJson = html.match(/<pre id="server">(.*?)<\/pre>/)?.[1].replaceAll("&quot;", '"');
      checkResult(`next ${label} server component`, serverJson ?? html.slice(0, 500));
      const page = await browser.newPage();
      await page.goto(`${server.url}/client?api=${mock.url}&org=${org}`);
      await page.waitForFunction(() => document.getElementById("out")?.textContent !== "loading", null, { timeout: 30_000 });
      checkResult(`next ${label} client component`, await page.locator("#out").innerText());
      await page.close();
      sdkBytes(`next-${label}`, join(dir, ".next/static"));
    } finally {
      await server.stop();
    }
  });
}

test("Cloudflare Workers: wrangler's bundle, run in workerd", async () => {
  const dir = prepare("wrangler");
  rmSync(join(dir, "dist"), { recursive: true, force: true });
  run(join(dir, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", "dist"], dir);
  const { Miniflare } = await import(join(dir, "node_modules/miniflare/dist/src/index.js"));
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(dir, "dist/worker.js"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2025-09-01",
  });
  try {
    const res = await mf.dispatchFetch(`http://worker/?api=${encodeURIComponent(mock.url)}&org=${org}`);
    checkResult("wrangler", await res.text());
  } finally {
    await mf.dispose();
  }
});

test("examples/sync-worker as wrangler deploys it: bundled, run in workerd with D1, its Durable Object and queue, one cron, D1 = the API", async () => {
  const dir = prepare("sync-worker", {}, join(ROOT, "examples/sync-worker"));
  run(join(dir, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", "dist"], dir);
  const { Miniflare } = await import(join(dir, "node_modules/miniflare/dist/src/index.js"));
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(dir, "dist/index.js"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }, { type: "Text", include: ["**/*.sql"] }],
    compatibilityDate: "2025-09-01",
    d1Databases: { DB: "consumer-sync-worker" },
    durableObjects: { ORG_MIRROR: { className: "OrgMirror", useSQLite: true } },
    queueProducers: { RUNS: "appxite-mirror-runs" },
    queueConsumers: { "appxite-mirror-runs": { maxBatchTimeout: 0 } },
    bindings: { APPXITE_BASE_URL: mock.url, APPXITE_REFERER: "https://portal.example", APPXITE_TOKEN: "dev-token", APPXITE_ORG_IDS: org, STEP_PAUSE_MS: "0" },
  });
  try {
    const outcome = await (await mf.getWorker()).scheduled({ cron: "*/15 * * * *" });
    assert.equal(outcome.outcome, "ok", JSON.stringify(outcome));
    // The cron only asks the organization's Durable Object; the run goes on in its alarms.
    for (;;) {
      const { orgs } = await (await mf.dispatchFetch("http://worker/status")).json();
      if (orgs[0].lastComplete !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { customers } = await (await mf.dispatchFetch("http://worker/customers?limit=1000")).json();
    assert.deepEqual(customers.map((c) => c.id).sort(), [...truth].sort());
  } finally {
    await mf.dispose();
  }
});

test("the package: publint clean, arethetypeswrong clean (ESM only)", () => {
  const bin = (name) => join(ROOT, "node_modules/.bin", name);
  const publint = run(bin("publint"), ["run", join(ROOT, "pkg"), "--strict"], ROOT);
  assert.doesNotMatch(publint, /error|warning|suggestion/i, publint);
  run(bin("attw"), [tarball, "--profile", "esm-only", "--format", "table-flipped"], ROOT);
});

test("the tarball holds what the entries need, and nothing of the build", () => {
  const list = run("tar", ["-tzf", tarball], ROOT).trim().split("\n").map((f) => f.replace(/^package\//, "")).sort();
  assert.deepEqual(list, [
    "CHANGELOG.md", "README.md", "appxite_customers.d.ts", "appxite_customers.js", "appxite_customers_bg.wasm", "fast-iterator.js",
    "guard.js", "index.browser.js", "index.d.ts", "index.node.js", "index.workerd.js", "package.json", "wasm-base64.js", "wasm-inline.js",
  ]);
  assert.ok(existsSync(tarball));
});
