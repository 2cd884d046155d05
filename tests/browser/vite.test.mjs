// The package in a Vite production build, as a portal developer would use it: imported by
// name, no init call; the build is served cross-origin from the API and run in Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { startMock, truthIds } from "../node/mock.mjs";
import { launch } from "./chromium.mjs";

let mock;
let browser;
before(async () => {
  execFileSync("node_modules/.bin/vite", ["build", "--config", "tests/vite/vite.config.mjs"], { stdio: "inherit" });
  mock = await startMock(["--www", "build/vite-dist", "--www-port", "0"]);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await mock?.stop();
});

test("vite build emits the wasm as an asset and the app fetches customers", async () => {
  const assets = readdirSync(new URL("../../build/vite-dist/assets/", import.meta.url));
  assert.ok(assets.some((f) => f.endsWith(".wasm")), `no .wasm among ${assets}`);
  const page = await browser.newPage();
  const r = mock.resellers[0];
  await page.goto(`${mock.www}?api=${mock.url}&org=${r.id}`);
  await page.waitForFunction(() => document.getElementById("out").textContent !== "loading");
  const result = JSON.parse(await page.locator("#out").innerText());
  assert.deepEqual(result, { ok: true, ids: (await truthIds(mock, r.id)).slice(0, 5) });
});
