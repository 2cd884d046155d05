// Cancellation in headless Chromium: the same scenario as Node's, inside a page.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { abortScenario } from "../shared/abort-scenario.js";
import { abortSetup, checkAbort } from "../shared/abort-setup.mjs";
import { launch } from "./chromium.mjs";

const setup = await abortSetup(["--www", "www", "--www-port", "0"]);
const browser = await launch();
after(async () => {
  await browser.close();
  await setup.stop();
});

test("abort during fetch, body, retry wait and between pages (Chromium)", async () => {
  const page = await browser.newPage();
  await page.goto(`${setup.mocks.plain.www}?api=${setup.cfg.url}`);
  const results = await page.evaluate(
    async ([source, cfg]) => {
      const { AppxiteClient } = await import("appxite-customers");
      return new Function(`return (${source})`)()(AppxiteClient, cfg);
    },
    [abortScenario.toString(), setup.cfg],
  );
  await checkAbort(assert, "chromium", results, setup.mocks);
});
