// Server side: the emulator and organization come from the environment `next start` got.
import { AppxiteClient } from "appxite-customers";

export async function customers() {
  const client = new AppxiteClient({ baseUrl: process.env.APPXITE_API, referer: "https://portal.example", token: "dev-token" });
  const ids = [];
  for await (const c of client.customers(process.env.APPXITE_ORG, { pageSize: 100 })) ids.push(c.customerId);
  return { ok: true, count: ids.length, first: ids.slice(0, 3) };
}
