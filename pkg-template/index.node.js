// Node >= 20: read the wasm next to this file and instantiate it synchronously.
import { readFileSync } from "node:fs";
import * as glue from "./appxite_customers.js";
import { installFastIterator } from "./fast-iterator.js";

glue.initSync({ module: readFileSync(new URL("./appxite_customers_bg.wasm", import.meta.url)) });
installFastIterator(glue);

export const AppxiteClient = glue.AppxiteClient;
export const CustomerPager = glue.CustomerPager;
export const CustomerIterator = glue.CustomerIterator;
export const PageIterator = glue.PageIterator;
