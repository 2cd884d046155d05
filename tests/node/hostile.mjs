// A deliberately broken or hostile HTTP server on loopback, for what the emulator is too
// well-behaved to do: ignore `page`, redirect to another origin, stall a body, send a record
// that never ends. `handler(req, res, n)` gets the request number (1-based).
import { createServer } from "node:http";
import { once } from "node:events";

export async function hostileServer(handler) {
  let n = 0;
  const sockets = new Set();
  const server = createServer((req, res) => {
    n += 1;
    // Preflight-free callers (Node) only; answer anything else plainly.
    Promise.resolve(handler(req, res, n)).catch(() => res.destroy());
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests: () => n,
    async stop() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** Writes `chunk` `times` times, respecting backpressure; stops quietly if the client left. */
export async function writeMany(res, chunk, times) {
  for (let i = 0; i < times; i++) {
    if (res.destroyed) return false;
    if (!res.write(chunk)) {
      // One listener pair per wait, removed after (events.once would leave the loser's behind).
      await new Promise((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
  }
  return !res.destroyed;
}
