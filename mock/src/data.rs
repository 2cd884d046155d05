//! The emulator's data set: platforms → distributors → resellers → customers, generated once
//! at start from `--seed` and `--customers` only (never from fault or latency flags), so a
//! clean emulator and a chaotic one with the same seed are each other's ground truth.
//!
//! Customers are laid out in depth-first order of the organization tree, so every
//! organization's customers — direct or the whole subtree — are one contiguous range.
//! Each customer's JSON is serialized once, as one fragment per optional section; a response
//! is assembled by concatenating the fragments the query asked for.

use std::collections::HashMap;
use std::ops::Range;

use serde::Serialize;

use crate::rng::Rng;

/// A customer's lifecycle status, as the article lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    New,
    Active,
    Suspended,
}

impl Status {
    pub fn parse_ci(s: &str) -> Option<Status> {
        match s.to_ascii_lowercase().as_str() {
            "new" => Some(Status::New),
            "active" => Some(Status::Active),
            "suspended" => Some(Status::Suspended),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Active => "Active",
            Status::Suspended => "Suspended",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    Distributor,
    Reseller,
    Customer,
}

/// One organization of the tree (customers are organizations too).
pub struct Org {
    pub id: String,
    pub name: String,
    pub kind: OrgKind,
    pub parent: Option<usize>,
    pub platform: usize,
    /// Customers owned directly by this organization (a customer: itself).
    pub direct: Range<usize>,
    /// Every customer in this organization's subtree (a customer: itself).
    pub subtree: Range<usize>,
}

/// The optional sections of a customer record, in the article's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    pub tenants: bool,
    pub addresses: bool,
    pub contacts: bool,
    pub custom_properties: bool,
    pub industries: bool,
}

/// One customer, pre-serialized.
pub struct Customer {
    pub id: String,
    pub status: Status,
    /// `{"customerId":…,"customerSegment":…` — no closing brace.
    base: Box<[u8]>,
    /// `,"customerTenants":[…]`
    tenants: Box<[u8]>,
    /// `,"customerPrimaryAddress":…,"customerBillingAddress":…`
    addresses: Box<[u8]>,
    /// The four contacts, same shape.
    contacts: Box<[u8]>,
    custom_properties: Box<[u8]>,
    industries: Box<[u8]>,
}

impl Customer {
    /// The record's JSON length for these sections (for planning truncation faults).
    pub fn json_len(&self, s: Sections) -> usize {
        self.parts(s).map(<[u8]>::len).sum::<usize>() + 1
    }

    /// Append the record's JSON for these sections.
    pub fn write_json(&self, s: Sections, out: &mut Vec<u8>) {
        for part in self.parts(s) {
            out.extend_from_slice(part);
        }
        out.push(b'}');
    }

    fn parts(&self, s: Sections) -> impl Iterator<Item = &[u8]> {
        [
            Some(&*self.base),
            s.tenants.then_some(&*self.tenants),
            s.addresses.then_some(&*self.addresses),
            s.contacts.then_some(&*self.contacts),
            s.custom_properties.then_some(&*self.custom_properties),
            s.industries.then_some(&*self.industries),
        ]
        .into_iter()
        .flatten()
    }
}

pub struct Platform {
    pub name: String,
    pub url: String,
}

pub struct DataSet {
    pub platforms: Vec<Platform>,
    pub orgs: Vec<Org>,
    pub customers: Vec<Customer>,
    /// Lower-case org ID → index into `orgs`.
    by_id: HashMap<String, usize>,
}

/// The name every data set gives one customer, so front ends are tested for escaping.
pub const MARKUP_CUSTOMER_NAME: &str = "<img src=x onerror=alert(1)>";

const PLATFORMS: &[(&str, &str)] = &[
    ("Contoso Cloud Marketplace", "https://marketplace.contoso-cloud.example"),
    ("Fabrikam Partner Portal", "https://partners.fabrikam.example"),
];
const DISTRIBUTORS_PER_PLATFORM: usize = 2;
/// About one reseller per this many customers.
const CUSTOMERS_PER_RESELLER: usize = 250;

const NAME_HEADS: &[&str] = &[
    "Acme", "Northwind", "Müller & Söhne", "Société Générale d'Informatique", "Łódź Logistics",
    "Ørsted Øst", "北京云科技", "Café \"Le Quai\"", "Globex", "Initech", "Umbrella [EU] {Holdings}",
    "Backslash \\ Partners", "Σύννεφο Τεχνολογίες", "Nakatomi", "São Paulo Dados", "Straße 9",
    "Vandelay Industries", "Ñandú Software", "Tyrell", "Hooli", "Wonka Digital", "Żabka IT",
];
const NAME_TAILS: &[&str] = &["GmbH", "Ltd", "B.V.", "S.A.", "ApS", "Inc.", "有限公司", "AB", "Oy", "SRL", ""];
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("Netherlands", "NL", "EUR"),
    ("Belgium", "BE", "EUR"),
    ("Germany", "DE", "EUR"),
    ("Denmark", "DK", "DKK"),
    ("Poland", "PL", "PLN"),
    ("United Kingdom", "GB", "GBP"),
    ("Sweden", "SE", "SEK"),
    ("Greece", "GR", "EUR"),
    ("Japan", "JP", "JPY"),
];
const CITIES: &[&str] = &["Amsterdam", "Bruxelles", "München", "København", "Łódź", "London", "Göteborg", "Αθήνα", "東京"];
const SEGMENTS: &[&str] = &["SMB", "Enterprise", "Education", "Government", "Non-profit"];
const VENDORS: &[(&str, &str)] = &[
    ("0b5e6c1a-41c4-4bd6-9d0e-6f1a2b3c4d01", "Microsoft"),
    ("0b5e6c1a-41c4-4bd6-9d0e-6f1a2b3c4d02", "Google Workspace"),
    ("0b5e6c1a-41c4-4bd6-9d0e-6f1a2b3c4d03", "Acronis"),
    ("0b5e6c1a-41c4-4bd6-9d0e-6f1a2b3c4d04", "Dropbox"),
    ("0b5e6c1a-41c4-4bd6-9d0e-6f1a2b3c4d05", "Vendor's \"Quoted\" Cloud"),
];
const FIRST_NAMES: &[&str] = &["John", "Jane", "Zoë", "Jürgen", "Søren", "Małgorzata", "Ana", "Kenji", "Élodie", "Bob"];
const LAST_NAMES: &[&str] = &["Brown", "Jackson", "Smith", "Müller", "Kowalski", "Nørgaard", "Tanaka", "O'Brien", "García"];
const ROLES: &[&str] = &["CEO", "CFO", "IT Manager", "Account Manager", "Service Desk Lead", "Procurement"];
const PROPERTY_NAMES: &[&str] = &["Tax Zone", "Credit Limit", "Contract Type", "Notes"];
const PROPERTY_VALUES: &[&str] = &["EU_Belgium", "5000", "Annual", "Pays in 30 days; prefers \"email\"", "€ 1.000,00", ""];
const INDUSTRIES: &[&str] = &["Healthcare", "Retail", "Manufacturing", "Finance", "Education", "Logistics", "Public Sector"];

impl DataSet {
    /// Generate the whole tree. Depends only on `seed` and `customers`.
    pub fn generate(seed: u64, customers: usize) -> DataSet {
        let mut rng = Rng::new(seed);
        let platforms: Vec<Platform> = PLATFORMS
            .iter()
            .map(|(name, url)| Platform { name: name.to_string(), url: url.to_string() })
            .collect();

        // 1. The tree of distributors and resellers, and a weight for each customer owner.
        let distributor_count = platforms.len() * DISTRIBUTORS_PER_PLATFORM;
        let reseller_count = (customers / CUSTOMERS_PER_RESELLER).max(distributor_count);
        let mut orgs: Vec<Org> = Vec::new();
        // Owners in depth-first order: (org index, weight).
        let mut owners: Vec<(usize, u64)> = Vec::new();
        for d in 0..distributor_count {
            let platform = d / DISTRIBUTORS_PER_PLATFORM;
            let dist = orgs.len();
            orgs.push(Org {
                id: rng.uuid(),
                name: format!("{} Distribution {}", rng.pick(NAME_HEADS), d + 1),
                kind: OrgKind::Distributor,
                parent: None,
                platform,
                direct: 0..0,
                subtree: 0..0,
            });
            // Distributors also sell directly to a few customers of their own.
            owners.push((dist, 1));
            let resellers_here = reseller_count / distributor_count
                + usize::from(d < reseller_count % distributor_count);
            for r in 0..resellers_here {
                let idx = orgs.len();
                orgs.push(Org {
                    id: rng.uuid(),
                    name: format!("{} Reseller {}-{}", rng.pick(NAME_HEADS), d + 1, r + 1),
                    kind: OrgKind::Reseller,
                    parent: Some(dist),
                    platform,
                    direct: 0..0,
                    subtree: 0..0,
                });
                owners.push((idx, 2 + rng.below(9)));
            }
        }

        // 2. Share the customers out by weight (largest-remainder style, deterministic).
        let total_weight: u64 = owners.iter().map(|o| o.1).sum();
        let mut counts: Vec<usize> = owners
            .iter()
            .map(|o| (customers as u128 * o.1 as u128 / total_weight as u128) as usize)
            .collect();
        let mut left = customers - counts.iter().sum::<usize>();
        let mut i = 0;
        let owner_count = counts.len();
        while left > 0 {
            counts[i % owner_count] += 1;
            left -= 1;
            i += 1;
        }

        // 3. Customers, in depth-first order.
        let mut list: Vec<Customer> = Vec::with_capacity(customers);
        let markup_at = customers.min(4).saturating_sub(1); // an early customer, on page 1
        for (&(owner, _), &count) in owners.iter().zip(&counts) {
            let start = list.len();
            for _ in 0..count {
                let n = list.len();
                let (id, name, customer) = make_customer(&mut rng, &orgs[owner], n, n == markup_at);
                let platform = orgs[owner].platform;
                list.push(customer);
                orgs.push(Org {
                    id,
                    name,
                    kind: OrgKind::Customer,
                    parent: Some(owner),
                    platform,
                    direct: n..n + 1,
                    subtree: n..n + 1,
                });
            }
            orgs[owner].direct = start..list.len();
        }
        // Subtrees: a reseller's is its direct range; a distributor's spans its resellers.
        for org in orgs.iter_mut().filter(|o| o.kind != OrgKind::Customer) {
            org.subtree = org.direct.clone();
        }
        for i in 0..orgs.len() {
            if let (OrgKind::Reseller, Some(p)) = (orgs[i].kind, orgs[i].parent) {
                let r = orgs[i].direct.clone();
                let s = &mut orgs[p].subtree;
                s.start = s.start.min(r.start);
                s.end = s.end.max(r.end);
            }
        }
        let by_id = orgs.iter().enumerate().map(|(i, o)| (o.id.to_ascii_lowercase(), i)).collect();
        DataSet { platforms, orgs, customers: list, by_id }
    }

    pub fn org(&self, id: &str) -> Option<&Org> {
        self.by_id.get(&id.to_ascii_lowercase()).map(|&i| &self.orgs[i])
    }

    /// The customers an organization ID stands for: a customer stands for itself; a
    /// distributor or reseller for its whole subtree (`include_children`) or only the
    /// customers it owns directly.
    pub fn customers_of(&self, org: &Org, include_children: bool) -> Range<usize> {
        if include_children {
            org.subtree.clone()
        } else {
            org.direct.clone()
        }
    }
}

/// Writes `"key":value` pairs with proper JSON escaping.
struct JsonWriter(Vec<u8>);

impl JsonWriter {
    fn key(&mut self, key: &str) {
        // A section fragment starts empty and so starts with a comma: it follows the base.
        if !matches!(self.0.last(), Some(b'{') | Some(b'[')) {
            self.0.push(b',');
        }
        serde_json::to_writer(&mut self.0, key).expect("writing to a Vec cannot fail");
        self.0.push(b':');
    }
    fn str(&mut self, key: &str, value: Option<&str>) {
        self.key(key);
        serde_json::to_writer(&mut self.0, &value).expect("writing to a Vec cannot fail");
    }
    fn raw(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }
}

fn maybe<'a>(rng: &mut Rng, p_null: f64, value: &'a str) -> Option<&'a str> {
    (!rng.chance(p_null)).then_some(value)
}

fn make_customer(rng: &mut Rng, owner: &Org, n: usize, markup: bool) -> (String, String, Customer) {
    let id = rng.uuid();
    let name = if markup {
        MARKUP_CUSTOMER_NAME.to_string()
    } else {
        let tail = rng.pick(NAME_TAILS);
        format!("{} {} {}", rng.pick(NAME_HEADS), n + 1, tail).trim_end().to_string()
    };
    let status = match rng.below(10) {
        0..=6 => Status::Active,
        7 | 8 => Status::New,
        _ => Status::Suspended,
    };
    let (country, code, currency) = *rng.pick(COUNTRIES);

    let mut w = JsonWriter(b"{".to_vec());
    w.str("customerId", Some(&id));
    w.str("customerName", Some(&name));
    w.str("resellerId", Some(&owner.id));
    w.str("resellerName", Some(&owner.name));
    w.str("customerStatus", Some(status.as_str()));
    w.str("customerCountry", Some(country));
    let erp = format!("{}", 10000 + rng.below(90000));
    let erp = maybe(rng, 0.2, &erp);
    w.str("customerErpOrganizationId", erp);
    let reg = format!("{}", 100_000_000 + rng.below(900_000_000));
    if !rng.chance(0.1) {
        // Sometimes the key is missing altogether, not just null.
        w.str("customerRegistrationNumber", maybe(rng, 0.1, &reg));
    }
    let vat = format!("{code}{}", 100_000_000 + rng.below(900_000_000));
    w.str("customerVatNumber", maybe(rng, 0.25, &vat));
    w.str("customerCurrency", Some(currency));
    let segment = *rng.pick(SEGMENTS);
    w.str("customerSegment", maybe(rng, 0.15, segment));
    let base = w.0.into_boxed_slice();

    let mut t = JsonWriter(Vec::new());
    t.key("customerTenants");
    t.raw("[");
    let tenant_count = rng.below(4);
    for k in 0..tenant_count {
        let (vendor_id, vendor_name) = *rng.pick(VENDORS);
        if k > 0 {
            t.raw(",");
        }
        t.raw("{");
        t.str("vendorId", Some(vendor_id));
        t.str("vendorName", Some(vendor_name));
        let domain = format!("tenant{}-{}.example", n + 1, k + 1);
        t.str("DomainName", Some(&domain));
        let internal = rng.uuid();
        t.str("InternalId", Some(&internal));
        let external = format!("G{}", 100_000_000 + rng.below(900_000_000));
        t.str("ExternalId", maybe(rng, 0.2, &external));
        t.raw("}");
    }
    t.raw("]");

    let mut a = JsonWriter(Vec::new());
    for (kind, p_null) in [("primary", 0.02), ("billing", 0.3)] {
        let key = if kind == "primary" { "customerPrimaryAddress" } else { "customerBillingAddress" };
        a.key(key);
        if rng.chance(p_null) {
            a.raw("null");
            continue;
        }
        a.raw("{");
        let street = format!("{} Keizersgracht", 1 + rng.below(400));
        a.str(&format!("{kind}AddressAddressLine1"), Some(&street));
        let line2 = format!("Floor {}", rng.below(12));
        a.str(&format!("{kind}AddressAddressLine2"), maybe(rng, 0.6, &line2));
        a.str(&format!("{kind}AddressCity"), Some(*rng.pick(CITIES)));
        a.str(&format!("{kind}AddressProvince"), maybe(rng, 0.5, "Noord-Holland"));
        let postal = format!("{:04}AB", rng.below(10000));
        a.str(&format!("{kind}AddressPostalCode"), Some(&postal));
        a.str(&format!("{kind}AddressCountryCode"), Some(code));
        a.raw("}");
    }

    let mut c = JsonWriter(Vec::new());
    for (key, prefix, p_null) in [
        ("customerPrimaryContact", "primaryContact", 0.05),
        ("customerBillingContact", "billingContact", 0.3),
        ("customerAccountManagerContact", "accountManagerContact", 0.4),
        ("customerServiceDeskContact", "serviceDeskContact", 0.5),
    ] {
        c.key(key);
        if rng.chance(p_null) {
            c.raw("null");
            continue;
        }
        c.raw("{");
        let first = *rng.pick(FIRST_NAMES);
        let last = *rng.pick(LAST_NAMES);
        c.str(&format!("{prefix}FirstName"), Some(first));
        c.str(&format!("{prefix}LastName"), Some(last));
        let role = *rng.pick(ROLES);
        c.str(&format!("{prefix}Role"), maybe(rng, 0.3, role));
        let email = format!("{}.{}@customer{}.example", first.to_lowercase(), last.to_lowercase(), n + 1);
        c.str(&format!("{prefix}Email"), Some(&email));
        let phone = format!("+31{:09}", rng.below(1_000_000_000));
        c.str(&format!("{prefix}Phone"), maybe(rng, 0.3, &phone));
        c.raw("}");
    }

    let mut p = JsonWriter(Vec::new());
    p.key("customerCustomProperties");
    p.raw("[");
    for k in 0..rng.below(4) {
        if k > 0 {
            p.raw(",");
        }
        p.raw("{");
        p.str("customPropertyName", Some(PROPERTY_NAMES[k as usize]));
        let value = *rng.pick(PROPERTY_VALUES);
        p.str("customPropertyValue", maybe(rng, 0.1, value));
        p.raw("}");
    }
    p.raw("]");

    let mut ind = JsonWriter(Vec::new());
    ind.key("customerIndustries");
    ind.raw("[");
    for k in 0..rng.below(3) {
        if k > 0 {
            ind.raw(",");
        }
        serde_json::to_writer(&mut ind.0, rng.pick(INDUSTRIES)).expect("vec write");
    }
    ind.raw("]");

    let customer = Customer {
        id: id.clone(),
        status,
        base,
        tenants: t.0.into_boxed_slice(),
        addresses: a.0.into_boxed_slice(),
        contacts: c.0.into_boxed_slice(),
        custom_properties: p.0.into_boxed_slice(),
        industries: ind.0.into_boxed_slice(),
    };
    (id, name, customer)
}
