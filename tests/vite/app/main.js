// A user's Vite app: import by name, no init call.
import { AppxiteClient } from "appxite-customers";

const api = new URLSearchParams(location.search).get("api");
const out = document.getElementById("out");
try {
  const client = new AppxiteClient({ baseUrl: api, token: "dev-token" });
  const org = new URLSearchParams(location.search).get("org");
  const customers = await client.customers(org, { includeTenants: true }).toArray({ limit: 5 });
  out.textContent = JSON.stringify({ ok: true, ids: customers.map((c) => c.customerId) });
} catch (e) {
  out.textContent = JSON.stringify({ ok: false, code: e.code, message: e.message });
}
