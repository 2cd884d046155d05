// A typed consumer of the package: `tsc --strict` must accept every use below, and every
// `@ts-expect-error` line must really be an error (tsc fails on an unused one).
import {
  AppxiteClient,
  type AppxiteError,
  type AppxiteErrorCode,
  type AppxiteEvent,
  type Customer,
  type CustomerPage,
  type CustomerStatus,
  type CustomerTenant,
  type CustomersOptions,
  type CustomerChange,
  type SyncOptions,
  type SyncStats,
  SyncRun,
} from "appxite-customers";

export async function changes(client: AppxiteClient, stored: Uint8Array | undefined): Promise<Uint8Array | undefined> {
  const options: SyncOptions = { includeTenants: true, snapshot: stored, timeoutMs: 10_000 };
  const run: SyncRun = client.sync("org", options);
  for await (const change of run) {
    const c: CustomerChange = change;
    switch (c.type) {
      case "added":
      case "changed": {
        const name: string | null | undefined = c.customer.customerName;
        console.log(c.customerId, name);
        break;
      }
      case "removed":
        console.log(c.customerId);
        break;
    }
  }
  const stats: SyncStats = run.stats;
  const fresh: SyncRun = client.sync("org");
  console.log(fresh.snapshot?.byteLength);
  console.log(stats.added + stats.changed + stats.removed + stats.unchanged);
  let token: string | undefined;
  for await (const page of client.customers("org", { pageSize: 100 }).byPage()) {
    token = page.continuationToken;
    break;
  }
  for await (const c of client.customers("org", { pageSize: 100, continuationToken: token })) console.log(c.customerId);
  return run.snapshot;
}

export async function sync(signal: AbortSignal): Promise<number> {
  const client = new AppxiteClient({
    baseUrl: "https://api.appxite.com",
    referer: "https://portal.example",
    token: async (refresh: boolean) => (refresh ? "new" : "cached"),
    retry: { maxRetries: 5, maxRetryAfterMs: 30_000 },
    timeoutMs: 30_000,
    onEvent: (e: AppxiteEvent) => {
      if (e.type === "retry") console.log(e.delayMs, e.reason);
      if (e.type === "page") console.log(e.page, e.items);
    },
  });
  const options: CustomersOptions = { includeTenants: true, customerStatus: "Active", pageSize: 500, signal };
  let n = 0;
  for await (const c of client.customers("e99ff867-dbf6-42c9-b82f-f84cb27281e9", options)) {
    const id: string = c.customerId;
    const name: string | null | undefined = c.customerName;
    const tenants: CustomerTenant[] = c.customerTenants ?? [];
    const domains: (string | null | undefined)[] = tenants.map((t) => t.DomainName);
    const city = c.customerPrimaryAddress?.primaryAddressCity;
    const email = c.customerServiceDeskContact?.serviceDeskContactEmail;
    const industries: string[] = c.customerIndustries ?? [];
    const status: CustomerStatus | null | undefined = c.customerStatus;
    console.log(id, name, domains, city, email, industries, status);
    n++;
  }
  for await (const page of client.customers("x").byPage()) {
    const p: CustomerPage = page;
    const items: Customer[] = p.items;
    console.log(p.page, p.pageSize, items.length);
  }
  const all: Customer[] = await client.customersByIds(["a", "b"], { batchSize: 50 }).toArray({ limit: 50_000 });
  const one: CustomerPage = await client.customersPage("x", { page: 2 });
  console.log(all.length, one.items.length);
  return n;
}

export function describe(e: unknown): string {
  const err = e as AppxiteError;
  const code: AppxiteErrorCode = err.code;
  switch (code) {
    case "RATE_LIMITED":
      return `wait ${err.retryAfterMs ?? 0} ms`;
    case "UNAUTHORIZED":
      return "the token was refused";
    default:
      return `${err.name} ${code} ${err.status ?? ""} ${err.message}`;
  }
}

export function wrong(client: AppxiteClient): void {
  // @ts-expect-error: not a status the API knows
  client.customers("x", { customerStatus: "Deleted" });
  // @ts-expect-error: misspelled option
  client.customers("x", { includeTenant: true });
  // @ts-expect-error: misspelled client option
  new AppxiteClient({ baseURL: "https://api.appxite.com" });
  // @ts-expect-error: ids must be strings
  client.customersByIds([1, 2]);
  // @ts-expect-error: a sync always reads every page
  client.sync("x", { page: 2 });
  // @ts-expect-error: the snapshot is bytes
  client.sync("x", { snapshot: "AXCS" });
  // @ts-expect-error: records keep the API's names: the tenant key is DomainName
  const t: CustomerTenant = { domainName: "x" };
  console.log(t);
}
