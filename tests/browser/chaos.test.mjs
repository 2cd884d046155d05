// Exactly once under faults (--chaos 0.3) in headless Chromium: the same scenario as Node's,
// run inside a page that imports the built package by name (the demo page's import map).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chaosScenario } from "../shared/chaos-scenario.js";
import { chaosSetup, checkChaos } from "../shared/chaos-setup.mjs";
import { launch } from "./chromium.mjs";

const setup = await chaosSetup();
const browser = await launch();
after(async () => {
  await browser.close();
  await setup.chaotic.stop();
  await setup.clean.stop();
});

test("--chaos 0.3: every customer exactly once (Chromium)", async () => {
  const page = await browser.newPage();
  await page.goto(`${setup.chaotic.www}?api=${setup.chaotic.url}`);
  const before = await setup.chaotic.stats();
  const result = await page.evaluate(
    async ([source, cfg]) => {
      const { AppxiteClient } = await import("appxite-customers");
      const scenario = new Function(`return (${source})`)();
      return scenario(AppxiteClient, cfg); // referer: the page's origin
    },
    [chaosScenario.toString(), setup.cfg],
  );
  await checkChaos(assert, "chromium", result, setup.truth, setup.chaotic, before);
});
