// The built package inside workerd (Cloudflare's runtime) against appxite-mock.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startMock, truthIds } from "../node/mock.mjs";
import { startWorker } from "./miniflare.mjs";

const WORKER = `
import { AppxiteClient } from "appxite-customers";
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const started = Date.now();
    try {
      const client = new AppxiteClient({ baseUrl: env.API, referer: url.searchParams.get("referer") ?? undefined, token: env.TOKEN });
      const org = url.searchParams.get("org");
      if (url.pathname === "/ids") {
        const ids = [];
        for await (const c of client.customers(org, { pageSize: Number(url.searchParams.get("pageSize")), includeTenants: true })) ids.push(c.customerId);
        return Response.json({ ids });
      }
      if (url.pathname === "/reads") {
        // Every read of workerd's readAtLeast the SDK makes, seen through a wrapper.
        const proto = ReadableStreamBYOBReader.prototype;
        const original = proto.readAtLeast;
        const reads = [];
        proto.readAtLeast = async function (min, view) {
          const r = await original.call(this, min, view);
          reads.push({ min, bytes: r.value?.length ?? 0, done: r.done });
          return r;
        };
        try {
          const ids = [];
          const all = { includeAddresses: true, includeContacts: true, includeCustomProperties: true, includeTenants: true, includeIndustries: true };
          for await (const c of client.customers(org, { ...all, pageSize: Number(url.searchParams.get("pageSize")) })) ids.push(c.customerId);
          return Response.json({ ids, reads });
        } finally {
          proto.readAtLeast = original;
        }
      }
      if (url.pathname === "/pages") {
        const sizes = [];
        for await (const p of client.customers(org, { pageSize: 100 }).byPage()) sizes.push(p.items.length);
        return Response.json({ sizes });
      }
      if (url.pathname === "/break") {
        let n = 0;
        for await (const c of client.customers(org, { pageSize: 10 })) if (++n === 15) break;
        return Response.json({ n });
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return Response.json({ name: e.name, code: e.code, message: e.message, isError: e instanceof Error, ms: Date.now() - started });
    }
  },
};`;

let mock;
let mf;
before(async () => {
  mock = await startMock();
  mf = startWorker(WORKER, { API: mock.url, TOKEN: "dev-token" });
  await mf.ready;
});
after(async () => {
  await mf?.dispose();
  await mock?.stop();
});

const call = async (path) => (await mf.dispatchFetch(`http://worker${path}`)).json();

test("a Worker syncs every customer of a distributor, in order", async () => {
  const d = mock.distributors[0];
  const { ids } = await call(`/ids?org=${d.id}&pageSize=500&referer=https://portal.example`);
  assert.equal(ids.length, d.customerCount);
  assert.deepEqual(ids, await truthIds(mock, d.id));
});

test("in workerd the body is read by readAtLeast(64 KB) once its chunks turn out small, and nothing is lost at the end", async () => {
  const d = mock.distributors[0];
  const pageSize = 300;
  const { ids, reads } = await call(`/reads?org=${d.id}&pageSize=${pageSize}&referer=https://portal.example`);
  assert.deepEqual(ids, await truthIds(mock, d.id));
  const pages = Math.floor(d.customerCount / pageSize) + 1;
  assert.ok(reads.length > pages, `${reads.length} readAtLeast reads for ${pages} pages`);
  assert.ok(reads.every((r) => r.min === 64 * 1024));
  // Short only where a body ends: at most one short read with data and one final read a page.
  const short = reads.filter((r) => r.bytes < r.min);
  assert.ok(short.length <= 2 * pages, `${short.length} short reads for ${pages} pages`);
  assert.ok(reads.some((r) => r.bytes >= r.min));
});

test("byPage and break work in workerd", async () => {
  const r = mock.resellers[0];
  const { sizes } = await call(`/pages?org=${r.id}&referer=https://portal.example`);
  assert.equal(sizes.reduce((a, b) => a + b, 0), r.customerCount);
  const before = (await mock.stats()).requests;
  const { n } = await call(`/break?org=${mock.distributors[0].id}&referer=https://portal.example`);
  assert.equal(n, 15);
  assert.equal((await mock.stats()).requests - before, 2);
});

test("there is no page in a Worker: no referer is MISSING_REFERER, a real Error", async () => {
  const e = await call(`/ids?org=${mock.distributors[0].id}&pageSize=10`);
  assert.deepEqual([e.name, e.code, e.isError], ["AppxiteError", "MISSING_REFERER", true]);
});
