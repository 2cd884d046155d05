// Exactly once under faults (--chaos 0.3) in workerd: the same scenario as Node's.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chaosScenario } from "../shared/chaos-scenario.js";
import { chaosSetup, checkChaos } from "../shared/chaos-setup.mjs";
import { startWorker } from "./miniflare.mjs";

const setup = await chaosSetup();
const mf = startWorker(`
import { AppxiteClient } from "appxite-customers";
const chaosScenario = ${chaosScenario.toString()};
export default {
  async fetch(request) {
    const cfg = await request.json();
    return Response.json(await chaosScenario(AppxiteClient, cfg));
  },
};`);
after(async () => {
  await mf.dispose();
  await setup.chaotic.stop();
  await setup.clean.stop();
});

test("--chaos 0.3: every customer exactly once (workerd)", async () => {
  const before = await setup.chaotic.stats();
  const res = await mf.dispatchFetch("http://worker/", {
    method: "POST",
    body: JSON.stringify({ ...setup.cfg, referer: "https://portal.example" }),
  });
  const result = await res.json();
  await checkChaos(assert, "workerd", result, setup.truth, setup.chaotic, before);
});
