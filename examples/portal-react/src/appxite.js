// One AppxiteClient for the whole app, and where it points. Each setting comes from the page's
// query string first (handy against the emulator: ?api=…&org=…), then from a VITE_ variable
// (.env.local), then a default for `make demo`'s emulator.
import { AppxiteClient } from "appxite-customers";

const params = new URLSearchParams(location.search);
const env = import.meta.env;

export const config = {
  baseUrl: params.get("api") ?? env.VITE_APPXITE_BASE_URL ?? "http://127.0.0.1:8080",
  orgId: params.get("org") ?? env.VITE_APPXITE_ORG_ID ?? "",
  pageSize: Number(params.get("pageSize") ?? env.VITE_APPXITE_PAGE_SIZE ?? 100),
};

// X-Referer is this page's origin (the default in a browser). A real portal returns its
// user's bearer token here (called before each request; again with `true` after a 401).
// A VITE_ variable ends up in the bundle: use one only for the emulator's dev-token.
export const client = new AppxiteClient({
  baseUrl: config.baseUrl,
  token: () => params.get("token") ?? env.VITE_APPXITE_TOKEN ?? "dev-token",
});

/** What the table and the sync ask for (the same object every render: it is in query keys). */
export const QUERY = Object.freeze({ includeAddresses: true, includeTenants: true, pageSize: config.pageSize });

/** The emulator only: with no organization given, its first organization. */
export async function emulatorDefaultOrg() {
  const res = await fetch(`${config.baseUrl.replace(/\/$/, "")}/__mock/orgs`);
  if (!res.ok) throw new Error(`no organization given (?org= or VITE_APPXITE_ORG_ID)`);
  return (await res.json()).orgs[0].id;
}
