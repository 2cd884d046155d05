// A slow consumer, a stuck token function and a fetch that ignores its signal, and a trap
// inside the wasm, in Chromium.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { slowConsumerScenario } from "../shared/slow-consumer-scenario.js";
import { checkSlowConsumer } from "../shared/slow-consumer-check.mjs";
import { trapScenario, checkTrap } from "../shared/trap-scenario.js";
import { startMock } from "../node/mock.mjs";
import { launch } from "./chromium.mjs";

const mock = await startMock(["--www", "www", "--www-port", "0"]);
const browser = await launch();
after(async () => {
  await browser.close();
  await mock.stop();
});

/** Run a scenario of tests/shared in a fresh page of the demo's origin; its result. */
async function inPage(scenario, cfg) {
  const page = await browser.newPage();
  await page.goto(`${mock.www}?api=${mock.url}`);
  return page.evaluate(
    async ([source, cfg]) => {
      const { AppxiteClient } = await import("appxite-customers");
      return new Function(`return (${source})`)()(AppxiteClient, cfg);
    },
    [scenario.toString(), cfg],
  );
}

test("slow consumer, stuck token, deaf fetch (Chromium)", { timeout: 60_000 }, async () => {
  const org = mock.distributors[0];
  const results = await inPage(slowConsumerScenario, { url: mock.url, referer: new URL(mock.www).origin, org: org.id });
  checkSlowConsumer(assert, "chromium", results, org.customerCount);
});

test("a trap inside the wasm is INTERNAL for the call and the waiting run, and the next call works (Chromium)", { timeout: 60_000 }, async () => {
  const slow = await startMock(["--latency-ms", "1500"]);
  try {
    const org = mock.resellers[0];
    const results = await inPage(trapScenario, { url: mock.url, slowUrl: slow.url, org: org.id });
    checkTrap(assert, "chromium", results, org.customerCount);
  } finally {
    await slow.stop();
  }
});
