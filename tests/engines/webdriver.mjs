// Plain W3C WebDriver over HTTP — chromedriver, geckodriver and WebKitWebDriver speak the same
// protocol, so one small client drives all three engines (no npm driver package: those try
// to download browsers and drivers).
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { once } from "node:events";
import { createServer } from "node:net";

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** The engines `make test` drives: the driver binary, its arguments and the capabilities. */
export const ENGINES = {
  chromium: {
    driver: "/usr/bin/chromedriver",
    args: (port) => [`--port=${port}`],
    capabilities: {
      browserName: "chrome",
      "goog:chromeOptions": {
        binary: "/usr/bin/chromium",
        args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      },
    },
  },
  firefox: {
    driver: `${process.env.HOME}/.cargo/bin/geckodriver`,
    args: (port) => ["--port", String(port), "--log", "error"],
    capabilities: { browserName: "firefox", "moz:firefoxOptions": { binary: "/usr/bin/firefox-esr", args: ["-headless"] } },
  },
  webkit: {
    driver: "/usr/bin/WebKitWebDriver",
    args: (port) => [`--port=${port}`],
    // Debian's MiniBrowser has no headless flag: it runs under Xvfb (see startXvfb).
    capabilities: {
      browserName: "MiniBrowser",
      "webkitgtk:browserOptions": { binary: "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser", args: ["--automation"] },
    },
    display: true,
  },
};

/** An X server for engines without a headless mode; resolves to its DISPLAY. */
export async function startXvfb() {
  const child = spawn("Xvfb", ["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], { stdio: ["ignore", "pipe", "ignore"] });
  const [line] = await once(createInterface({ input: child.stdout }), "line");
  return { display: `:${line.trim()}`, stop: () => child.kill() };
}

/** Start the driver and a session; returns the session's commands. */
export async function session(engine, { display } = {}) {
  const spec = ENGINES[engine];
  const port = await freePort();
  const driver = spawn(spec.driver, spec.args(port), {
    stdio: "ignore",
    env: { ...process.env, ...(display ? { DISPLAY: display } : {}) },
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok || json.value?.error) throw new Error(`${engine} ${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
    return json.value;
  };
  for (let i = 0; ; i++) {
    try {
      await call("GET", "/status");
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const created = await call("POST", "/session", { capabilities: { alwaysMatch: spec.capabilities } });
  const id = created.sessionId;
  await call("POST", `/session/${id}/timeouts`, { script: 120_000, pageLoad: 60_000 });
  return {
    engine,
    goto: (url) => call("POST", `/session/${id}/url`, { url }),
    /** Run `fn(...args)` (an async function, as source) in the page; resolves to its result. */
    run: async (fnSource, ...args) => {
      const script = `const done = arguments[arguments.length - 1];
        Promise.resolve((${fnSource})(...Array.from(arguments).slice(0, -1)))
          .then((value) => done({ value }), (e) => done({ thrown: String(e) + " | " + String(e && e.stack) }));`;
      const out = await call("POST", `/session/${id}/execute/async`, { script, args });
      if (out?.thrown) throw new Error(`${engine}: ${out.thrown}`);
      return out?.value;
    },
    /** Press keys (W3C key names, e.g. "ArrowDown") on whatever has the focus, as a user would. */
    async keys(...names) {
      const codes = { ArrowDown: "\uE015", ArrowUp: "\uE013", Home: "\uE011", End: "\uE010", Enter: "\uE007", PageUp: "\uE00E", PageDown: "\uE00F", Tab: "\uE004" };
      const actions = names.flatMap((n) => [{ type: "keyDown", value: codes[n] ?? n }, { type: "keyUp", value: codes[n] ?? n }]);
      await call("POST", `/session/${id}/actions`, { actions: [{ type: "key", id: "keyboard", actions }] });
      await call("DELETE", `/session/${id}/actions`);
    },
    async close() {
      await call("DELETE", `/session/${id}`).catch(() => {});
      driver.kill();
      await once(driver, "exit").catch(() => {});
    },
  };
}

/** Whether the driver binaries are installed (scripts/setup.sh --browser installs them). */
export function available(engine) {
  return spawnSync(ENGINES[engine].driver, ["--version"]).status === 0;
}
