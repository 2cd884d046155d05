// client.sync and continuation tokens inside workerd: the shared scenario.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { syncScenario } from "../shared/sync-scenario.js";
import { checkSync } from "../shared/sync-check.mjs";
import { startMock, truthIds } from "../node/mock.mjs";
import { scenarioWorker } from "./miniflare.mjs";

const mock = await startMock();
const worker = scenarioWorker(syncScenario);
after(async () => {
  await worker.dispose();
  await mock.stop();
});

test("sync: first all added, then what /__mock/mutate did; a resumed listing (workerd)", async () => {
  const org = mock.resellers[0].id;
  const before = await truthIds(mock, org);
  const r = await worker.run({ url: mock.url, org, referer: "https://portal.example" });
  await checkSync(assert, "workerd", r, mock, org, before);
});
