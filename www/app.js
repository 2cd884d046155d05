// The demo page: one client, one pager (or one sync), a virtualised grid. Customer data is
// only ever written with textContent, never as HTML.
import { AppxiteClient } from "appxite-customers";
import { toCsv, toNdjson, download } from "./export.js";
import { loadSync, saveSync, forgetSync } from "./store.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const DEFAULT_API = params.get("api") ?? `${location.protocol}//${location.hostname}:8080`;
const INCLUDES = ["includeChildOrganizations", "includeAddresses", "includeContacts", "includeCustomProperties", "includeTenants", "includeIndustries"];
const ROW = 32;

const FRIENDLY = {
  UNAUTHORIZED: "The token was refused. Check the token (the emulator's default is dev-token).",
  FORBIDDEN: "The API refused this page: the X-Referer does not match where the page runs.",
  NOT_FOUND: "That organization does not exist (or this token cannot see it).",
  MIXED_PLATFORM: "Those organizations belong to different platforms; ask for one platform at a time.",
  BAD_REQUEST: "The API rejected the request.",
  RATE_LIMITED: "The API is rate limiting this token. Try again in a moment.",
  NETWORK: "The API could not be reached. Is the base URL right and the server running?",
  TIMEOUT: "The API took too long to answer.",
  DECODE: "The API answered with something that is not a customer list.",
  INVALID_ARGUMENT: "Check the form: a value is not valid.",
  MISSING_REFERER: "No X-Referer could be determined.",
  HTTP: "The API answered with an error.",
  ABORTED: "Cancelled.",
  PAGINATION: "The API does not page as asked (it sent a page again).",
  REDIRECT: "The API answered with a redirect: check the base URL.",
  INTERNAL: "Something broke inside the SDK; it has recovered, so try again.",
};

let customers = [];
let visible = customers;
let controller = null;
let selected = -1;
/** Sync mode: customerId → "added" | "changed" for the rows the last sync changed. */
let marks = new Map();
let emulator = false;
/** Sync mode: tells this browser's other tabs of this demo that a sync was stored or forgotten. */
const channel = "BroadcastChannel" in self ? new BroadcastChannel("appxite-customers-demo") : null;

$("baseUrl").value = DEFAULT_API;
$("token").value = params.get("token") ?? "dev-token";
$("referer").textContent = location.origin;

async function loadOrgs() {
  const select = $("orgSelect");
  try {
    const res = await fetch(`${$("baseUrl").value.replace(/\/$/, "")}/__mock/orgs`);
    if (!res.ok) throw new Error(String(res.status));
    const tree = await res.json();
    select.replaceChildren();
    for (const o of tree.orgs) {
      const opt = document.createElement("option");
      opt.value = o.id;
      opt.textContent = `${o.kind === "reseller" ? "  └ " : ""}${o.name} — ${o.customerCount.toLocaleString()} customers (${o.kind})`;
      select.append(opt);
    }
    select.hidden = false;
    $("orgText").hidden = true;
    emulator = true;
  } catch {
    // Not the emulator: free text.
    select.hidden = true;
    $("orgText").hidden = false;
    emulator = false;
  }
  updateModeControls();
}

const syncMode = () => $("modeSync").checked;

function updateModeControls() {
  $("forget").hidden = !syncMode();
  $("mutate").hidden = !(syncMode() && emulator);
  $("onlyChangesLabel").hidden = !syncMode();
}

function orgId() {
  return $("orgSelect").hidden ? $("orgText").value.trim() : $("orgSelect").value;
}

function showError(e) {
  const box = $("error");
  if (!e) {
    box.hidden = true;
    return;
  }
  const friendly = FRIENDLY[e.code] ?? "Something went wrong.";
  box.replaceChildren();
  const code = document.createElement("b");
  code.textContent = e.code ?? e.name ?? "ERROR";
  const text = document.createElement("span");
  text.textContent = ` ${friendly}${e.status ? ` (HTTP ${e.status})` : ""} — ${e.message}`;
  box.append(code, text);
  box.hidden = false;
}

function setRunning(running) {
  $("start").disabled = running;
  $("cancel").disabled = !running;
  $("forget").disabled = running;
  $("mutate").disabled = running;
  $("csv").disabled = running || customers.length === 0;
  $("ndjson").disabled = running || customers.length === 0;
}

/** The query of the form, without `signal`. */
function formQuery() {
  const query = { customerStatus: $("status").value || undefined };
  if ($("pageSize").value !== "") query.pageSize = Number($("pageSize").value);
  for (const k of INCLUDES) query[k] = $(k).checked;
  return query;
}

/** One stored sync per API, organization and query (a snapshot is bound to both). */
function syncKey(query) {
  const { pageSize, ...bound } = query;
  return JSON.stringify([$("baseUrl").value.replace(/\/$/, ""), orgId().toLowerCase(), bound]);
}

async function start() {
  showError(null);
  customers = [];
  marks = new Map();
  selected = -1;
  applyFilter();
  let pages = 0;
  let retries = 0;
  let seen = 0;
  const t0 = performance.now();
  controller = new AbortController();
  setRunning(true);
  $("state").textContent = "Syncing…";
  const tick = () => {
    const s = (performance.now() - t0) / 1000;
    const n = Math.max(seen, customers.length);
    $("pages").textContent = pages.toLocaleString();
    $("count").textContent = n.toLocaleString();
    $("rate").textContent = Math.round(n / Math.max(s, 0.001)).toLocaleString();
    $("elapsed").textContent = `${s.toFixed(1)} s`;
    $("retries").textContent = String(retries);
  };
  const timer = setInterval(tick, 100);
  try {
    const client = new AppxiteClient({
      baseUrl: $("baseUrl").value,
      token: $("token").value || undefined,
      onEvent: (e) => {
        if (e.type === "page") {
          pages++;
          seen += e.items;
        }
        if (e.type === "retry") retries++;
      },
    });
    const query = formQuery();
    if (syncMode()) {
      await runSync(client, query, controller.signal);
    } else {
      $("syncSummary").hidden = true;
      for await (const page of client.customers(orgId(), { ...query, signal: controller.signal }).byPage()) {
        for (const c of page.items) customers.push(c);
        applyFilter();
      }
      $("state").textContent = `Done: ${customers.length.toLocaleString()} customers.`;
    }
  } catch (e) {
    // Cancel while waiting for another tab's sync rejects with the signal's reason.
    const cancelled = e?.code === "ABORTED" || controller.signal.aborted;
    $("state").textContent = cancelled ? `Cancelled after ${customers.length.toLocaleString()} customers.` : "Failed.";
    if (!cancelled) showError(e);
  } finally {
    clearInterval(timer);
    tick();
    controller = null;
    setRunning(false);
    applyFilter();
  }
}

/**
 * Sync mode: the last sync's snapshot and customer copy come from IndexedDB; the changes are
 * applied to the copy, the changed rows marked, the removed ones listed, and both stored
 * again — only once the sync has completed (a cancelled sync stores nothing).
 *
 * Tabs: two tabs syncing at once would read the same snapshot and both write. A Web Lock per
 * organization lets one sync at a time; a tab that finds it taken waits for it and then shows
 * the result the other tab stored (or, if that tab synced another query or failed, syncs
 * itself). Every stored sync is announced on a BroadcastChannel, so idle tabs showing the
 * same organization and query refresh from IndexedDB.
 */
async function runSync(client, query, signal) {
  const key = syncKey(query);
  if (!navigator.locks) return syncNow(client, query, key, signal); // not a secure context
  const lock = `appxite-sync:${orgId().toLowerCase()}`;
  const asked = Date.now();
  const ran = await navigator.locks.request(lock, { ifAvailable: true }, async (held) => {
    if (!held) return false;
    await syncNow(client, query, key, signal);
    return true;
  });
  if (ran) return;
  $("state").textContent = "Another tab is syncing this organization: waiting for its result…";
  await navigator.locks.request(lock, { signal }, async () => {
    const stored = await loadSync(key);
    if (stored?.syncedAt >= asked) showStored(stored, " (synced in another tab)");
    else await syncNow(client, query, key, signal);
  });
}

/** One sync, while holding the organization's lock. */
async function syncNow(client, query, key, signal) {
  $("state").textContent = "Syncing…";
  const stored = await loadSync(key);
  const copy = new Map((stored?.customers ?? []).map((c) => [c.customerId, c]));
  const removed = [];
  const run = client.sync(orgId(), { ...query, snapshot: stored?.snapshot, signal });
  customers = [...copy.values()];
  applyFilter();
  for await (const change of run) {
    if (change.type === "removed") {
      const gone = copy.get(change.customerId);
      removed.push({ customerId: change.customerId, customerName: gone?.customerName });
      copy.delete(change.customerId);
    } else {
      copy.set(change.customerId, change.customer);
      if (stored) marks.set(change.customerId, change.type);
    }
  }
  customers = [...copy.values()];
  const syncedAt = Date.now();
  const summary = { first: !stored, stats: run.stats, removed, marks: [...marks] };
  await saveSync(key, { snapshot: run.snapshot, customers, syncedAt, summary });
  channel?.postMessage({ type: "synced", key });
  showSummary(summary);
  $("state").textContent = `Done: ${customers.length.toLocaleString()} customers${stored ? `, ${marks.size} marked` : ""}.`;
}

/** What another tab stored: its customers, marks and summary. */
function showStored(stored, where) {
  customers = stored.customers;
  marks = new Map(stored.summary?.marks ?? []);
  if (stored.summary) showSummary(stored.summary);
  $("state").textContent = `Done: ${customers.length.toLocaleString()} customers${where}.`;
  applyFilter();
}

function showSummary({ first, stats: s, removed }) {
  $("syncSummary").hidden = false;
  $("syncCounts").textContent = first
    ? `First sync: ${s.added.toLocaleString()} customers stored in this browser. Sync again to see only what changed.`
    : `Since last sync: +${s.added} added, ${s.changed} changed, ${s.removed} removed (${s.unchanged.toLocaleString()} unchanged).`;
  $("removedList").replaceChildren(
    ...removed.map((c) => {
      const li = document.createElement("li");
      li.textContent = `${c.customerName ?? "(no name)"} — ${c.customerId}`;
      return li;
    }),
  );
  $("removedBox").hidden = removed.length === 0;
}

// Another tab stored a sync (or forgot one): an idle tab showing that organization and query
// takes it from IndexedDB. A tab waiting for the lock shows it once it has the lock.
channel?.addEventListener("message", async ({ data }) => {
  if (controller || !syncMode() || data?.key !== syncKey(formQuery())) return;
  if (data.type === "forgotten") {
    marks = new Map();
    $("syncSummary").hidden = false;
    $("syncCounts").textContent = "Forgotten in another tab: the next sync starts from scratch.";
    $("removedBox").hidden = true;
    applyFilter();
    return;
  }
  const stored = await loadSync(data.key);
  if (stored && !controller) showStored(stored, " (synced in another tab)");
});

async function forget() {
  const key = syncKey(formQuery());
  await forgetSync(key);
  channel?.postMessage({ type: "forgotten", key });
  marks = new Map();
  $("syncSummary").hidden = false;
  $("syncCounts").textContent = "Forgotten: the next sync starts from scratch.";
  $("removedBox").hidden = true;
  $("state").textContent = "";
  applyFilter();
}

async function mutate() {
  showError(null);
  try {
    const res = await fetch(`${$("baseUrl").value.replace(/\/$/, "")}/__mock/mutate`, {
      method: "POST",
      body: JSON.stringify({ seed: Math.floor(Math.random() * 1e9), add: 12, remove: 1, change: 3, under: orgId() }),
    });
    if (!res.ok) throw new Error(`the emulator answered ${res.status}`);
    const done = await res.json();
    $("state").textContent = `The emulator added ${done.added.length}, changed ${done.changed.length} and removed ${done.removed.length} customers: Start syncs again.`;
  } catch (e) {
    showError({ code: "EMULATOR", message: String(e.message ?? e) });
  }
}

function applyFilter() {
  const q = $("filter").value.trim().toLowerCase();
  const onlyChanges = syncMode() && $("onlyChanges").checked;
  visible =
    !q && !onlyChanges
      ? customers
      : customers.filter(
          (c) =>
            (!onlyChanges || marks.has(c.customerId)) &&
            (!q || [c.customerName, c.customerId, c.resellerName, c.customerCountry, c.customerStatus].some((v) => v && String(v).toLowerCase().includes(q))),
        );
  if (selected >= visible.length) selected = visible.length - 1;
  $("viewport").setAttribute("aria-rowcount", String(visible.length + 1));
  $("spacer").style.height = `${visible.length * ROW}px`;
  $("shown").textContent = q || onlyChanges ? `${visible.length.toLocaleString()} of ${customers.length.toLocaleString()} shown` : "";
  render();
}

// Virtual scrolling: only the rows in view (and the active one) exist in the DOM, so 25,000
// rows stay smooth. Each is a grid row whose aria-rowindex says where it is in the whole list.
function render() {
  const vp = $("viewport");
  const first = Math.max(0, Math.floor(vp.scrollTop / ROW) - 5);
  const last = Math.min(visible.length, Math.ceil((vp.scrollTop + vp.clientHeight) / ROW) + 5);
  const indices = [];
  for (let i = first; i < last; i++) indices.push(i);
  if (selected >= 0 && (selected < first || selected >= last)) indices.push(selected);
  const rows = indices.map((i) => {
    const c = visible[i];
    const mark = marks.get(c.customerId);
    const row = document.createElement("div");
    row.className = `row${mark ? ` mark-${mark}` : ""}`;
    row.id = `row-${i}`;
    row.style.top = `${i * ROW}px`;
    row.dataset.index = String(i);
    row.setAttribute("role", "row");
    row.setAttribute("aria-rowindex", String(i + 2));
    row.setAttribute("aria-selected", String(i === selected));
    const cells = [c.customerName ?? "(no name)", null, c.customerCountry ?? "", c.resellerName ?? "", String(c.customerTenants?.length ?? ""), null];
    cells.forEach((text, k) => {
      const cell = document.createElement("span");
      cell.setAttribute("role", "gridcell");
      if (k === 1) {
        const badge = document.createElement("span");
        badge.className = `badge ${c.customerStatus ?? ""}`;
        badge.textContent = c.customerStatus ?? "";
        cell.append(badge);
      } else if (k === 5) {
        if (mark) {
          const badge = document.createElement("span");
          badge.className = `mark ${mark}`;
          badge.textContent = mark;
          cell.append(badge);
        }
      } else {
        cell.textContent = text;
      }
      row.append(cell);
    });
    return row;
  });
  $("spacer").replaceChildren(...rows);
  if (selected >= 0) vp.setAttribute("aria-activedescendant", `row-${selected}`);
  else vp.removeAttribute("aria-activedescendant");
}

/** Make row `i` the active one, scrolled into view. */
function select(i) {
  if (visible.length === 0) return;
  selected = Math.max(0, Math.min(visible.length - 1, i));
  const vp = $("viewport");
  const head = ROW; // the sticky header row
  const top = selected * ROW;
  if (top < vp.scrollTop) vp.scrollTop = top;
  else if (top + ROW > vp.scrollTop + vp.clientHeight - head) vp.scrollTop = top + ROW - vp.clientHeight + head;
  render();
}

function onGridKey(ev) {
  const page = Math.max(1, Math.floor(($("viewport").clientHeight - ROW) / ROW));
  const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
  if (ev.key in moves) select(selected < 0 ? 0 : selected + moves[ev.key]);
  else if (ev.key === "Home") select(0);
  else if (ev.key === "End") select(visible.length - 1);
  else if ((ev.key === "Enter" || ev.key === " ") && selected >= 0) showDetails(visible[selected]);
  else return;
  ev.preventDefault();
}

function section(title, pairs) {
  const frag = document.createDocumentFragment();
  const h = document.createElement("h3");
  h.textContent = title;
  const dl = document.createElement("dl");
  for (const [k, v] of pairs) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v == null || v === "" ? "—" : String(v);
    dl.append(dt, dd);
  }
  frag.append(h, dl);
  return frag;
}

function showDetails(c) {
  const body = $("detailsBody");
  body.replaceChildren();
  const scalar = Object.entries(c).filter(([, v]) => v === null || typeof v !== "object");
  body.append(section("Organization", scalar));
  for (const key of ["customerPrimaryAddress", "customerBillingAddress", "customerPrimaryContact", "customerBillingContact", "customerAccountManagerContact", "customerServiceDeskContact"]) {
    if (key in c) body.append(section(key.replace(/^customer/, ""), Object.entries(c[key] ?? {})));
  }
  if ("customerTenants" in c) {
    body.append(section(`Tenants (${c.customerTenants?.length ?? 0})`, (c.customerTenants ?? []).flatMap((t, i) => Object.entries(t).map(([k, v]) => [`#${i + 1} ${k}`, v]))));
  }
  if ("customerCustomProperties" in c) {
    body.append(section("Custom properties", (c.customerCustomProperties ?? []).map((p) => [p.customPropertyName ?? "(unnamed)", p.customPropertyValue])));
  }
  if ("customerIndustries" in c) body.append(section("Industries", (c.customerIndustries ?? []).map((x, i) => [`#${i + 1}`, x])));
  $("details").hidden = false;
}

$("viewport").addEventListener("scroll", render, { passive: true });
$("viewport").addEventListener("click", (ev) => {
  const row = ev.target.closest("#spacer .row");
  if (!row) return;
  select(Number(row.dataset.index));
  showDetails(visible[selected]);
});
$("viewport").addEventListener("keydown", onGridKey);
// Focus from the keyboard makes the first row active; focus from a click leaves that to the
// click (re-rendering the rows under the pointer would swallow it).
let pointing = false;
$("viewport").addEventListener("pointerdown", () => (pointing = true));
$("viewport").addEventListener("focus", () => {
  if (!pointing && selected < 0 && visible.length > 0) select(0);
  pointing = false;
});
$("closeDetails").addEventListener("click", () => ($("details").hidden = true));
$("filter").addEventListener("input", () => {
  selected = -1;
  applyFilter();
});
$("start").addEventListener("click", start);
$("forget").addEventListener("click", forget);
$("mutate").addEventListener("click", mutate);
$("onlyChanges").addEventListener("change", () => {
  selected = -1;
  applyFilter();
});
for (const id of ["modeFetch", "modeSync"]) $(id).addEventListener("change", updateModeControls);
$("cancel").addEventListener("click", () => controller?.abort(new Error("cancelled by the user")));
$("baseUrl").addEventListener("change", loadOrgs);
$("csv").addEventListener("click", () => download("customers.csv", toCsv(customers), "text/csv"));
$("ndjson").addEventListener("click", () => download("customers.ndjson", toNdjson(customers), "application/x-ndjson"));
window.addEventListener("resize", render);

await loadOrgs();
$("start").dataset.ready = "true";
