// The demo page: one client, one pager, a virtualised table. Customer data is only ever
// written with textContent, never as HTML.
import { AppxiteClient } from "appxite-customers";
import { toCsv, toNdjson, download } from "./export.js";

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
};

let customers = [];
let visible = customers;
let controller = null;
let selected = -1;

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
  } catch {
    // Not the emulator: free text.
    select.hidden = true;
    $("orgText").hidden = false;
  }
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
  $("csv").disabled = running || customers.length === 0;
  $("ndjson").disabled = running || customers.length === 0;
}

async function start() {
  showError(null);
  customers = [];
  applyFilter();
  let pages = 0;
  let retries = 0;
  const t0 = performance.now();
  controller = new AbortController();
  setRunning(true);
  $("state").textContent = "Syncing…";
  const tick = () => {
    const s = (performance.now() - t0) / 1000;
    $("pages").textContent = pages.toLocaleString();
    $("count").textContent = customers.length.toLocaleString();
    $("rate").textContent = Math.round(customers.length / Math.max(s, 0.001)).toLocaleString();
    $("elapsed").textContent = `${s.toFixed(1)} s`;
    $("retries").textContent = String(retries);
  };
  const timer = setInterval(tick, 100);
  try {
    const client = new AppxiteClient({
      baseUrl: $("baseUrl").value,
      token: $("token").value || undefined,
      onEvent: (e) => {
        if (e.type === "page") pages++;
        if (e.type === "retry") retries++;
      },
    });
    const query = { signal: controller.signal, customerStatus: $("status").value || undefined };
    const size = Number($("pageSize").value);
    if ($("pageSize").value !== "") query.pageSize = size;
    for (const k of INCLUDES) query[k] = $(k).checked;
    for await (const page of client.customers(orgId(), query).byPage()) {
      for (const c of page.items) customers.push(c);
      applyFilter();
    }
    $("state").textContent = `Done: ${customers.length.toLocaleString()} customers.`;
  } catch (e) {
    $("state").textContent = e?.code === "ABORTED" ? `Cancelled after ${customers.length.toLocaleString()} customers.` : "Failed.";
    if (e?.code !== "ABORTED") showError(e);
  } finally {
    clearInterval(timer);
    tick();
    controller = null;
    setRunning(false);
    applyFilter();
  }
}

function applyFilter() {
  const q = $("filter").value.trim().toLowerCase();
  visible = !q
    ? customers
    : customers.filter((c) =>
        [c.customerName, c.customerId, c.resellerName, c.customerCountry, c.customerStatus].some((v) => v && String(v).toLowerCase().includes(q)));
  $("spacer").style.height = `${visible.length * ROW}px`;
  $("shown").textContent = q ? `${visible.length.toLocaleString()} of ${customers.length.toLocaleString()} shown` : "";
  render();
}

// Virtual scrolling: only the rows in view exist in the DOM, so 25,000 rows stay smooth.
function render() {
  const vp = $("viewport");
  const first = Math.max(0, Math.floor(vp.scrollTop / ROW) - 5);
  const last = Math.min(visible.length, Math.ceil((vp.scrollTop + vp.clientHeight) / ROW) + 5);
  const rows = [];
  for (let i = first; i < last; i++) {
    const c = visible[i];
    const row = document.createElement("div");
    row.className = "row" + (i === selected ? " selected" : "");
    row.style.top = `${i * ROW}px`;
    row.dataset.index = String(i);
    row.setAttribute("role", "option");
    const cells = [c.customerName ?? "(no name)", null, c.customerCountry ?? "", c.resellerName ?? "", String(c.customerTenants?.length ?? "")];
    cells.forEach((text, k) => {
      const span = document.createElement("span");
      if (k === 1) {
        const badge = document.createElement("span");
        badge.className = `badge ${c.customerStatus ?? ""}`;
        badge.textContent = c.customerStatus ?? "";
        span.append(badge);
      } else {
        span.textContent = text;
      }
      row.append(span);
    });
    rows.push(row);
  }
  $("spacer").replaceChildren(...rows);
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
  const row = ev.target.closest(".row");
  if (!row) return;
  selected = Number(row.dataset.index);
  showDetails(visible[selected]);
  render();
});
$("closeDetails").addEventListener("click", () => ($("details").hidden = true));
$("filter").addEventListener("input", () => {
  selected = -1;
  applyFilter();
});
$("start").addEventListener("click", start);
$("cancel").addEventListener("click", () => controller?.abort(new Error("cancelled by the user")));
$("baseUrl").addEventListener("change", loadOrgs);
$("csv").addEventListener("click", () => download("customers.csv", toCsv(customers), "text/csv"));
$("ndjson").addEventListener("click", () => download("customers.ndjson", toNdjson(customers), "application/x-ndjson"));
window.addEventListener("resize", render);

await loadOrgs();
$("start").dataset.ready = "true";
