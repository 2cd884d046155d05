// The README's Node example is real code: run it against the emulator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
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
    const out = execFileSync("node", [file.pathname], {
      env: { ...process.env, APPXITE_BASE_URL: mock.url, APPXITE_TOKEN: "dev-token", APPXITE_ORG_ID: d.id },
      encoding: "utf8",
    });
    assert.equal(out.trim(), `${d.customerCount} customers`);
  } finally {
    await mock.stop();
  }
});
