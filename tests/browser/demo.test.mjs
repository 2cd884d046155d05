// The demo page (www/) in headless Chromium, served cross-origin from appxite-mock exactly
// as `make demo` serves it; the page imports the built package by name.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { startMock } from "../node/mock.mjs";
import { launch } from "./chromium.mjs";

let mock;
let browser;
let page;
const BUILD = new URL("../../build/", import.meta.url);

before(async () => {
  mkdirSync(BUILD, { recursive: true });
  mock = await startMock(["--customers", "25000", "--latency-ms", "150", "--www", "www", "--www-port", "0"]);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.goto(`${mock.www}?api=${mock.url}`);
  await page.waitForSelector("#start[data-ready]");
});
after(async () => {
  await browser?.close();
  await mock?.stop();
});

const text = (sel) => page.locator(sel).innerText();

test("one click syncs a distributor with every section; the count matches the emulator's", async () => {
  const d = mock.distributors[0];
  assert.equal(await page.locator("#orgSelect").inputValue(), d.id, "the first distributor is preselected");
  await page.click("#start");
  await page.waitForFunction(() => document.getElementById("state").textContent.startsWith("Done"), null, { timeout: 60_000 });
  assert.equal(Number((await text("#count")).replace(/\D/g, "")), d.customerCount);
  assert.ok(Number((await text("#pages")).replace(/\D/g, "")) >= Math.ceil(d.customerCount / 2000));
  await page.screenshot({ path: new URL("demo.png", BUILD).pathname, fullPage: true });
  // Only the rows in view are in the DOM.
  assert.ok((await page.locator("#viewport .row").count()) < 60);
});

test("the markup customer is shown as text, never as HTML", async () => {
  await page.fill("#filter", "<img");
  const row = page.locator("#spacer .row").first();
  assert.match(await row.innerText(), /<img src=x onerror=alert\(1\)>/);
  assert.equal(await page.locator("#viewport img, #details img").count(), 0);
  await row.click();
  assert.match(await text("#detailsBody"), /<img src=x onerror=alert\(1\)>/);
  assert.match(await text("#detailsBody"), /Tenants/);
  await page.fill("#filter", "");
});

test("CSV export has a header and one row per customer", async () => {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
  const csv = readFileSync(await download.path(), "utf8");
  const lines = csv.trimEnd().split("\r\n");
  assert.ok(lines[0].startsWith('"customerId","customerName"'));
  assert.equal(lines.length - 1, mock.distributors[0].customerCount);
  const [nd] = await Promise.all([page.waitForEvent("download"), page.click("#ndjson")]);
  const rows = readFileSync(await nd.path(), "utf8").trimEnd().split("\n");
  assert.equal(rows.length, mock.distributors[0].customerCount);
  assert.ok(JSON.parse(rows[0]).customerId);
});

test("Cancel stops the requests at once", async () => {
  await page.fill("#pageSize", "200");
  await page.click("#start");
  await page.waitForFunction(() => Number(document.getElementById("count").textContent.replace(/\D/g, "")) >= 400);
  await page.click("#cancel");
  await page.waitForFunction(() => document.getElementById("state").textContent.startsWith("Cancelled"), null, { timeout: 2000 });
  const count = await text("#count");
  const requests = (await mock.stats()).requests;
  await page.waitForTimeout(700);
  assert.equal(await text("#count"), count);
  const stats = await mock.stats();
  assert.equal(stats.requests, requests, "no request after Cancel");
  assert.equal(stats.inFlight, 0);
  assert.ok(Number(count.replace(/\D/g, "")) < mock.distributors[0].customerCount);
  await page.fill("#pageSize", "2000");
});

test("a wrong token shows the error in words a user understands", async () => {
  await page.fill("#token", "wrong");
  await page.click("#start");
  await page.waitForSelector("#error:not([hidden])");
  const err = await text("#error");
  assert.match(err, /UNAUTHORIZED/);
  assert.match(err, /token was refused/);
  assert.ok(!err.includes("wrong"), "the token is not echoed");
  await page.fill("#token", "dev-token");
});

test("works in a narrow window", async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `horizontal overflow ${overflow}px`);
  await page.screenshot({ path: new URL("demo-narrow.png", BUILD).pathname, fullPage: false });
  await page.setViewportSize({ width: 1280, height: 800 });
});

// Sync mode: the snapshot and the customers in IndexedDB, the emulator's mutate button,
// the changes marked, removed customers listed, Forget; the grid for assistive technology.
const syncSummary = () => text("#syncCounts");
async function syncOnce() {
  await page.click("#start");
  await page.waitForFunction(() => document.getElementById("state").textContent.startsWith("Done"), null, { timeout: 60_000 });
}

test("sync mode: a first sync stores, a mutation shows up marked, removed customers are listed, Forget starts over", async () => {
  const r = mock.resellers[2];
  await page.check("#modeSync");
  await page.selectOption("#orgSelect", r.id);
  assert.equal(await page.isVisible("#forget"), true);
  assert.equal(await page.isVisible("#mutate"), true, "the emulator's button is offered");
  await page.click("#forget");
  await page.waitForFunction(() => document.getElementById("syncCounts").textContent.startsWith("Forgotten"));
  await syncOnce();
  assert.match(await syncSummary(), new RegExp(`^First sync: ${r.customerCount.toLocaleString("en")} customers stored`));
  assert.equal(Number((await text("#count")).replace(/\D/g, "")), r.customerCount);

  await page.click("#mutate");
  await page.waitForFunction(() => document.getElementById("state").textContent.startsWith("The emulator added"));
  assert.match(await text("#state"), /added 12, changed 3 and removed 1/);
  await syncOnce();
  assert.match(await syncSummary(), /^Since last sync: \+12 added, 3 changed, 1 removed \(/);
  assert.equal(await page.locator("#removedList li").count(), 1);
  assert.equal(Number((await text("#count")).replace(/\D/g, "")), r.customerCount + 11);
  // Only the changes: 15 rows, marked, the changed ones renamed by the emulator.
  await page.check("#onlyChanges");
  assert.equal(await page.locator("#spacer .row").count(), 15);
  assert.equal(await page.locator("#spacer .row.mark-added").count(), 12);
  assert.equal(await page.locator("#spacer .row.mark-changed").count(), 3);
  for (const name of await page.locator("#spacer .row.mark-changed [role=gridcell]:first-child").allInnerTexts()) assert.match(name, /· rev \d+$/);
  assert.deepEqual(await page.locator("#spacer .row.mark-added [role=gridcell]:last-child").allInnerTexts(), Array(12).fill("added"));
  await page.screenshot({ path: new URL("demo-sync.png", BUILD).pathname, fullPage: true });
  await page.uncheck("#onlyChanges");

  // The stored state survives a reload: the next sync finds nothing new.
  await page.reload();
  await page.waitForSelector("#start[data-ready]");
  await page.check("#modeSync");
  await page.selectOption("#orgSelect", r.id);
  await syncOnce();
  assert.match(await syncSummary(), /^Since last sync: \+0 added, 0 changed, 0 removed/);
  assert.equal(await page.locator("#spacer .row.mark-added, #spacer .row.mark-changed").count(), 0);

  await page.click("#forget");
  await page.waitForFunction(() => document.getElementById("syncCounts").textContent.startsWith("Forgotten"));
  await syncOnce();
  assert.match(await syncSummary(), /^First sync/);
});

test("the customer table is a grid: roles, row count and index, keyboard navigation", async () => {
  const grid = page.locator("#viewport");
  assert.equal(await grid.getAttribute("role"), "grid");
  const total = Number(await grid.getAttribute("aria-rowcount")) - 1;
  assert.equal(total, Number((await text("#count")).replace(/\D/g, "")));
  assert.deepEqual(await page.locator("#viewport [role=columnheader]").allInnerTexts(), ["Name", "Status", "Country", "Reseller", "Tenants", "Change"]);
  assert.equal(await page.locator("#spacer [role=row]").first().locator("[role=gridcell]").count(), 6);
  // Playwright's accessibility snapshot sees a grid with rows.
  const tree = await page.locator("#viewport").ariaSnapshot();
  assert.match(tree, /- grid/);
  assert.match(tree, /- row/);
  assert.match(tree, /- gridcell/);

  await grid.focus();
  const active = () => grid.getAttribute("aria-activedescendant");
  assert.equal(await active(), "row-0", "focus makes the first row active");
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
  assert.equal(await active(), "row-3");
  assert.equal(await page.locator("#row-3").getAttribute("aria-selected"), "true");
  assert.equal(await page.locator("#row-3").getAttribute("aria-rowindex"), "5", "header is row 1");
  await page.keyboard.press("ArrowUp");
  assert.equal(await active(), "row-2");
  await page.keyboard.press("End");
  assert.equal(await active(), `row-${total - 1}`);
  assert.equal(await page.locator(`#row-${total - 1}`).getAttribute("aria-rowindex"), String(total + 1));
  assert.ok(await page.locator(`#row-${total - 1}`).isVisible(), "scrolled into view");
  await page.keyboard.press("PageUp");
  assert.ok(Number((await active()).slice(4)) < total - 5);
  await page.keyboard.press("Home");
  assert.equal(await active(), "row-0");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#details:not([hidden])");
  const name = await page.locator("#row-0 [role=gridcell]").first().innerText();
  assert.ok((await text("#detailsBody")).includes(name));
  await page.click("#closeDetails");
});
