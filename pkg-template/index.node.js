// Node ≥ 20.19, Bun, Deno, and server bundles (esbuild --platform=node, Next.js server code):
// the wasm comes from wasm-inline.js, not from a file next to this one — so a bundle that
// moved this code elsewhere still finds it, and Deno needs no read permission. Synchronous
// (no top-level await), so `require("appxite-customers")` works too.
import { Buffer } from "node:buffer";
import { gunzipSync } from "node:zlib";
import * as glue from "./appxite_customers.js";
import { wasmGzipBase64 } from "./wasm-inline.js";
import { installFastIterator } from "./fast-iterator.js";

glue.initSync({ module: new WebAssembly.Module(gunzipSync(Buffer.from(wasmGzipBase64, "base64"))) });
installFastIterator(glue);

export const AppxiteClient = glue.AppxiteClient;
export const CustomerPager = glue.CustomerPager;
export const CustomerIterator = glue.CustomerIterator;
export const PageIterator = glue.PageIterator;
export const SyncRun = glue.SyncRun;
