// The demo page (www/) open in two tabs of one browser — one context: the same IndexedDB,
// Web Locks and BroadcastChannel — in sync mode, Start pressed in both at once. One tab syncs
// an organization at a time (a Web Lock); the other waits and shows the result it stored,
// and idle tabs refresh when a sync finishes elsewhere.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startMock, truthIds } from "../node/mock.mjs";
import { launch } from "./chromium.mjs";

const PAGE_SIZE = 50;
let mock;
let browser;
let tabs;
let reseller;

before(async () => {
  // Latency makes each sync take a while (several pages), so two unlocked syncs would overlap.
  mock = await startMock(["--latency-ms", "100", "--www", "www", "--www-port", "0"]);
  reseller = mock.resellers.find((r) => r.customerCount > 4 * PAGE_SIZE);
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  tabs = [await context.newPage(), await context.newPage()];
  for (const tab of tabs) {
    tab.errors = [];
    tab.on("pageerror", (e) => tab.errors.push(String(e)));
    await tab.goto(`${mock.www}?api=${mock.url}`);
    await tab.waitForSelector("#start[data-ready]");
    await tab.check("#modeSync");
    await tab.selectOption("#orgSelect", reseller.id);
    await tab.fill("#pageSize", String(PAGE_SIZE));
  }
});
after(async () => {
  for (const tab of tabs ?? []) assert.deepEqual(tab.errors, []);
  await browser?.close();
  await mock?.stop();
});

// A click straight on the button: Playwright's click waits for animation frames, which a tab
// in the background gets rarely, and "at once" would become one after the other.
const press = (tab, id) => tab.evaluate((id) => document.getElementById(id).click(), id);
const state = (tab) => tab.locator("#state").innerText();
const counts = (tab) => tab.locator("#syncCounts").innerText();
const shown = async (tab) => Number((await tab.locator("#count").innerText()).replace(/\D/g, ""));
const done = (tab) => tab.waitForFunction(() => document.getElementById("state").textContent.startsWith("Done"), null, { timeout: 60_000 });

/** Start in every tab at once; resolves when all are done. Returns the emulator's requests meanwhile. */
async function startAll(which = tabs) {
  const before = (await mock.stats()).requests;
  await Promise.all(which.map((tab) => press(tab, "start")));
  await Promise.all(which.map(done));
  const n = (await mock.stats()).requests - before;
  return n === 0 ? [] : (await mock.requests()).slice(-n);
}

/** One listing of the reseller: pages until one shorter than the page size. */
const listingPages = (customers) => Math.floor(customers / PAGE_SIZE) + 1;

/** What the demo stored in IndexedDB for the query with tenants (read from a tab: same origin, same database). */
async function stored(tab) {
  const all = await tab.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open("appxite-customers-demo");
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const store = req.result.transaction("syncs").objectStore("syncs");
          const keys = store.getAllKeys();
          const values = store.getAll();
          values.onsuccess = () => resolve(values.result.map((v, i) => ({ key: keys.result[i], ids: v.customers.map((c) => c.customerId) })));
        };
      }),
  );
  return all.filter((e) => e.key.includes('"includeTenants":true'));
}

test("Start in two tabs at once: one syncs, the other waits and shows its result", async () => {
  const truth = await truthIds(mock, reseller.id);
  const requests = await startAll();
  const states = await Promise.all(tabs.map(state));
  assert.equal(states.filter((s) => s.endsWith("(synced in another tab).")).length, 1, states.join(" | "));
  for (const tab of tabs) {
    assert.match(await counts(tab), new RegExp(`^First sync: ${truth.length} customers stored`));
    assert.equal(await shown(tab), truth.length);
  }
  // One listing, not two.
  assert.equal(requests.filter((r) => r.method === "GET").length, listingPages(truth.length));
  assert.equal(requests.filter((r) => r.method === "POST").length, 0);
  const [entry, ...more] = await stored(tabs[1]);
  assert.equal(more.length, 0);
  assert.deepEqual(new Set(entry.ids), new Set(truth));
  assert.equal(entry.ids.length, truth.length);
});

test("after a change in the API, both tabs at once again: one listing, both show the change", async () => {
  const mutated = await (await fetch(`${mock.url}/__mock/mutate`, {
    method: "POST",
    body: JSON.stringify({ seed: 11, add: 4, remove: 1, change: 2, under: reseller.id }),
  })).json();
  assert.deepEqual([mutated.added.length, mutated.changed.length, mutated.removed.length], [4, 2, 1]);
  const truth = await truthIds(mock, reseller.id);
  const requests = await startAll();
  const states = await Promise.all(tabs.map(state));
  assert.equal(states.filter((s) => s.endsWith("(synced in another tab).")).length, 1, states.join(" | "));
  for (const tab of tabs) {
    assert.match(await counts(tab), /^Since last sync: \+4 added, 2 changed, 1 removed \(/);
    assert.equal(await tab.locator("#removedList li").count(), 1);
    assert.equal(await shown(tab), truth.length);
    await tab.check("#onlyChanges");
    assert.equal(await tab.locator("#spacer .row.mark-added").count(), 4, "the waiting tab marks the rows too");
    assert.equal(await tab.locator("#spacer .row.mark-changed").count(), 2);
    await tab.uncheck("#onlyChanges");
  }
  assert.equal(requests.filter((r) => r.method === "GET").length, listingPages(truth.length));
  const [entry] = await stored(tabs[0]);
  assert.deepEqual(new Set(entry.ids), new Set(truth));
  assert.equal(entry.ids.length, truth.length);
  // The stored snapshot is the API's: a sync in the other tab finds nothing new.
  await startAll([tabs[1]]);
  assert.match(await counts(tabs[1]), /^Since last sync: \+0 added, 0 changed, 0 removed/);
});

test("two tabs syncing different queries of one organization take turns: their requests never interleave", async () => {
  // Tab 0 without tenants: another stored sync (key), the same organization (lock).
  await tabs[0].uncheck("#includeTenants");
  const requests = await startAll();
  for (const tab of tabs) assert.doesNotMatch(await state(tab), /another tab/, "each synced its own query");
  assert.match(await counts(tabs[0]), /^First sync/);
  assert.match(await counts(tabs[1]), /^Since last sync: \+0 added/);
  const order = requests.map((r) => (/includeTenants=false/.test(r.pathAndQuery) ? "0" : "1")).join("");
  assert.match(order, /^(0+1+|1+0+)$/, `requests by tab, in the order the emulator got them: ${order}`);
  await tabs[0].check("#includeTenants");
});

test("an idle tab shows a sync another tab finished (BroadcastChannel), and Cancel while waiting stores nothing", async () => {
  await fetch(`${mock.url}/__mock/mutate`, { method: "POST", body: JSON.stringify({ seed: 12, add: 3, under: reseller.id }) });
  const truth = await truthIds(mock, reseller.id);
  await startAll([tabs[0]]);
  assert.match(await counts(tabs[0]), /^Since last sync: \+3 added, 0 changed, 0 removed/);
  await tabs[1].waitForFunction(() => document.getElementById("state").textContent.endsWith("(synced in another tab)."));
  assert.match(await counts(tabs[1]), /^Since last sync: \+3 added, 0 changed, 0 removed/);
  assert.equal(await tabs[1].locator("#viewport").getAttribute("aria-rowcount"), String(truth.length + 1));

  // Tab 1 waits for tab 0's sync and is cancelled meanwhile: tab 0's result stands.
  await fetch(`${mock.url}/__mock/mutate`, { method: "POST", body: JSON.stringify({ seed: 13, add: 2, under: reseller.id }) });
  await tabs[0].fill("#pageSize", "10"); // a longer sync (the page size is not part of the stored key)
  await press(tabs[0], "start");
  await tabs[0].waitForFunction(() => document.getElementById("state").textContent === "Syncing…");
  await press(tabs[1], "start");
  await tabs[1].waitForFunction(() => document.getElementById("state").textContent.startsWith("Another tab is syncing"));
  await press(tabs[1], "cancel");
  await tabs[1].waitForFunction(() => document.getElementById("state").textContent.startsWith("Cancelled"));
  assert.equal(await tabs[1].isVisible("#error"), false);
  await done(tabs[0]);
  assert.match(await counts(tabs[0]), /^Since last sync: \+2 added/);
  await tabs[0].fill("#pageSize", String(PAGE_SIZE));
  const [entry] = await stored(tabs[1]);
  assert.deepEqual(new Set(entry.ids), new Set(await truthIds(mock, reseller.id)));
});
