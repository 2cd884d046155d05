// The JS API from a page in headless Chromium, importing the built package by name: the
// page's origin as X-Referer, toArray, break, customersPage, and error codes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startMock } from "../node/mock.mjs";
import { launch } from "./chromium.mjs";

let mock;
let browser;
let page;
before(async () => {
  mock = await startMock(["--www", "www", "--www-port", "0"]);
  browser = await launch();
  page = await browser.newPage();
  await page.goto(`${mock.www}?api=${mock.url}`);
});
after(async () => {
  await browser?.close();
  await mock?.stop();
});

// Runs `body` in the page with `client` (no referer given: the page's origin) and `api`.
const inPage = (body, arg) =>
  page.evaluate(
    async ([src, url, arg]) => {
      const api = await import("appxite-customers");
      const client = new api.AppxiteClient({ baseUrl: url, token: "dev-token" });
      return new Function("client", "api", "url", "arg", `return (async () => { ${src} })()`)(client, api, url, arg);
    },
    [body, mock.url, arg],
  );

test("X-Referer is the page's origin; the browser's Origin agrees", async () => {
  const origin = await inPage(`await client.customers(arg, { pageSize: 5 }).toArray({ limit: 5 }); return location.origin;`, mock.resellers[0].id);
  const [last] = (await mock.requests()).slice(-1);
  assert.equal(last.xReferer, origin);
  assert.equal(last.origin, origin);
});

test("toArray stops at its limit; break stops requests; customersPage gives one page", async () => {
  const d = mock.distributors[0].id;
  const before = (await mock.stats()).requests;
  const r = await inPage(
    `const some = await client.customers(arg, { pageSize: 4 }).toArray({ limit: 10 });
     let n = 0; for await (const c of client.customers(arg, { pageSize: 5 })) { if (++n === 7) break; }
     const p = await client.customersPage(arg, { pageSize: 3, page: 2 });
     return { some: some.length, n, page: p.page, items: p.items.length };`,
    d,
  );
  assert.deepEqual(r, { some: 10, n: 7, page: 2, items: 3 });
  assert.equal((await mock.stats()).requests - before, 3 + 2 + 1);
});

test("errors in the browser: codes, statuses, real Error objects", async () => {
  const codes = await inPage(
    `const out = {};
     const grab = async (name, f) => { try { await f(); out[name] = "no error"; } catch (e) { out[name] = [e.name, e.code, e.status ?? null, e instanceof Error]; } };
     await grab("unauthorized", () => new api.AppxiteClient({ baseUrl: url, token: "nope" }).customers(arg).toArray());
     await grab("forbidden", () => new api.AppxiteClient({ baseUrl: url, token: "dev-token", referer: "https://elsewhere.example" }).customers(arg).toArray());
     await grab("notFound", () => client.customers("00000000-0000-4000-8000-000000000000").toArray());
     await grab("invalid", () => client.customers(arg, { pageSize: 0 }));
     await grab("network", () => new api.AppxiteClient({ baseUrl: "http://127.0.0.1:9", retry: false }).customers(arg).toArray());
     return out;`,
    mock.resellers[0].id,
  );
  assert.deepEqual(codes, {
    unauthorized: ["AppxiteError", "UNAUTHORIZED", 401, true],
    forbidden: ["AppxiteError", "FORBIDDEN", 403, true],
    notFound: ["AppxiteError", "NOT_FOUND", 404, true],
    invalid: ["AppxiteError", "INVALID_ARGUMENT", null, true],
    network: ["AppxiteError", "NETWORK", null, true],
  });
});

test("sync and a resumed listing in Chromium (the shared scenario)", async () => {
  const { syncScenario } = await import("../shared/sync-scenario.js");
  const { checkSync } = await import("../shared/sync-check.mjs");
  const { truthIds } = await import("../node/mock.mjs");
  const org = mock.resellers.at(-1).id;
  const before = await truthIds(mock, org);
  const r = await inPage(`return (${syncScenario.toString()})(api.AppxiteClient, arg);`, { url: mock.url, org });
  await checkSync(assert, "chromium", r, mock, org, before);
});
