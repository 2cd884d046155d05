// A Cloudflare Worker that streams every customer of an organization as NDJSON:
//   GET /customers.ndjson?org=<id>&status=Active&include=addresses,contacts,tenants
// One customer per line, written as the SDK yields them, through a TransformStream: the
// Worker never holds the whole list, and when the client reads slowly, the SDK waits
// (backpressure) instead of fetching ahead.
import { AppxiteClient } from "appxite-customers";

const INCLUDES = {
  addresses: "includeAddresses",
  contacts: "includeContacts",
  customproperties: "includeCustomProperties",
  tenants: "includeTenants",
  industries: "includeIndustries",
};
const STATUSES = ["New", "Active", "Suspended"];
// Organization IDs are GUIDs. Checked here, before the ID reaches the SDK: anyone can call
// this Worker, and only what is an organization ID may go into an authenticated request.
const ORG_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function json(status, body) {
  return Response.json(body, { status });
}

/** The HTTP status this Worker answers with for an SDK error before the first line. */
function statusFor(code) {
  return { INVALID_ARGUMENT: 400, BAD_REQUEST: 400, NOT_FOUND: 404, MIXED_PLATFORM: 400, RATE_LIMITED: 429, TIMEOUT: 504 }[code] ?? 502;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/customers.ndjson") return json(404, { error: "try GET /customers.ndjson?org=<id>" });
    if (request.method !== "GET") return json(405, { error: "GET only" });

    const org = url.searchParams.get("org");
    if (!org) return json(400, { error: "org is required" });
    if (!ORG_ID.test(org)) return json(400, { error: "org must be an organization ID (a GUID)" });
    const query = { signal: request.signal };
    const status = url.searchParams.get("status");
    if (status) {
      if (!STATUSES.includes(status)) return json(400, { error: `status must be one of ${STATUSES.join(", ")}` });
      query.customerStatus = status;
    }
    for (const name of (url.searchParams.get("include") ?? "").split(",").filter(Boolean)) {
      const key = INCLUDES[name.toLowerCase()];
      if (!key) return json(400, { error: `unknown include '${name}'; use ${Object.keys(INCLUDES).join(", ")}` });
      query[key] = true;
    }
    if (url.searchParams.has("pageSize")) query.pageSize = Number(url.searchParams.get("pageSize"));

    let customers;
    let first;
    try {
      const client = new AppxiteClient({
        baseUrl: env.APPXITE_BASE_URL,
        referer: env.APPXITE_REFERER,
        token: env.APPXITE_TOKEN,
        subscriptionKey: env.APPXITE_SUBSCRIPTION_KEY || undefined,
      });
      customers = client.customers(org, query)[Symbol.asyncIterator]();
      // Wait for the first customer, so that errors such as a refused token or an unknown
      // organization become a proper status code instead of an empty 200.
      first = await customers.next();
    } catch (e) {
      return json(statusFor(e.code), { error: { code: e.code, message: e.message } });
    }

    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    const pump = async () => {
      try {
        for (let r = first; !r.done; r = await customers.next()) {
          await writer.ready; // backpressure: wait while the client is not reading
          await writer.write(encoder.encode(JSON.stringify(r.value) + "\n"));
        }
        await writer.close();
      } catch (e) {
        // The client went away (stop the SDK) or the API failed mid-stream: abort the
        // response so the client sees an incomplete body, never a silently short one.
        await customers.return?.();
        await writer.abort(e).catch(() => {});
      }
    };
    pump();
    return new Response(readable, { headers: { "content-type": "application/x-ndjson; charset=utf-8" } });
  },
};
