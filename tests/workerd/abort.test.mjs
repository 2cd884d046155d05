// Cancellation in workerd: the same scenario as in Node and Chromium. (Deployed Workers' clocks
// only advance on I/O, a Spectre mitigation; locally, Miniflare's do, so the 100 ms bound is
// checked here too.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { abortScenario } from "../shared/abort-scenario.js";
import { abortSetup, checkAbort } from "../shared/abort-setup.mjs";
import { startWorker } from "./miniflare.mjs";

const setup = await abortSetup();
const mf = startWorker(`
import { AppxiteClient } from "appxite-customers";
const abortScenario = ${abortScenario.toString()};
export default {
  async fetch(request) {
    return Response.json(await abortScenario(AppxiteClient, await request.json()));
  },
};`);
after(async () => {
  await mf.dispose();
  await setup.stop();
});

test("abort during fetch, body, retry wait and between pages (workerd)", async () => {
  const res = await mf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify({ ...setup.cfg, referer: "https://portal.example" }) });
  await checkAbort(assert, "workerd", await res.json(), setup.mocks);
});
