// Browsers and every bundler (webpack, Vite, Rollup, esbuild, Parcel, Next.js): the wasm is
// embedded in wasm-inline.js (gzip, then base64), so there is no asset for a bundler to emit —
// or to silently leave out — and no URL or file to resolve at run time. The runtime's own
// DecompressionStream unpacks it (Zopfli's gzip: the embedded text, gzipped again by a server, is
// ~4 KB smaller than the bare .wasm at gzip -9);
// top-level await, so `import { AppxiteClient } from "appxite-customers"` needs no init call.
import * as glue from "./appxite_customers.js";
import { wasmGzipBase64 } from "./wasm-inline.js";
import { installFastIterator } from "./fast-iterator.js";
import { installGuard } from "./guard.js";

const gzipped = Uint8Array.from(atob(wasmGzipBase64), (c) => c.charCodeAt(0));
const bytes = await new Response(new Blob([gzipped]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
glue.initSync({ module: await WebAssembly.compile(bytes) });
// The client that survives a broken instance (guard.js), then the JS fast path.
const Client = installGuard(glue);
installFastIterator(glue);

// Local bindings (not `export … from`): a bundler may then never skip this module's init.
export const AppxiteClient = Client;
export const CustomerPager = glue.CustomerPager;
export const CustomerIterator = glue.CustomerIterator;
export const PageIterator = glue.PageIterator;
export const SyncRun = glue.SyncRun;
