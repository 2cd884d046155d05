// A slow consumer, a stuck token function and a fetch that ignores its signal, and a trap
// inside the wasm, in workerd.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { slowConsumerScenario } from "../shared/slow-consumer-scenario.js";
import { checkSlowConsumer } from "../shared/slow-consumer-check.mjs";
import { trapScenario, checkTrap } from "../shared/trap-scenario.js";
import { startMock } from "../node/mock.mjs";
import { scenarioWorker } from "./miniflare.mjs";

const mock = await startMock();
const worker = scenarioWorker(slowConsumerScenario);
after(async () => {
  await worker.dispose();
  await mock.stop();
});

test("slow consumer, stuck token, deaf fetch (workerd)", { timeout: 60_000 }, async () => {
  const org = mock.distributors[0];
  const result = await worker.run({ url: mock.url, referer: "https://portal.example", org: org.id });
  checkSlowConsumer(assert, "workerd", result, org.customerCount);
});

test("a trap inside the wasm is INTERNAL for the call and the waiting run, and the next call works (workerd)", { timeout: 60_000 }, async () => {
  const slow = await startMock(["--latency-ms", "1500"]);
  const trap = scenarioWorker(trapScenario);
  try {
    const org = mock.resellers[0];
    const result = await trap.run({ url: mock.url, slowUrl: slow.url, referer: "https://portal.example", org: org.id });
    checkTrap(assert, "workerd", result, org.customerCount);
  } finally {
    await trap.dispose();
    await slow.stop();
  }
});
