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
  const row = page.locator("#viewport .row").first();
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
