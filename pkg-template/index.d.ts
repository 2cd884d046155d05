export { AppxiteClient, CustomerPager, CustomerIterator, PageIterator } from "./appxite_customers.js";
export type * from "./appxite_customers.js";
