// The server-side app: `node app.mjs <api> <org>` prints the result as one JSON line.
import { AppxiteClient } from "appxite-customers";

const [api, org] = process.argv.slice(2);
const client = new AppxiteClient({ baseUrl: api, referer: "https://portal.example", token: "dev-token" });
const ids = [];
for await (const c of client.customers(org, { pageSize: 100 })) ids.push(c.customerId);
console.log(JSON.stringify({ ok: true, count: ids.length, first: ids.slice(0, 3) }));
