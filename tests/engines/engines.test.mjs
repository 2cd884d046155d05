// Firefox (ESR, geckodriver) and WebKit (WebKitGTK's MiniBrowser under Xvfb — the Linux
// stand-in for Safari's engine), driven over plain W3C WebDriver: the scenarios shared with
// Node, Chromium and workerd (the API, exactly-once under chaos, abort, slow consumer) and the
// demo page, each in a page that imports the built package by name. Chromium runs the same
// scenarios through Playwright in tests/browser/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startMock, truthIds } from "../node/mock.mjs";
import { apiScenario } from "../shared/api-scenario.js";
import { syncScenario } from "../shared/sync-scenario.js";
import { checkSync } from "../shared/sync-check.mjs";
import { abortScenario } from "../shared/abort-scenario.js";
import { abortSetup, checkAbort } from "../shared/abort-setup.mjs";
import { chaosScenario } from "../shared/chaos-scenario.js";
import { chaosSetup, checkChaos } from "../shared/chaos-setup.mjs";
import { slowConsumerScenario } from "../shared/slow-consumer-scenario.js";
import { checkSlowConsumer } from "../shared/slow-consumer-check.mjs";
import { session, startXvfb } from "./webdriver.mjs";

let plain;
/** For the sync scenario, which changes the data set (the other tests compare with `plain`'s). */
let changing;
let abort;
let chaos;
let xvfb;

before(async () => {
  plain = await startMock(["--www", "www", "--www-port", "0"]);
  changing = await startMock(["--www", "www", "--www-port", "0"]);
  abort = await abortSetup(["--www", "www", "--www-port", "0"]);
  chaos = await chaosSetup();
  xvfb = await startXvfb();
});
after(async () => {
  xvfb?.stop();
  await Promise.all([plain?.stop(), changing?.stop(), abort?.stop(), chaos?.chaotic.stop(), chaos?.clean.stop()]);
});

/**
 * In a page of `site` (the demo page): `scenario(AppxiteClient, cfg)`, run by a module script
 * added to the page — so it imports the package by name through the page's import map and
 * runs in the page's own realm, as a portal's code does (a WebDriver script's own `import()`
 * gets neither in Firefox). The result comes back through the DOM.
 */
async function inPage(s, site, api, scenario, cfg) {
  await s.goto(`${site}?api=${api}`);
  // The page's own module (app.js) must have finished loading the package (its wasm is
  // compiled under a top-level await) before a second module imports it: WebKit lets a second
  // importer run before such a module has finished, and reading its exports then throws.
  const out = await s.run(
    `async (source, cfg) => {
       while (!document.querySelector("#start[data-ready]")) await new Promise((r) => setTimeout(r, 50));
       const script = document.createElement("script");
       script.type = "module";
       script.textContent = \`
         import { AppxiteClient } from "appxite-customers";
         const scenario = (\${source});
         scenario(AppxiteClient, \${JSON.stringify(cfg)}).then(
           (value) => { document.body.dataset.result = JSON.stringify({ value }); },
           (e) => { document.body.dataset.result = JSON.stringify({ thrown: String(e) + " | " + e?.stack }); });
       \`;
       const fail = (message) => { document.body.dataset.result ??= JSON.stringify({ thrown: String(message) }); };
       window.addEventListener("error", (e) => fail(e.message + " at " + e.filename + ":" + e.lineno));
       window.addEventListener("unhandledrejection", (e) => fail(e.reason));
       document.head.append(script);
       while (document.body.dataset.result === undefined) await new Promise((r) => setTimeout(r, 50));
       return document.body.dataset.result;
     }`,
    scenario.toString(),
    cfg,
  );
  const result = JSON.parse(out);
  if (result.thrown) throw new Error(`${s.engine}: ${result.thrown}`);
  return result.value;
}

for (const engine of (process.env.ENGINES ?? "firefox,webkit").split(",")) {
  test(`${engine}: the API, chaos, abort, a slow consumer and the demo page`, { timeout: 300_000 }, async (t) => {
    const s = await session(engine, { display: xvfb.display });
    try {
      await t.test("for await, byPage, toArray, break, customersPage, error codes", async () => {
        const org = plain.resellers[0];
        const r = await inPage(s, plain.www, plain.url, apiScenario, { url: plain.url, org: org.id });
        const truth = await truthIds(plain, org.id);
        assert.deepEqual(r.ids, truth);
        assert.equal(r.pages.reduce((a, b) => a + b, 0), truth.length);
        assert.deepEqual([r.some, r.broke, r.page], [10, 7, [2, 3]]);
        assert.deepEqual(r.errors, {
          unauthorized: ["AppxiteError", "UNAUTHORIZED", 401, true],
          forbidden: ["AppxiteError", "FORBIDDEN", 403, true],
          notFound: ["AppxiteError", "NOT_FOUND", 404, true],
          invalid: ["AppxiteError", "INVALID_ARGUMENT", null, true],
          network: ["AppxiteError", "NETWORK", null, true],
        });
      });

      await t.test("sync, then a resumed listing", async () => {
        // One reseller per engine: the scenario changes its customers.
        const org = changing.resellers[engine === "firefox" ? 1 : 2].id;
        const before = await truthIds(changing, org);
        const r = await inPage(s, changing.www, changing.url, syncScenario, { url: changing.url, org });
        await checkSync(assert, engine, r, changing, org, before);
      });

      await t.test("--chaos 0.3: every customer exactly once", async () => {
        const before = await chaos.chaotic.stats();
        const r = await inPage(s, chaos.chaotic.www, chaos.chaotic.url, chaosScenario, chaos.cfg);
        await checkChaos(assert, engine, r, chaos.truth, chaos.chaotic, before);
      });

      await t.test("abort during fetch, body, retry wait and between pages", async () => {
        const r = await inPage(s, abort.mocks.plain.www, abort.cfg.url, abortScenario, { ...abort.cfg, referer: undefined });
        await checkAbort(assert, engine, r, abort.mocks);
      });

      await t.test("slow consumer, stuck token, deaf fetch", async () => {
        const d = plain.distributors[0];
        const r = await inPage(s, plain.www, plain.url, slowConsumerScenario, { url: plain.url, referer: new URL(plain.www).origin, org: d.id });
        checkSlowConsumer(assert, engine, r, d.customerCount);
      });

      await t.test("the demo page syncs a distributor", async () => {
        const d = plain.distributors[0];
        await s.goto(`${plain.www}?api=${plain.url}`);
        const count = await s.run(`async () => {
          const wait = async (ok) => { for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 100)); };
          await wait(() => document.querySelector("#start[data-ready]"));
          document.getElementById("start").click();
          await wait(() => document.getElementById("state").textContent.startsWith("Done"));
          return document.getElementById("count").textContent;
        }`);
        assert.equal(Number(count.replace(/\D/g, "")), d.customerCount);
      });

      await t.test("the demo page's sync mode, and its grid by keyboard", async () => {
        // The emulator whose data may change; one reseller per engine.
        const r = changing.resellers[engine === "firefox" ? 3 : 4];
        await s.goto(`${changing.www}?api=${changing.url}`);
        const step = (body) =>
          s.run(`async (org) => {
            const $ = (id) => document.getElementById(id);
            const wait = async (ok) => { for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 100)); };
            const sync = async () => { $("start").click(); await wait(() => $("state").textContent.startsWith("Done")); };
            ${body}
          }`, r.id);
        const first = await step(`
          await wait(() => document.querySelector("#start[data-ready]"));
          $("modeSync").click();
          $("orgSelect").value = org;
          $("forget").click();
          await wait(() => $("syncCounts").textContent.startsWith("Forgotten"));
          await sync();
          const summary = $("syncCounts").textContent;
          $("mutate").click();
          await wait(() => $("state").textContent.startsWith("The emulator added"));
          await sync();
          $("onlyChanges").click();
          return {
            summary,
            again: $("syncCounts").textContent,
            removed: $("removedList").children.length,
            added: document.querySelectorAll("#spacer .row.mark-added").length,
            changed: document.querySelectorAll("#spacer .row.mark-changed").length,
          };`);
        assert.match(first.summary, new RegExp(`^First sync: ${r.customerCount.toLocaleString("en")} customers stored`));
        assert.match(first.again, /^Since last sync: \+12 added, 3 changed, 1 removed/);
        assert.deepEqual([first.removed, first.added, first.changed], [1, 12, 3]);
        // The grid: roles, and real key presses moving the active row.
        await s.run(`async () => { document.getElementById("viewport").focus(); }`);
        await s.keys("ArrowDown", "ArrowDown", "End");
        const grid = await step(`
          const vp = $("viewport");
          const activeRow = document.getElementById(vp.getAttribute("aria-activedescendant"));
          return {
            role: vp.getAttribute("role"),
            rowcount: vp.getAttribute("aria-rowcount"),
            headers: [...vp.querySelectorAll("[role=columnheader]")].map((h) => h.textContent),
            active: vp.getAttribute("aria-activedescendant"),
            selected: activeRow?.getAttribute("aria-selected"),
            index: activeRow?.getAttribute("aria-rowindex"),
            cells: activeRow?.querySelectorAll("[role=gridcell]").length,
          };`);
        assert.deepEqual(grid, { role: "grid", rowcount: "16", headers: ["Name", "Status", "Country", "Reseller", "Tenants", "Change"], active: "row-14", selected: "true", index: "16", cells: 6 });
        await s.keys("Home", "ArrowDown", "Enter");
        const details = await step(`return { open: !$("details").hidden, name: document.querySelector("#row-1 [role=gridcell]").textContent, body: $("detailsBody").textContent };`);
        assert.ok(details.open && details.body.includes(details.name), JSON.stringify(details));
      });
    } finally {
      await s.close();
    }
  });
}
