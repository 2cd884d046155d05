// Cloudflare Workers (wrangler/workerd): the .wasm import is a compiled WebAssembly.Module.
import wasmModule from "./appxite_customers_bg.wasm";
import * as glue from "./appxite_customers.js";
import { installFastIterator } from "./fast-iterator.js";
import { installGuard } from "./guard.js";

glue.initSync({ module: wasmModule });
// The client that survives a broken instance (guard.js), then the JS fast path.
const Client = installGuard(glue);
installFastIterator(glue);

export const AppxiteClient = Client;
export const CustomerPager = glue.CustomerPager;
export const CustomerIterator = glue.CustomerIterator;
export const PageIterator = glue.PageIterator;
export const SyncRun = glue.SyncRun;
