// Exactly once under faults (--chaos 0.3) in Node: items, byPage and customersByIds.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { AppxiteClient } from "appxite-customers";
import { chaosScenario } from "../shared/chaos-scenario.js";
import { chaosSetup, checkChaos } from "../shared/chaos-setup.mjs";

const setup = await chaosSetup();
after(async () => {
  await setup.chaotic.stop();
  await setup.clean.stop();
});

test("--chaos 0.3: every customer exactly once (Node)", async () => {
  const before = await setup.chaotic.stats();
  const result = await chaosScenario(AppxiteClient, { ...setup.cfg, referer: "https://portal.example" });
  await checkChaos(assert, "node", result, setup.truth, setup.chaotic, before);
});
