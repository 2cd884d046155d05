// Cancellation in workerd: the same scenario as in Node and Chromium. (Deployed Workers' clocks
// only advance on I/O, a Spectre mitigation; locally, Miniflare's do, so the 100 ms bound is
// checked here too.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { abortScenario } from "../shared/abort-scenario.js";
import { abortSetup, checkAbort } from "../shared/abort-setup.mjs";
import { scenarioWorker } from "./miniflare.mjs";

const setup = await abortSetup();
const worker = scenarioWorker(abortScenario);
after(async () => {
  await worker.dispose();
  await setup.stop();
});

test("abort during fetch, body, retry wait and between pages (workerd)", async () => {
  const result = await worker.run({ ...setup.cfg, referer: "https://portal.example" });
  await checkAbort(assert, "workerd", result, setup.mocks);
});
