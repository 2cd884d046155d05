// A mirror of Appxite customers in D1, for distributors and resellers, on Cloudflare's own
// primitives (see README.md):
// - a Cron Trigger asks each mirrored organization's Durable Object (OrgMirror) to start a run —
//   directly, or through a Queue when the RUNS binding exists (thousands of organizations);
// - an OrgMirror runs its organization's run in steps, each its own alarm invocation, committing
//   pages and the run's cursor together in D1 under a lease (src/mirror.js);
// - the read API answers from D1 only (src/read.js):
//   GET /customers  /customers/{id}  /changes  /status  /export;  POST /runs (ADMIN_TOKEN)
import { configuredOrgs, orgId } from "./config.js";
import { ensureSchema } from "./db.js";
import { BadRequest, errorResponse, read } from "./read.js";
import { OrgMirror } from "./mirror.js";

export { OrgMirror };

/** The Durable Object that drives `org`'s runs. */
export function mirrorOf(env, org) {
  return env.ORG_MIRROR.get(env.ORG_MIRROR.idFromName(org));
}

/** APPXITE_ORG_IDS, and the rows of mirror_orgs (for more organizations than a variable holds). */
export async function allOrgs(env) {
  const orgs = configuredOrgs(env);
  const { results } = await env.DB.prepare("SELECT org FROM mirror_orgs ORDER BY org").all();
  for (const r of results) {
    const id = orgId(r.org);
    if (id !== null && !orgs.includes(id)) orgs.push(id);
  }
  return orgs;
}

/** Up to `limit` calls at once (a Worker has 6 simultaneous connections). */
async function eachLimited(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Asks every organization's mirror to start a run; returns how many were asked. */
export async function triggerAll(env, trigger) {
  await ensureSchema(env.DB);
  const orgs = await allOrgs(env);
  if (env.RUNS) {
    // Fan-out through the queue: 100 messages per sendBatch, so 10,000 organizations cost the
    // cron 100 subrequests; the consumer (below) asks each mirror.
    for (let i = 0; i < orgs.length; i += 100) await env.RUNS.sendBatch(orgs.slice(i, i + 100).map((org) => ({ body: { org, trigger } })));
  } else {
    const failed = [];
    await eachLimited(orgs, 6, async (org) => {
      try {
        await mirrorOf(env, org).start(org, trigger);
      } catch (e) {
        console.error(`${org}: could not start a run:`, e?.message);
        failed.push(org);
      }
    });
    if (failed.length > 0) throw new Error(`${failed.length} of ${orgs.length} organizations could not start a run`);
  }
  return orgs.length;
}

function authorized(request, env) {
  const want = env.ADMIN_TOKEN;
  if (typeof want !== "string" || want.length === 0) return false;
  const got = request.headers.get("authorization") ?? "";
  const expected = `Bearer ${want}`;
  if (got.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < got.length; i++) diff |= got.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

async function handle(request, env) {
  const url = new URL(request.url);
  if (url.pathname === "/runs") {
    if (request.method !== "POST") return errorResponse(405, "METHOD_NOT_ALLOWED", "POST /runs", { allow: "POST" });
    if (!authorized(request, env)) return errorResponse(401, "UNAUTHORIZED", "POST /runs needs Authorization: Bearer <ADMIN_TOKEN>", { "www-authenticate": "Bearer" });
    const names = [...url.searchParams.keys()];
    if (names.some((n) => n !== "org") || names.length > 1) throw new BadRequest("UNKNOWN_PARAMETER", "POST /runs takes only org");
    await ensureSchema(env.DB);
    const raw = url.searchParams.get("org");
    if (raw === null) return Response.json({ asked: await triggerAll(env, "manual") }, { status: 202 });
    const org = orgId(raw);
    if (org === null) throw new BadRequest("BAD_ORG", "org must be an organization ID (a UUID)");
    if (!(await allOrgs(env)).includes(org)) return errorResponse(404, "NOT_FOUND", "that organization is not mirrored here");
    return Response.json(await mirrorOf(env, org).start(org, "manual"), { status: 202 });
  }
  if (request.method !== "GET" && request.method !== "HEAD") return errorResponse(405, "METHOD_NOT_ALLOWED", "the read API is GET only", { allow: "GET, HEAD" });
  await ensureSchema(env.DB);
  return (await read(request, env, url)) ?? errorResponse(404, "NOT_FOUND", "GET /customers, /customers/{id}, /changes, /status or /export");
}

export default {
  async fetch(request, env) {
    try {
      return await handle(request, env);
    } catch (e) {
      if (e instanceof BadRequest) return errorResponse(e.status, e.code, e.message);
      // Never SQL, a stack or a secret in a response: those go to the logs only.
      console.error("request failed:", e);
      return errorResponse(500, "INTERNAL", "internal error");
    }
  },

  async scheduled(controller, env) {
    const n = await triggerAll(env, "cron");
    console.log(`cron: asked ${n} organization mirrors to run`);
  },

  async queue(batch, env) {
    for (const message of batch.messages) {
      const org = orgId(message.body?.org);
      if (org === null) {
        console.error("queue: a message without an organization ID, dropped");
        message.ack();
        continue;
      }
      try {
        await mirrorOf(env, org).start(org, typeof message.body.trigger === "string" ? message.body.trigger.slice(0, 20) : "queue");
        message.ack();
      } catch (e) {
        console.error(`${org}: could not start a run:`, e?.message);
        message.retry();
      }
    }
  },
};
