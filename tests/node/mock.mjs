// Starts appxite-mock (the release binary built by `make`) for a test file, on a free port.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../target/release/appxite-mock", import.meta.url));

export async function startMock(args = []) {
  const defaults = args.includes("--customers") ? [] : ["--customers", "3000"];
  const child = spawn(BIN, ["--port", "0", ...defaults, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const seen = [];
  let wake = () => {};
  lines.on("line", (line) => {
    seen.push(line);
    wake();
  });
  let exitCode;
  child.once("exit", (code) => {
    exitCode = code;
    wake();
  });
  // Resolves with the first capture of `re` in the emulator's output.
  const printed = (re) =>
    new Promise((resolve, reject) => {
      wake = () => {
        const hit = seen.map((l) => l.match(re)).find(Boolean);
        if (hit) resolve(hit[1]);
        else if (exitCode !== undefined) reject(new Error(`appxite-mock exited (${exitCode}): ${seen.join(" | ")}`));
      };
      wake();
    });
  const url = await printed(/listening on (\S+)/);
  const www = args.includes("--www") ? await printed(/demo page on (\S+)/) : undefined;
  const tree = await (await fetch(`${url}/__mock/orgs`)).json();
  const of = (kind) => tree.orgs.filter((o) => o.kind === kind);
  return {
    pid: child.pid,
    url,
    www,
    tree,
    distributors: of("distributor"),
    resellers: of("reseller"),
    async requests() {
      return (await fetch(`${url}/__mock/requests`)).json();
    },
    async stats() {
      return (await fetch(`${url}/__mock/stats`)).json();
    },
    async stop() {
      child.kill();
      await once(child, "exit");
    },
  };
}

/** Every customer ID of a run, the ground truth from the emulator directly. */
export async function truthIds(mock, orgId, query = "") {
  const ids = [];
  for (let page = 1; ; page++) {
    const res = await fetch(`${mock.url}/distis/organizations/details/${orgId}?pageSize=10000&page=${page}&${query}`, {
      headers: { "X-Referer": "https://truth.example", Authorization: "Bearer dev-token" },
    });
    const list = await res.json();
    ids.push(...list.map((c) => c.customerId));
    if (list.length < 10000) return ids;
  }
}

/** Rejects with the error a promise rejected with, or fails if it resolved. */
export async function rejection(promiseOrFn) {
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}
