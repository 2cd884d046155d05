//! The emulator's data set: platforms → distributors → resellers → customers, generated once
//! at start from `--seed` and `--customers` only (never from fault or latency flags), so a
//! clean emulator and a chaotic one with the same seed are each other's ground truth.
//!
//! Customers are listed in depth-first order of the organization tree: an organization's own
//! customers, then each child reseller's. Each customer's JSON is serialized once, as one
//! fragment per optional section; a response is assembled by concatenating the fragments the
//! query asked for.
//!
//! The data set can change while the emulator runs (`/__mock/mutate`, `/__mock/drift`): a
//! customer's record is never edited in place — a change stores a new record in a new slot —
//! so a response already being streamed keeps the records it started with.

use std::collections::HashMap;
use std::sync::Arc;

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
    /// Distributor: its resellers, in order.
    pub children: Vec<usize>,
    /// Distributor or reseller: the slots of the customers it owns directly, in list order.
    /// A customer: its own current slot.
    pub direct: Vec<u32>,
    /// Removed by a mutation: no longer listed nor found by ID.
    pub removed: bool,
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

/// One customer, pre-serialized. Never changed once stored (see the module docs).
pub struct Customer {
    pub id: String,
    /// Its organization entry (index into `DataSet::orgs`).
    pub org: usize,
    pub name: String,
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

    /// The same customer under another name (its `customerName` rewritten in place).
    fn renamed(&self, name: &str) -> Customer {
        let quoted = |v: &str| format!("\"customerName\":{}", serde_json::to_string(v).expect("a string serializes"));
        let (old, new) = (quoted(&self.name), quoted(name));
        let base = String::from_utf8_lossy(&self.base).replacen(&old, &new, 1);
        Customer {
            id: self.id.clone(),
            org: self.org,
            name: name.to_string(),
            status: self.status,
            base: base.into_bytes().into_boxed_slice(),
            tenants: self.tenants.clone(),
            addresses: self.addresses.clone(),
            contacts: self.contacts.clone(),
            custom_properties: self.custom_properties.clone(),
            industries: self.industries.clone(),
        }
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
    /// Every record ever stored, by slot (a change adds a slot; old slots stay valid).
    pub customers: Vec<Arc<Customer>>,
    /// Lower-case org ID → index into `orgs`.
    by_id: HashMap<String, usize>,
    /// Customers made by mutations so far (numbers their names).
    added: usize,
}

/// What `/__mock/mutate` did.
#[derive(Serialize, Default, Debug)]
pub struct Mutation {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
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
    "Acme",
    "Northwind",
    "Müller & Söhne",
    "Société Générale d'Informatique",
    "Łódź Logistics",
    "Ørsted Øst",
    "北京云科技",
    "Café \"Le Quai\"",
    "Globex",
    "Initech",
    "Umbrella [EU] {Holdings}",
    "Backslash \\ Partners",
    "Σύννεφο Τεχνολογίες",
    "Nakatomi",
    "São Paulo Dados",
    "Straße 9",
    "Vandelay Industries",
    "Ñandú Software",
    "Tyrell",
    "Hooli",
    "Wonka Digital",
    "Żabka IT",
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
        let platforms: Vec<Platform> =
            PLATFORMS.iter().map(|(name, url)| Platform { name: name.to_string(), url: url.to_string() }).collect();

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
                children: Vec::new(),
                direct: Vec::new(),
                removed: false,
            });
            // Distributors also sell directly to a few customers of their own.
            owners.push((dist, 1));
            let resellers_here = reseller_count / distributor_count + usize::from(d < reseller_count % distributor_count);
            for r in 0..resellers_here {
                let idx = orgs.len();
                orgs.push(Org {
                    id: rng.uuid(),
                    name: format!("{} Reseller {}-{}", rng.pick(NAME_HEADS), d + 1, r + 1),
                    kind: OrgKind::Reseller,
                    parent: Some(dist),
                    platform,
                    children: Vec::new(),
                    direct: Vec::new(),
                    removed: false,
                });
                orgs[dist].children.push(idx);
                owners.push((idx, 2 + rng.below(9)));
            }
        }

        // 2. Share the customers out by weight (largest-remainder style, deterministic).
        let total_weight: u64 = owners.iter().map(|o| o.1).sum();
        let mut counts: Vec<usize> = owners.iter().map(|o| (customers as u128 * o.1 as u128 / total_weight as u128) as usize).collect();
        let mut left = customers - counts.iter().sum::<usize>();
        let mut i = 0;
        let owner_count = counts.len();
        while left > 0 {
            counts[i % owner_count] += 1;
            left -= 1;
            i += 1;
        }

        // 3. Customers, in depth-first order.
        let mut data = DataSet { platforms, orgs, customers: Vec::with_capacity(customers), by_id: HashMap::new(), added: 0 };
        let markup_at = customers.min(4).saturating_sub(1); // an early customer, on page 1
        for (&(owner, _), &count) in owners.iter().zip(&counts) {
            for _ in 0..count {
                let n = data.customers.len();
                let slot = data.new_customer(&mut rng, owner, n, n == markup_at);
                data.orgs[owner].direct.push(slot);
            }
        }
        data.by_id = data.orgs.iter().enumerate().map(|(i, o)| (o.id.to_ascii_lowercase(), i)).collect();
        data
    }

    /// Store a new customer of `owner` (its org entry and its record); not yet listed.
    fn new_customer(&mut self, rng: &mut Rng, owner: usize, n: usize, markup: bool) -> u32 {
        let org = self.orgs.len();
        let slot = self.customers.len() as u32;
        let (id, name, customer) = make_customer(rng, &self.orgs[owner], org, n, markup);
        let platform = self.orgs[owner].platform;
        self.customers.push(Arc::new(customer));
        self.orgs.push(Org {
            id,
            name,
            kind: OrgKind::Customer,
            parent: Some(owner),
            platform,
            children: Vec::new(),
            direct: vec![slot],
            removed: false,
        });
        slot
    }

    pub fn org(&self, id: &str) -> Option<&Org> {
        self.by_id.get(&id.to_ascii_lowercase()).map(|&i| &self.orgs[i])
    }

    /// An organization's index by ID.
    pub fn org_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(&id.to_ascii_lowercase()).copied()
    }

    /// The customers an organization ID stands for, as slots in list order: a customer
    /// stands for itself; a distributor or reseller for its whole subtree (`include_children`:
    /// its own customers, then each reseller's) or only the customers it owns directly.
    pub fn customers_of(&self, org: &Org, include_children: bool) -> Vec<u32> {
        let mut out = org.direct.clone();
        if include_children {
            for &child in &org.children {
                out.extend_from_slice(&self.orgs[child].direct);
            }
        }
        out
    }

    /// Every listed customer, in list order.
    pub fn all_customers(&self) -> Vec<u32> {
        let tops = self.orgs.iter().filter(|o| o.kind == OrgKind::Distributor);
        tops.flat_map(|o| self.customers_of(o, true)).collect()
    }

    /// Where a customer (by slot) is in its owner's list: (owner, position).
    pub(crate) fn place(&self, slot: u32) -> (usize, usize) {
        let owner = self.orgs[self.customers[slot as usize].org].parent.expect("a customer has an owner");
        let at = self.orgs[owner].direct.iter().position(|&s| s == slot).expect("a listed customer is in its owner's list");
        (owner, at)
    }

    /// Add a new customer of `owner` at position `at` of its list; its ID.
    pub(crate) fn insert(&mut self, rng: &mut Rng, owner: usize, at: usize) -> String {
        self.added += 1;
        let n = 1_000_000 + self.added;
        let slot = self.new_customer(rng, owner, n, false);
        let org = self.customers[slot as usize].org;
        self.by_id.insert(self.orgs[org].id.to_ascii_lowercase(), org);
        self.orgs[owner].direct.insert(at, slot);
        self.orgs[org].id.clone()
    }

    /// Remove a listed customer (by slot); its ID.
    pub fn remove(&mut self, slot: u32) -> String {
        let (owner, at) = self.place(slot);
        self.orgs[owner].direct.remove(at);
        let org = self.customers[slot as usize].org;
        self.orgs[org].removed = true;
        self.by_id.remove(&self.orgs[org].id.to_ascii_lowercase());
        self.orgs[org].id.clone()
    }

    /// Change a listed customer (by slot): a new record with another `customerName`, in the
    /// same place of the list; its ID.
    pub fn change(&mut self, slot: u32) -> String {
        let org = self.customers[slot as usize].org;
        self.change_slot(slot);
        self.orgs[org].id.clone()
    }

    /// [`change`](Self::change), giving the new record's slot.
    pub fn change_slot(&mut self, slot: u32) -> u32 {
        let (owner, at) = self.place(slot);
        let old = self.customers[slot as usize].clone();
        let name = match old.name.rsplit_once(" · rev ") {
            Some((head, rev)) => format!("{head} · rev {}", rev.parse::<u32>().unwrap_or(1) + 1),
            None => format!("{} · rev 2", old.name),
        };
        let new_slot = self.customers.len() as u32;
        self.customers.push(Arc::new(old.renamed(&name)));
        self.orgs[owner].direct[at] = new_slot;
        self.orgs[old.org].direct = vec![new_slot];
        self.orgs[old.org].name = name;
        new_slot
    }

    /// `/__mock/mutate`: deterministic (same seed, same data → same result) additions under
    /// resellers of `under`'s subtree (the whole data set if `None`), removals and changes of
    /// distinct existing customers there.
    pub fn mutate(&mut self, seed: u64, add: usize, remove: usize, change: usize, under: Option<usize>) -> Mutation {
        let mut rng = Rng::new(seed ^ 0x6d75_7461_7465);
        let mut pool = match under {
            Some(o) => self.customers_of(&self.orgs[o], true),
            None => self.all_customers(),
        };
        let mut out = Mutation::default();
        // Distinct picks: a partial Fisher–Yates over the pool.
        let picks = (remove + change).min(pool.len());
        for k in 0..picks {
            let j = k + rng.below((pool.len() - k) as u64) as usize;
            pool.swap(k, j);
        }
        for (k, &slot) in pool[..picks].iter().enumerate() {
            if k < remove {
                out.removed.push(self.remove(slot));
            } else {
                out.changed.push(self.change(slot));
            }
        }
        let owners: Vec<usize> = match under {
            Some(o) if self.orgs[o].kind == OrgKind::Reseller => vec![o],
            Some(o) => self.orgs[o].children.clone(),
            None => self.orgs.iter().enumerate().filter(|(_, o)| o.kind == OrgKind::Reseller).map(|(i, _)| i).collect(),
        };
        if !owners.is_empty() {
            for _ in 0..add {
                let owner = *rng.pick(&owners);
                let at = rng.below(self.orgs[owner].direct.len() as u64 + 1) as usize;
                out.added.push(self.insert(&mut rng, owner, at));
            }
        }
        out
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

fn make_customer(rng: &mut Rng, owner: &Org, org: usize, n: usize, markup: bool) -> (String, String, Customer) {
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
        org,
        name: name.clone(),
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
