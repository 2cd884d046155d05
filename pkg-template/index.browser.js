// Browsers, Vite and other bundlers: fetch and instantiate the wasm next to this file.
// Top-level await, so `import { AppxiteClient } from "appxite-customers"` needs no init call.
import init, * as glue from "./appxite_customers.js";
import { installFastIterator } from "./fast-iterator.js";

await init({ module_or_path: new URL("./appxite_customers_bg.wasm", import.meta.url) });
installFastIterator(glue);

// Local bindings (not `export … from`): a bundler may then never skip this module's init.
export const AppxiteClient = glue.AppxiteClient;
export const CustomerPager = glue.CustomerPager;
export const CustomerIterator = glue.CustomerIterator;
export const PageIterator = glue.PageIterator;
