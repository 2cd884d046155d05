// A Worker module composed around examples/sync-worker (loaded as ./src/index.js beside it) for
// the tests: it gives EACH invocation — every fetch, scheduled, queue handler call and every
// OrgMirror start()/alarm() — its own instrumented env (D1, the Durable Object namespace, the
// queue) and API fetch, counts what Cloudflare limits per invocation on the Paid plan, and
// throws (recording a violation) the moment one is crossed. Miniflare enforces none of them.
//
// It also kills invocations on purpose for the exactness tests: at the k-th D1 write of an
// organization the write fails before running ("before"), runs and then fails ("after"), or is
// held and sent later, after a newer step's write ("zombie"); the invocation is dead from then
// on (every D1 call and fetch it makes fails). And it can pause at the k-th write until
// released, so that a test can fire triggers while a run stands at a chosen point.
//
// Control endpoints: /__test/* (handled here, never counted).
import worker, { OrgMirror as RealOrgMirror } from "./src/index.js";

export const LIMITS = {
  d1Queries: 1000, // per invocation, every statement of a batch counted
  boundParams: 100, // per statement
  sqlBytes: 100_000, // per statement
  valueBytes: 2_000_000, // a bound string/BLOB
  rowBytes: 2_000_000, // a row read
  subrequests: 1000, // fetch + Durable Object calls + queue sends
  queueBatchMessages: 100,
  queueBatchBytes: 256_000,
};

const PAID = { ...LIMITS };

const encoder = new TextEncoder();
const byteLength = (v) =>
  typeof v === "string" ? (/^[\x00-\x7f]*$/.test(v) ? v.length : encoder.encode(v).length) : v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? v.byteLength : 8;
const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP)\b/i;

const S = {
  invocations: [],
  violations: [],
  plan: null, // { kill: { org, at, mode } } | { pause: { org, at } }
  writes: new Map(), // org → D1 writes so far (since the last plan)
  writeLog: [],
  held: null, // a zombie's write: { org, exec, inv }
  zombies: [], // what the zombies' writes did when they finally ran
  kills: [],
  paused: null, // { org, at, release }
  route: null, // { from, to }: API requests redirected (another emulator)
  harness: null, // a URL told of invocation starts and ends (CPU per invocation, bench)
  seq: 0,
};

class Invocation {
  constructor(kind, org) {
    this.id = ++S.seq;
    this.kind = kind;
    this.org = org ?? null;
    this.d1Queries = 0;
    this.d1Calls = 0;
    this.fetches = 0;
    this.stubCalls = 0;
    this.queueSends = 0;
    this.maxParams = 0;
    this.maxSqlBytes = 0;
    this.maxValueBytes = 0;
    this.maxRowBytes = 0;
    this.writes = 0;
    this.dead = false;
    this.error = null;
    S.invocations.push(this);
  }

  get subrequests() {
    return this.fetches + this.stubCalls + this.queueSends;
  }

  limit(what, value, max) {
    if (value > max) {
      S.violations.push({ invocation: this.id, kind: this.kind, org: this.org, what, value, max });
      throw new Error(`Paid plan limit crossed in one ${this.kind} invocation: ${what} ${value} > ${max}`);
    }
  }

  alive() {
    if (this.dead) throw new Error("this invocation was killed by the test");
  }

  statement(sql, params) {
    this.d1Queries += 1;
    this.limit("D1 queries", this.d1Queries, LIMITS.d1Queries);
    this.maxParams = Math.max(this.maxParams, params.length);
    this.limit("bound parameters", params.length, LIMITS.boundParams);
    const sqlBytes = byteLength(sql);
    this.maxSqlBytes = Math.max(this.maxSqlBytes, sqlBytes);
    this.limit("SQL statement bytes", sqlBytes, LIMITS.sqlBytes);
    for (const p of params) {
      const n = byteLength(p);
      this.maxValueBytes = Math.max(this.maxValueBytes, n);
      this.limit("bound value bytes", n, LIMITS.valueBytes);
    }
  }

  rows(rows) {
    for (const row of rows ?? []) {
      let n = 0;
      for (const v of Object.values(row ?? {})) n += v === null ? 0 : byteLength(v);
      this.maxRowBytes = Math.max(this.maxRowBytes, n);
      this.limit("row bytes", n, LIMITS.rowBytes);
    }
  }

  subrequest(kind) {
    this.alive();
    this[kind] += 1;
    this.limit("subrequests", this.subrequests, LIMITS.subrequests);
  }

  /** One D1 call (a statement or a batch): counted, and where a plan says so killed, held or paused. */
  async d1(statements, exec) {
    this.alive();
    this.d1Calls += 1;
    for (const s of statements) this.statement(s.sql, s.params);
    const write = statements.some((s) => WRITE.test(s.sql));
    if (!write || this.org === null || (this.kind !== "alarm" && this.kind !== "start")) return exec();
    this.writes += 1;
    const n = (S.writes.get(this.org) ?? 0) + 1;
    S.writes.set(this.org, n);
    const head = statements.map((s) => s.sql.trim().split(/\s+/).slice(0, 3).join(" "));
    S.writeLog.push({ org: this.org, n, kind: this.kind, invocation: this.id, statements: head });
    if (S.writeLog.length > 20000) S.writeLog.splice(0, 10000);
    const pause = S.plan?.pause;
    if (pause && pause.org === this.org && pause.at === n) {
      await new Promise((release) => (S.paused = { org: this.org, at: n, kind: this.kind, statements: head, release }));
      S.paused = null;
    }
    const kill = S.plan?.kill;
    if (kill && kill.org === this.org && kill.at === n && (kill.mode !== "zombie" || this.kind === "alarm")) {
      S.kills.push({ org: this.org, at: n, mode: kill.mode, kind: this.kind, statements: head });
      this.dead = true;
      if (kill.mode === "after") {
        await exec();
      } else if (kill.mode === "zombie") {
        S.held = { org: this.org, exec, statements: head };
      }
      throw new Error(`killed by the test at write ${n} (${kill.mode})`);
    }
    const result = await exec();
    // A zombie's write lands right after a newer invocation's write of the same organization.
    if (S.held && S.held.org === this.org) {
      const held = S.held;
      S.held = null;
      try {
        const r = await held.exec();
        const rows = Array.isArray(r) ? r : [r];
        S.zombies.push({ org: held.org, statements: held.statements, ok: true, changes: rows.map((x) => x?.meta?.changes ?? (x === null ? 0 : null)) });
      } catch (e) {
        S.zombies.push({ org: held.org, statements: held.statements, ok: false, error: String(e.message).slice(0, 200) });
      }
    }
    return result;
  }

  async fetch(input, init) {
    this.subrequest("fetches");
    let request = new Request(input, init);
    if (S.route && request.url.startsWith(S.route.from)) request = new Request(S.route.to + request.url.slice(S.route.from.length), request);
    return fetch(request);
  }

  summary() {
    const { id, kind, org, d1Queries, d1Calls, fetches, stubCalls, queueSends, maxParams, maxSqlBytes, maxValueBytes, maxRowBytes, writes } = this;
    return { id, kind, org, d1Queries, d1Calls, fetches, stubCalls, queueSends, subrequests: this.subrequests, maxParams, maxSqlBytes, maxValueBytes, maxRowBytes, writes };
  }
}

function wrapStatement(inv, real, sql, params) {
  return {
    real,
    sql,
    params,
    bind(...args) {
      return wrapStatement(inv, real.bind(...args), sql, args);
    },
    async first(column) {
      const row = await inv.d1([this], () => real.first(column));
      if (row && typeof row === "object") inv.rows([row]);
      return row;
    },
    async all() {
      const r = await inv.d1([this], () => real.all());
      inv.rows(r.results);
      return r;
    },
    async run() {
      const r = await inv.d1([this], () => real.run());
      inv.rows(r.results);
      return r;
    },
    async raw(options) {
      return inv.d1([this], () => real.raw(options));
    },
  };
}

function wrapDb(db, inv) {
  return {
    prepare: (sql) => wrapStatement(inv, db.prepare(sql), sql, []),
    async batch(statements) {
      const results = await inv.d1(statements, () => db.batch(statements.map((s) => s.real)));
      for (const r of results) inv.rows(r.results);
      return results;
    },
    async exec(sql) {
      return inv.d1([{ sql, params: [] }], () => db.exec(sql));
    },
    withSession: () => {
      throw new Error("not used by the example");
    },
  };
}

function wrapEnv(env, inv) {
  const out = { ...env, DB: wrapDb(env.DB, inv) };
  const ns = env.ORG_MIRROR;
  out.ORG_MIRROR = {
    idFromName: (name) => ns.idFromName(name),
    get(id) {
      const stub = ns.get(id);
      return {
        start(...args) {
          inv.subrequest("stubCalls");
          return stub.start(...args);
        },
      };
    },
  };
  if (env.RUNS) {
    out.RUNS = {
      send(body, options) {
        inv.subrequest("queueSends");
        return env.RUNS.send(body, options);
      },
      sendBatch(messages, options) {
        inv.subrequest("queueSends");
        inv.limit("messages in a sendBatch", messages.length, LIMITS.queueBatchMessages);
        inv.limit("bytes in a sendBatch", byteLength(JSON.stringify(messages)), LIMITS.queueBatchBytes);
        return env.RUNS.sendBatch(messages, options);
      },
    };
  }
  return out;
}

async function mark(inv, edge) {
  if (!S.harness) return;
  try {
    await fetch(`${S.harness}/mark?inv=${inv.id}&edge=${edge}&kind=${inv.kind}`, { method: "POST" });
  } catch {
    // the bench is gone: nothing to tell
  }
}

async function invoke(kind, org, fn) {
  const inv = new Invocation(kind, org);
  await mark(inv, "start");
  try {
    return await fn(inv);
  } catch (e) {
    inv.error = String(e?.message ?? e).slice(0, 300);
    throw e;
  } finally {
    await mark(inv, "end");
  }
}

const normalize = (org) => String(org ?? "").trim().toLowerCase();

export class OrgMirror extends RealOrgMirror {
  /** This object with the invocation's env and API fetch in front of its own. */
  view(inv) {
    return Object.create(this, {
      env: { value: wrapEnv(this.env, inv) },
      apiFetch: { value: (input, init) => inv.fetch(input, init) },
    });
  }

  async start(org, trigger) {
    return invoke("start", normalize(org), (inv) => RealOrgMirror.prototype.start.call(this.view(inv), org, trigger));
  }

  async alarm(info) {
    const org = await this.ctx.storage.get("org");
    return invoke("alarm", org, (inv) => RealOrgMirror.prototype.alarm.call(this.view(inv), info));
  }
}

async function control(request, url) {
  const body = request.method === "POST" ? await request.json().catch(() => ({})) : {};
  switch (url.pathname) {
    case "/__test/plan":
      S.plan = body;
      S.writes = new Map();
      return Response.json({ ok: true });
    case "/__test/paused":
      return Response.json(S.paused ? { org: S.paused.org, at: S.paused.at, kind: S.paused.kind, statements: S.paused.statements } : null);
    case "/__test/release":
      S.paused?.release();
      return Response.json({ ok: true });
    case "/__test/route":
      S.route = body.to ? { from: body.from, to: body.to } : null;
      return Response.json({ ok: true });
    case "/__test/limits":
      // Lowered by a test that checks this wrapper bites; {} restores the Paid limits.
      Object.assign(LIMITS, PAID, body);
      return Response.json(LIMITS);
    case "/__test/harness":
      S.harness = body.url ?? null;
      return Response.json({ ok: true });
    case "/__test/reset":
      S.invocations = [];
      S.violations = [];
      S.kills = [];
      S.zombies = [];
      S.writeLog = [];
      return Response.json({ ok: true });
    case "/__test/writes":
      return Response.json(S.writeLog);
    case "/__test/stats": {
      const all = S.invocations.map((i) => i.summary());
      const max = {};
      for (const key of ["d1Queries", "d1Calls", "fetches", "stubCalls", "queueSends", "subrequests", "maxParams", "maxSqlBytes", "maxValueBytes", "maxRowBytes"]) {
        max[key] = all.reduce((m, i) => Math.max(m, i[key]), 0);
      }
      const byKind = {};
      for (const i of all) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
      return Response.json({
        invocations: all.length,
        byKind,
        max,
        violations: S.violations,
        kills: S.kills,
        zombies: S.zombies,
        errors: S.invocations.filter((i) => i.error).map((i) => ({ id: i.id, kind: i.kind, error: i.error })).slice(-20),
        list: url.searchParams.has("list") ? all : undefined,
      });
    }
    default:
      return new Response("no such test endpoint", { status: 404 });
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__test/")) return control(request, url);
    return invoke("fetch", null, (inv) => worker.fetch(request, wrapEnv(env, inv), ctx));
  },
  async scheduled(controller, env, ctx) {
    return invoke("scheduled", null, (inv) => worker.scheduled(controller, wrapEnv(env, inv), ctx));
  },
  async queue(batch, env, ctx) {
    return invoke("queue", null, (inv) => worker.queue(batch, wrapEnv(env, inv), ctx));
  },
};
