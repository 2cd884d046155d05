// A slow consumer, a stuck token function and a fetch that ignores its signal, in workerd.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { slowConsumerScenario } from "../shared/slow-consumer-scenario.js";
import { checkSlowConsumer } from "../shared/slow-consumer-check.mjs";
import { startMock } from "../node/mock.mjs";
import { startWorker } from "./miniflare.mjs";

const mock = await startMock();
const mf = startWorker(`
import { AppxiteClient } from "appxite-customers";
const slowConsumerScenario = ${slowConsumerScenario.toString()};
export default {
  async fetch(request) {
    return Response.json(await slowConsumerScenario(AppxiteClient, await request.json()));
  },
};`);
after(async () => {
  await mf.dispose();
  await mock.stop();
});

test("slow consumer, stuck token, deaf fetch (workerd)", { timeout: 60_000 }, async () => {
  const org = mock.distributors[0];
  const res = await mf.dispatchFetch("http://worker/", {
    method: "POST",
    body: JSON.stringify({ url: mock.url, referer: "https://portal.example", org: org.id }),
  });
  checkSlowConsumer(assert, "workerd", await res.json(), org.customerCount);
});
