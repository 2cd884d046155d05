// examples/portal-react as a portal developer gets it: the packed tarball (what npm users
// install) and the example's pinned dependencies installed into a copy of the example,
// `vite build`, and dist/ served by a plain static server on an origin of its own,
// cross-origin to the API like a real portal. Then, in Chromium: the useInfiniteQuery table
// (first page, "load more" with continuation tokens, infinite scroll, cancel on unmount) and
// the useCustomerSync hook (IndexedDB, counts of what changed) against the emulator.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { startMock, truthIds } from "../node/mock.mjs";
import { launch } from "./chromium.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLE = join(ROOT, "examples/portal-react");
const QUERY = "includeAddresses=true&includeTenants=true"; // what the example asks for
const PAGE_SIZE = 25;

let work;
let site;
let siteUrl;
let mock;
let browser;
let org;

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
}

/** dist/ over HTTP: files as they are, anything else is index.html (as static hosts do for an SPA). */
function serveStatic(dir) {
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
  const server = createServer((req, res) => {
    let file = normalize(join(dir, decodeURIComponent(new URL(req.url, "http://x").pathname)));
    if (!file.startsWith(dir + sep) || !existsSync(file) || statSync(file).isDirectory()) file = join(dir, "index.html");
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "portal-react-"));
  const packed = JSON.parse(run("npm", ["pack", join(ROOT, "pkg"), "--pack-destination", work, "--json", "--loglevel=error"], ROOT));
  const app = join(work, "app");
  cpSync(EXAMPLE, app, { recursive: true, filter: (f) => !/[/\\](node_modules|dist)$/.test(f) });
  // The example links ../../pkg; a portal installs the package: here, the tarball.
  const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
  manifest.dependencies["appxite-customers"] = `file:${join(work, packed[0].filename)}`;
  writeFileSync(join(app, "package.json"), JSON.stringify(manifest, null, 2));
  // npm's cache makes this quick after the first run (--prefer-offline: no registry round trip
  // for what the cache has).
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], app);
  run(join(app, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], app);
  site = await serveStatic(join(app, "dist"));
  siteUrl = `http://127.0.0.1:${site.address().port}`;
  mock = await startMock();
  org = mock.resellers.find((r) => r.customerCount > 4 * PAGE_SIZE).id;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await mock?.stop();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve()));
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh browser context (its own IndexedDB) on the example, against `api`. */
async function open(api, extra = "") {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${siteUrl}/?api=${api.url}&org=${org}&pageSize=${PAGE_SIZE}${extra}`);
  return { page, errors };
}

const rowIds = (page) => page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.customerId));
const pagesShown = async (page) => Number(await page.locator("#pager").getAttribute("data-pages"));
/** The page's GET requests for `org` (the listing's pages), in order, from the emulator's log. */
async function listingRequests(api) {
  return (await api.requests()).filter((r) => r.method === "GET" && r.origin === siteUrl && r.pathAndQuery.includes(`/${org}?`));
}

/** Polls `check` until it is true (the emulator's counters have no event to wait for). */
async function until(check, what) {
  for (let i = 0; i < 1500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting: ${what}`);
}

test("the table shows the first page; Load more appends the next one, resumed by continuation token", async () => {
  const { page, errors } = await open(mock);
  const truth = await truthIds(mock, org, QUERY);
  await page.waitForSelector('#pager[data-pages="1"]');
  assert.deepEqual(await rowIds(page), truth.slice(0, PAGE_SIZE));
  assert.match(await page.locator("#pager").innerText(), /25 customers, 1 page/);
  assert.ok(await page.locator("tbody tr td").first().innerText());

  await page.click("#loadMore");
  await page.waitForSelector('#pager[data-pages="2"]');
  assert.deepEqual(await rowIds(page), truth.slice(0, 2 * PAGE_SIZE));
  const requests = await listingRequests(mock);
  assert.equal(requests.length, 2, "one request per page");
  assert.match(requests[0].pathAndQuery, /[?&]page=1(&|$)/);
  assert.match(requests[1].pathAndQuery, /[?&]page=2(&|$)/);
  for (const r of requests) {
    assert.match(r.pathAndQuery, new RegExp(`pageSize=${PAGE_SIZE}`));
    assert.match(r.pathAndQuery, /includeAddresses=true/);
    assert.equal(r.origin, siteUrl, "called from the portal's own origin");
    assert.equal(r.xReferer, siteUrl);
  }

  // Infinite scroll: ticked, the end of the table coming into view loads the next page.
  await page.check("#autoLoad");
  await page.locator("#pager").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => Number(document.getElementById("pager").dataset.pages) >= 3);
  await page.uncheck("#autoLoad");
  const ids = await rowIds(page);
  assert.equal(ids.length, (await pagesShown(page)) * PAGE_SIZE);
  assert.deepEqual(ids, truth.slice(0, ids.length), "every customer once, in order");
  assert.deepEqual(errors, []);
  await page.close();
});

test("hiding the table while a page is loading aborts that request (the query function's signal)", async () => {
  // The same data, streamed slowly: a page takes seconds, so the unmount lands mid-body.
  const slow = await startMock(["--bandwidth", "8000"]);
  try {
    const body = async (n) =>
      (await (await fetch(`${mock.url}/distis/organizations/details/${org}?${QUERY}&pageSize=${PAGE_SIZE}&page=${n}`, {
        headers: { "X-Referer": "https://truth.example", Authorization: "Bearer dev-token" },
      })).arrayBuffer()).byteLength;
    const twoPages = (await body(1)) + (await body(2));

    const { page, errors } = await open(slow);
    await page.waitForSelector('#pager[data-pages="1"]', { timeout: 30_000 });
    await page.click("#loadMore");
    await page.waitForSelector("#loadMore:disabled");
    // Wait until the emulator is sending page 2.
    await until(async () => (await slow.stats()).inFlight > 0, "page 2 in flight");
    await page.click("#toggleTable");
    assert.equal(await page.locator("table").count(), 0, "the table is unmounted");
    // The emulator sees the connection go away: nothing left in flight, page 2 not sent whole.
    await until(async () => (await slow.stats()).inFlight === 0, "the request aborted");
    const stats = await slow.stats();
    assert.ok(stats.bytesServed < twoPages, `served ${stats.bytesServed} B of ${twoPages}`);
    const requests = await listingRequests(slow);
    assert.equal(requests.length, 2);
    assert.match(requests[1].pathAndQuery, /[?&]page=2(&|$)/);

    // Shown again, the query went back to the page it had: page 2 was never delivered.
    await page.click("#toggleTable");
    await page.waitForSelector('#pager[data-pages="1"]');
    assert.equal(await page.locator("tbody tr").count(), PAGE_SIZE);
    assert.equal((await slow.stats()).requests, 2, "no request on remount (the page is fresh)");
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await slow.stop();
  }
});

test("useCustomerSync: a first sync stores every customer; after a change in the API, the next sync counts it", async () => {
  const { page, errors } = await open(mock);
  const syncAndWait = async () => {
    const last = await page.locator("#syncState").getAttribute("data-synced-at");
    await page.click("#sync");
    await page.waitForFunction(
      (last) => {
        const s = document.getElementById("syncState");
        return s.dataset.status === "done" && s.dataset.syncedAt !== last;
      },
      last ?? undefined,
    );
  };
  await page.waitForSelector('#syncState[data-status="idle"]');
  assert.match(await page.locator("#syncState").innerText(), /Nothing stored yet/);
  await syncAndWait();
  const before = await truthIds(mock, org, QUERY);
  assert.equal(await page.locator("#syncCounts").innerText(), `First sync: ${before.length.toLocaleString("en")} customers stored.`);

  const res = await fetch(`${mock.url}/__mock/mutate`, {
    method: "POST",
    body: JSON.stringify({ seed: 7, add: 6, remove: 2, change: 3, under: org }),
  });
  const mutated = await res.json();
  assert.deepEqual([mutated.added.length, mutated.changed.length, mutated.removed.length], [6, 3, 2]);

  await syncAndWait();
  const counts = page.locator("#syncCounts");
  assert.deepEqual(
    [await counts.getAttribute("data-added"), await counts.getAttribute("data-changed"), await counts.getAttribute("data-removed")],
    [String(mutated.added.length), String(mutated.changed.length), String(mutated.removed.length)],
  );
  assert.match(await counts.innerText(), /^Since last sync: \+6 added, 3 changed, 2 removed \(/);
  const listed = await page.locator("#changes li").evaluateAll((lis) => lis.map((li) => [li.className, li.textContent]));
  assert.equal(listed.filter(([type]) => type === "added").length, 6);
  assert.equal(listed.filter(([type]) => type === "changed").length, 3);
  assert.equal(listed.filter(([type]) => type === "removed").length, 2);
  for (const [type, text] of listed) if (type === "changed") assert.match(text, /· rev \d+$/, "the emulator renamed it");

  // IndexedDB holds exactly the API's customers now, with the snapshot beside them.
  const after = await truthIds(mock, org, QUERY);
  const stored = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open("appxite-customers-portal");
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const all = req.result.transaction("syncs").objectStore("syncs").getAll();
          all.onsuccess = () => resolve(all.result.map((v) => ({ ids: v.customers.map((c) => c.customerId), snapshot: v.snapshot.length })));
        };
      }),
  );
  assert.equal(stored.length, 1);
  assert.equal(stored[0].ids.length, after.length);
  assert.deepEqual(new Set(stored[0].ids), new Set(after));
  assert.ok(stored[0].snapshot > 0);
  assert.match(await page.locator("#syncState").innerText(), new RegExp(`^${after.length} customers stored`));
  // … and the stored snapshot is the API's: one more sync finds nothing to change.
  await syncAndWait();
  assert.match(await counts.innerText(), /^Since last sync: \+0 added, 0 changed, 0 removed \(/);
  assert.deepEqual(errors, []);
  await page.close();
});
