// A Worker as wrangler bundles it: the package's workerd entry, the .wasm as a module.
import { AppxiteClient } from "appxite-customers";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const client = new AppxiteClient({ baseUrl: url.searchParams.get("api"), referer: "https://portal.example", token: "dev-token" });
    const ids = [];
    for await (const c of client.customers(url.searchParams.get("org"), { pageSize: 100 })) ids.push(c.customerId);
    return Response.json({ ok: true, count: ids.length, first: ids.slice(0, 3) });
  },
};
