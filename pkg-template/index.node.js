// Node ≥ 20.19, Bun, Deno, and server bundles (esbuild --platform=node, Next.js server code):
// the wasm comes from wasm-base64.js, not from a file next to this one — so a bundle that
// moved this code elsewhere still finds it, and Deno needs no read permission. Synchronous
// (no top-level await), so `require("appxite-customers")` works too.
// Plain base64, not the browsers' gzip: loading node:zlib and gunzipping cost ~6 ms of CPU
// per process start (measured: import 11.5–13.2 → 5.4–6.5 ms for these steps); a server
// does not mind the 91 KB it adds to the tarball.
import { Buffer } from "node:buffer";
import * as glue from "./appxite_customers.js";
import { wasmBase64 } from "./wasm-base64.js";
import { installFastIterator } from "./fast-iterator.js";
import { installGuard } from "./guard.js";

glue.initSync({ module: new WebAssembly.Module(Buffer.from(wasmBase64, "base64")) });
// The client that survives a broken instance (guard.js), then the JS fast path.
const Client = installGuard(glue);
installFastIterator(glue);

export const AppxiteClient = Client;
export const CustomerPager = glue.CustomerPager;
export const CustomerIterator = glue.CustomerIterator;
export const PageIterator = glue.PageIterator;
export const SyncRun = glue.SyncRun;
