// Cloudflare Workers (wrangler/workerd): the .wasm import is a compiled WebAssembly.Module.
import wasmModule from "./appxite_customers_bg.wasm";
import * as glue from "./appxite_customers.js";
import { installFastIterator } from "./fast-iterator.js";

glue.initSync({ module: wasmModule });
installFastIterator(glue);

export const AppxiteClient = glue.AppxiteClient;
export const CustomerPager = glue.CustomerPager;
export const CustomerIterator = glue.CustomerIterator;
export const PageIterator = glue.PageIterator;
export const SyncRun = glue.SyncRun;
