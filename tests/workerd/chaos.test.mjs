// Exactly once under faults (--chaos 0.3) in workerd: the same scenario as Node's.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chaosScenario } from "../shared/chaos-scenario.js";
import { chaosSetup, checkChaos } from "../shared/chaos-setup.mjs";
import { scenarioWorker } from "./miniflare.mjs";

const setup = await chaosSetup();
const worker = scenarioWorker(chaosScenario);
after(async () => {
  await worker.dispose();
  await setup.chaotic.stop();
  await setup.clean.stop();
});

test("--chaos 0.3: every customer exactly once (workerd)", async () => {
  const before = await setup.chaotic.stats();
  const result = await worker.run({ ...setup.cfg, referer: "https://portal.example" });
  await checkChaos(assert, "workerd", result, setup.truth, setup.chaotic, before);
});
