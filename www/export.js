// Exports generated in the page: CSV (one row per customer, flattened, documented columns —
// see the README) and NDJSON (one customer per line, exactly as the API sent it).

const ADDRESS = ["AddressLine1", "AddressLine2", "City", "Province", "PostalCode", "CountryCode"];
const CONTACT = ["FirstName", "LastName", "Role", "Email", "Phone"];

/** The CSV columns: [header, (customer) => value]. */
export const CSV_COLUMNS = [
  ...["customerId", "customerName", "resellerId", "resellerName", "customerStatus", "customerCountry",
    "customerErpOrganizationId", "customerRegistrationNumber", "customerVatNumber", "customerCurrency",
    "customerSegment"].map((k) => [k, (c) => c[k]]),
  ...[["primary", "customerPrimaryAddress"], ["billing", "customerBillingAddress"]].flatMap(([p, key]) =>
    ADDRESS.map((f) => [`${p}Address${f}`, (c) => c[key]?.[`${p}Address${f}`]])),
  ...[["primary", "customerPrimaryContact"], ["billing", "customerBillingContact"],
      ["accountManager", "customerAccountManagerContact"], ["serviceDesk", "customerServiceDeskContact"]].flatMap(([p, key]) =>
    CONTACT.map((f) => [`${p}Contact${f}`, (c) => c[key]?.[`${p}Contact${f}`]])),
  ["tenants", (c) => (c.customerTenants ?? []).map((t) => [t.vendorName, t.DomainName, t.InternalId, t.ExternalId].map((v) => v ?? "").join("|")).join("; ")],
  ["customProperties", (c) => (c.customerCustomProperties ?? []).map((p) => `${p.customPropertyName ?? ""}=${p.customPropertyValue ?? ""}`).join("; ")],
  ["industries", (c) => (c.customerIndustries ?? []).join("; ")],
];

function cell(value) {
  let s = value == null ? "" : String(value);
  // Spreadsheets run cells that start with these as formulas: neutralise them.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replaceAll('"', '""')}"`;
}

export function toCsv(customers) {
  const lines = [CSV_COLUMNS.map(([h]) => cell(h)).join(",")];
  for (const c of customers) lines.push(CSV_COLUMNS.map(([, get]) => cell(get(c))).join(","));
  return lines.join("\r\n") + "\r\n";
}

export function toNdjson(customers) {
  return customers.map((c) => JSON.stringify(c)).join("\n") + "\n";
}

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
