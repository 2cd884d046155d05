export { AppxiteClient, CustomerPager, CustomerIterator, PageIterator, SyncRun } from "./appxite_customers.js";
export type * from "./appxite_customers.js";
