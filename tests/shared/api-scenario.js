// The JS API in a page, run unchanged in every browser engine: for await, byPage, toArray,
// break, customersPage, and the error codes as real Error objects. Returns plain data.
export async function apiScenario(AppxiteClient, cfg) {
  const client = new AppxiteClient({ baseUrl: cfg.url, token: "dev-token" }); // X-Referer: the page's origin
  const ids = [];
  for await (const c of client.customers(cfg.org, { pageSize: 50 })) ids.push(c.customerId);
  const pages = [];
  for await (const p of client.customers(cfg.org, { pageSize: 50 }).byPage()) pages.push(p.items.length);
  const some = (await client.customers(cfg.org, { pageSize: 4 }).toArray({ limit: 10 })).length;
  let broke = 0;
  for await (const _ of client.customers(cfg.org, { pageSize: 5 })) if (++broke === 7) break;
  const page = await client.customersPage(cfg.org, { pageSize: 3, page: 2 });
  const errors = {};
  const grab = async (name, f) => {
    try {
      await f();
      errors[name] = "no error";
    } catch (e) {
      errors[name] = [e.name, e.code, e.status ?? null, e instanceof Error];
    }
  };
  await grab("unauthorized", () => new AppxiteClient({ baseUrl: cfg.url, token: "nope" }).customers(cfg.org).toArray());
  await grab("forbidden", () => new AppxiteClient({ baseUrl: cfg.url, token: "dev-token", referer: "https://elsewhere.example" }).customers(cfg.org).toArray());
  await grab("notFound", () => client.customers("00000000-0000-4000-8000-000000000000").toArray());
  await grab("invalid", () => client.customers(cfg.org, { pageSize: 0 }));
  await grab("network", () => new AppxiteClient({ baseUrl: "http://127.0.0.1:9", retry: false }).customers(cfg.org).toArray());
  return { ids, pages, some, broke, page: [page.page, page.items.length], errors };
}
