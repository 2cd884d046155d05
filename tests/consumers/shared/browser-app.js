// The browser app every bundler builds: `import` by name, no init, no config. It reads the
// emulator's URL and an organization from the page's query and writes the result into #out.
import { AppxiteClient } from "appxite-customers";

const params = new URLSearchParams(location.search);
const out = document.getElementById("out");
try {
  const client = new AppxiteClient({ baseUrl: params.get("api"), token: "dev-token" });
  const ids = [];
  for await (const c of client.customers(params.get("org"), { pageSize: 100 })) ids.push(c.customerId);
  out.textContent = JSON.stringify({ ok: true, count: ids.length, first: ids.slice(0, 3) });
} catch (e) {
  out.textContent = JSON.stringify({ ok: false, error: String(e?.code ?? e) });
}
