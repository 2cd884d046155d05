// The README's Node example is real code: run it against the emulator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { startMock } from "./mock.mjs";

test("the README's Node example runs and counts every customer", async () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const block = readme.split("<!-- This block is run by tests/node/readme.test.mjs")[1].match(/```js\n([\s\S]*?)```/)[1];
  // Run it from inside the repository so "appxite-customers" resolves like an installed package.
  mkdirSync(new URL("../../build/", import.meta.url), { recursive: true });
  const file = new URL("../../build/readme-example.mjs", import.meta.url);
  writeFileSync(file, block);
  const mock = await startMock();
  try {
    const d = mock.distributors[0];
    const out = execFileSync(process.execPath, [file.pathname], {
      env: { ...process.env, APPXITE_BASE_URL: mock.url, APPXITE_TOKEN: "dev-token", APPXITE_ORG_ID: d.id },
      encoding: "utf8",
    });
    assert.equal(out.trim(), `${d.customerCount} customers`);
  } finally {
    await mock.stop();
  }
});

test("the README's sync example stores a snapshot and then reports only what changed", async () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const block = readme.split("<!-- This block is run by tests/node/readme.test.mjs")[2].match(/```js\n([\s\S]*?)```/)[1];
  mkdirSync(new URL("../../build/", import.meta.url), { recursive: true });
  const file = new URL("../../build/readme-sync-example.mjs", import.meta.url);
  const snapshotFile = new URL("../../build/readme-sync-example.snapshot", import.meta.url).pathname;
  rmSync(snapshotFile, { force: true });
  writeFileSync(file, block);
  const mock = await startMock();
  try {
    const r = mock.resellers[0];
    const env = { ...process.env, APPXITE_BASE_URL: mock.url, APPXITE_TOKEN: "dev-token", APPXITE_ORG_ID: r.id, SNAPSHOT_FILE: snapshotFile };
    const run = () => JSON.parse(execFileSync(process.execPath, [file.pathname], { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    assert.deepEqual(run(), { added: r.customerCount, changed: 0, removed: 0, unchanged: 0 });
    assert.equal(readFileSync(snapshotFile).length, 32 + 24 * r.customerCount);
    const res = await fetch(`${mock.url}/__mock/mutate`, { method: "POST", body: JSON.stringify({ seed: 1, add: 3, remove: 2, change: 4, under: r.id }) });
    assert.equal(res.status, 200);
    assert.deepEqual(run(), { added: 3, changed: 4, removed: 2, unchanged: r.customerCount - 6 });
  } finally {
    await mock.stop();
  }
});
