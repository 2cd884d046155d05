//! The sync snapshot: what the caller stores between two `sync` runs — each customer's ID and
//! content fingerprint ([`crate::record`]), bound to the organization and the query that
//! produced it.
//!
//! Format, version 1 (all integers little-endian):
//!
//! | bytes | what |
//! |---|---|
//! | 0–3 | `AXCS` |
//! | 4 | version, `1` |
//! | 5–7 | zero |
//! | 8–15 | binding: a hash of the organization ID (lower-cased) and the query's sections, status filter and `includeChildOrganizations` |
//! | 16–19 | `G`: customers whose ID is a UUID (hex digits in either case: one customer) |
//! | 20–23 | `O`: customers with any other ID |
//! | 24–31 | checksum of every other byte |
//! | 32… | `G` entries of 24 bytes, ascending by ID: the UUID's 16 bytes, then the 8-byte fingerprint |
//! | … | `O` entries, ascending by ID: the ID's length (2 bytes), its UTF-8 bytes, the fingerprint |
//!
//! So a customer costs 24 bytes with the API's UUID IDs. `pageSize` and `page` are not bound:
//! they do not change what a customer is.

use crate::error::Error;
use crate::model::CustomerStatus;
use crate::query::CustomerQuery;
use crate::record::{hash_bytes, le};

const MAGIC: &[u8; 4] = b"AXCS";
/// The format's version: bump it for any change of the bytes a snapshot of the same
/// customers is stored as — the layout, [`binding`], [`crate::record::fingerprint`] or
/// [`crate::record::hash_bytes`] (`tests/fixtures/snapshot-v1.bin` pins them).
const VERSION: u8 = 1;
/// Bytes before the first entry.
pub const HEADER_BYTES: usize = 32;
/// Bytes of an entry with a UUID ID.
pub const UUID_ENTRY_BYTES: usize = 24;

/// The customers of one sync, by ID: each with its content fingerprint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Sorted by ID, no repeats. A UUID as two `u64`s, not a `u128`: 24 bytes an entry in
    /// memory too (a `u128` is 16-aligned, which pads the entry to 32).
    uuids: Vec<(Uuid, u64)>,
    /// Sorted by ID, no repeats.
    others: Vec<(Vec<u8>, u64)>,
}

/// Where a customer is in a [`Snapshot`]: an index over `uuids` then `others`.
pub type Slot = usize;

/// What ties a snapshot to the organization and query that made it.
pub fn binding(org_id: &str, query: &CustomerQuery) -> u64 {
    // Every field by name, none by `..`: a new one does not compile until someone decides
    // whether it changes which customers, or what of them, a sync sees (then it is bound here
    // and `VERSION` bumped) or not (then `_`, with the reason).
    let CustomerQuery {
        include_child_organizations,
        include_addresses,
        include_contacts,
        include_custom_properties,
        include_tenants,
        include_industries,
        customer_status,
        // Paging does not change what a customer is.
        page_size: _,
        page: _,
    } = query;
    let mut text = org_id.trim().to_ascii_lowercase().into_bytes();
    text.push(b'\n');
    for (v, default) in [
        (include_child_organizations, true),
        (include_addresses, false),
        (include_contacts, false),
        (include_custom_properties, false),
        (include_tenants, false),
        (include_industries, false),
    ] {
        text.push(if v.unwrap_or(default) { b'1' } else { b'0' });
    }
    text.extend_from_slice(match customer_status {
        None => b"\nNone",
        Some(CustomerStatus::New) => b"\nSome(New)",
        Some(CustomerStatus::Active) => b"\nSome(Active)",
        Some(CustomerStatus::Suspended) => b"\nSome(Suspended)",
    });
    hash_bytes(0x6269_6e64, &text)
}

/// A UUID as a number: its high and low 64 bits.
type Uuid = (u64, u64);

/// A UUID in the 8-4-4-4-12 form (hex digits in either case), as a number (a test checks it,
/// and [`format_uuid`], against the `uuid` crate). (Two u64 halves, not a
/// u128: wasm has no 128-bit integers, and this runs once per customer of a sync.)
fn parse_uuid(id: &[u8]) -> Option<Uuid> {
    if id.len() != 36 || id[8] != b'-' || id[13] != b'-' || id[18] != b'-' || id[23] != b'-' {
        return None;
    }
    let mut halves = [0u64; 2];
    let mut digits = 0;
    for (i, &b) in id.iter().enumerate() {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            // The same customer whatever the case its ID comes in (a listing and the POST
            // by ID may differ): one key.
            b'A'..=b'F' => b - b'A' + 10,
            b'-' if matches!(i, 8 | 13 | 18 | 23) => continue,
            _ => return None,
        };
        let h = &mut halves[digits / 16];
        *h = *h << 4 | d as u64;
        digits += 1;
    }
    Some((halves[0], halves[1]))
}

/// A customer ID as a snapshot keys it: a UUID as its number, any other ID as its bytes.
/// Parsed once per customer, then used to look it up and to store it.
#[derive(Clone, Copy)]
pub enum Key<'a> {
    /// A UUID (either case), as its number.
    Uuid(Uuid),
    /// Any other ID, as it was sent.
    Other(&'a [u8]),
}

/// The snapshot key of customer ID `id`.
pub fn key(id: &[u8]) -> Key<'_> {
    match parse_uuid(id) {
        Some(n) => Key::Uuid(n),
        None => Key::Other(id),
    }
}

fn format_uuid((hi, lo): Uuid) -> String {
    let n = (hi as u128) << 64 | lo as u128;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        out.push(HEX[(n >> (124 - 4 * i) & 0xF) as usize] as char);
    }
    out
}

fn corrupt(what: &str) -> Error {
    Error::InvalidArgument(format!("snapshot: {what}; pass the bytes a completed sync left in `snapshot`, unchanged"))
}

fn checksum(bytes: &[u8]) -> u64 {
    hash_bytes(hash_bytes(0x73_756d, &bytes[..24]), &bytes[HEADER_BYTES..])
}

impl Snapshot {
    /// Customers in it.
    pub fn len(&self) -> usize {
        self.uuids.len() + self.others.len()
    }

    /// Whether it has no customers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What can be told from the first [`HEADER_BYTES`] and the length alone: the magic,
    /// the version, the binding, and whether the counts fit the length. Checked before a
    /// caller's bytes are copied anywhere (a 200 MB file that is no snapshot costs nothing).
    pub fn check_header(header: &[u8], total_len: usize, binding: u64) -> Result<(), Error> {
        if header.len() < HEADER_BYTES || total_len < HEADER_BYTES || &header[..4] != MAGIC {
            return Err(corrupt("these bytes are not a sync snapshot"));
        }
        if header[4] != VERSION {
            return Err(corrupt(&format!("format version {} is not one this SDK reads (it reads {VERSION})", header[4])));
        }
        if u64::from_le_bytes(le(&header[8..])) != binding {
            return Err(Error::InvalidArgument(
                "snapshot: it was made for another organization or another query (sections, customerStatus or \
                 includeChildOrganizations); keep one snapshot per organization and query"
                    .into(),
            ));
        }
        let count = |at: usize| u32::from_le_bytes(le(&header[at..])) as u64;
        let (g, o) = (count(16), count(20));
        // An entry with another ID takes 10 bytes plus its ID (at most u16::MAX bytes).
        let least = HEADER_BYTES as u64 + g * UUID_ENTRY_BYTES as u64 + o * 10;
        let most = least + o * u16::MAX as u64;
        if !(least..=most).contains(&(total_len as u64)) {
            return Err(corrupt("the length does not match the number of customers (cut off, or not a snapshot)"));
        }
        Ok(())
    }

    /// Read a stored snapshot, checking it belongs to `binding`. Anything else — another
    /// organization or query, another format, corrupt or cut-off bytes — is `INVALID_ARGUMENT`.
    pub fn decode(bytes: &[u8], binding: u64) -> Result<Snapshot, Error> {
        Self::check_header(bytes, bytes.len(), binding)?;
        let u32_at = |at: usize| u32::from_le_bytes(le(&bytes[at..])) as usize;
        let u64_at = |at: usize| u64::from_le_bytes(le(&bytes[at..]));
        if u64_at(24) != checksum(bytes) {
            return Err(corrupt("the bytes are corrupt or cut off (checksum mismatch)"));
        }
        let (g, o) = (u32_at(16), u32_at(20));
        let mut at = HEADER_BYTES;
        let body = &bytes[at..];
        if body.len() < g.saturating_mul(UUID_ENTRY_BYTES) {
            return Err(corrupt("the bytes are cut off"));
        }
        let mut snapshot = Snapshot { uuids: Vec::with_capacity(g), others: Vec::with_capacity(o.min(body.len() / 10)) };
        for _ in 0..g {
            let id = (u64::from_be_bytes(le(&bytes[at..])), u64::from_be_bytes(le(&bytes[at + 8..])));
            snapshot.uuids.push((id, u64_at(at + 16)));
            at += UUID_ENTRY_BYTES;
        }
        for _ in 0..o {
            let len =
                bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize).ok_or_else(|| corrupt("the bytes are cut off"))?;
            let id = bytes.get(at + 2..at + 2 + len).ok_or_else(|| corrupt("the bytes are cut off"))?.to_vec();
            let fp = bytes.get(at + 2 + len..at + 10 + len).ok_or_else(|| corrupt("the bytes are cut off"))?;
            snapshot.others.push((id, u64::from_le_bytes(le(fp))));
            at += 10 + len;
        }
        let sorted = snapshot.uuids.windows(2).all(|w| w[0].0 < w[1].0) && snapshot.others.windows(2).all(|w| w[0].0 < w[1].0);
        if at != bytes.len() || !sorted {
            return Err(corrupt("the bytes are not a well-formed snapshot"));
        }
        // Earlier SDKs kept a UUID with upper-case digits as another ID; key it as the UUID
        // it is, so it is found whatever case the server sends it in now.
        if snapshot.others.iter().any(|(id, _)| parse_uuid(id).is_some()) {
            let (uuids, others): (Vec<_>, Vec<_>) =
                std::mem::take(&mut snapshot.others).into_iter().partition(|(id, _)| parse_uuid(id).is_some());
            snapshot.others = others;
            snapshot.uuids.extend(uuids.into_iter().filter_map(|(id, fp)| Some((parse_uuid(&id)?, fp))));
            heap_sort(&mut snapshot.uuids, |a, b| a.0 < b.0);
            snapshot.uuids.dedup_by_key(|e| e.0);
        }
        Ok(snapshot)
    }

    /// The stored form (see the module docs).
    pub fn encode(&self, binding: u64) -> Vec<u8> {
        let others: usize = self.others.iter().map(|(id, _)| 10 + id.len()).sum();
        let mut out = Vec::with_capacity(HEADER_BYTES + self.uuids.len() * UUID_ENTRY_BYTES + others);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[VERSION, 0, 0, 0]);
        out.extend_from_slice(&binding.to_le_bytes());
        out.extend_from_slice(&(self.uuids.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.others.len() as u32).to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        for ((hi, lo), fp) in &self.uuids {
            out.extend_from_slice(&hi.to_be_bytes());
            out.extend_from_slice(&lo.to_be_bytes());
            out.extend_from_slice(&fp.to_le_bytes());
        }
        for (id, fp) in &self.others {
            out.extend_from_slice(&(id.len() as u16).to_le_bytes());
            out.extend_from_slice(id);
            out.extend_from_slice(&fp.to_le_bytes());
        }
        let sum = checksum(&out);
        out[24..32].copy_from_slice(&sum.to_le_bytes());
        out
    }

    /// The slot and fingerprint of customer `id`.
    pub fn find(&self, id: &[u8]) -> Option<(Slot, u64)> {
        self.find_key(key(id))
    }

    /// [`find`](Self::find) for an ID already parsed.
    pub fn find_key(&self, key: Key<'_>) -> Option<(Slot, u64)> {
        match key {
            Key::Uuid(n) => self.uuids.binary_search_by_key(&n, |e| e.0).ok().map(|i| (i, self.uuids[i].1)),
            Key::Other(id) => {
                let i = self.others.binary_search_by(|e| e.0.as_slice().cmp(id)).ok()?;
                Some((self.uuids.len() + i, self.others[i].1))
            }
        }
    }

    /// The customer ID in `slot` (IDs come from records, which the decoder checks are UTF-8).
    pub fn id(&self, slot: Slot) -> String {
        match self.uuids.get(slot) {
            Some((n, _)) => format_uuid(*n),
            None => String::from_utf8(self.others[slot - self.uuids.len()].0.clone()).unwrap_or_default(),
        }
    }
}

/// Collects the customers of a sync into the next [`Snapshot`].
#[derive(Default)]
pub struct SnapshotBuilder(Snapshot);

impl SnapshotBuilder {
    /// Room for `customers` UUID-keyed customers (a sync expects about as many as last time).
    pub fn with_capacity(customers: usize) -> Self {
        SnapshotBuilder(Snapshot { uuids: Vec::with_capacity(customers), others: Vec::new() })
    }

    /// Add a customer (each ID once: the run hands each customer out once).
    pub fn push(&mut self, id: &[u8], fingerprint: u64) -> Result<(), Error> {
        self.push_key(key(id), fingerprint)
    }

    /// [`push`](Self::push) for an ID already parsed.
    pub fn push_key(&mut self, key: Key<'_>, fingerprint: u64) -> Result<(), Error> {
        match key {
            Key::Uuid(n) => self.0.uuids.push((n, fingerprint)),
            Key::Other(id) if id.len() <= u16::MAX as usize => self.0.others.push((id.to_vec(), fingerprint)),
            Key::Other(_) => return Err(Error::Decode("a customerId is longer than 65,535 bytes".into())),
        }
        Ok(())
    }

    /// The snapshot, sorted (IDs are unique: a run hands each customer out once).
    pub fn finish(mut self) -> Snapshot {
        fn sort_dedup<K: Ord>(v: &mut Vec<(K, u64)>) {
            heap_sort(v, |a, b| a.0 < b.0);
            v.dedup_by(|a, b| a.0 == b.0);
        }
        sort_dedup(&mut self.0.uuids);
        sort_dedup(&mut self.0.others);
        self.0
    }
}

/// Heapsort. Hand-written for size: std's `sort_unstable_by` added ~6 KB to the wasm for
/// the two key types (measured with twiggy), this ~0.5 KB; O(n log n) either way. A test
/// checks it against std's unstable sort.
pub(crate) fn heap_sort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let sift_down = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[root], &v[child]) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    for start in (0..v.len() / 2).rev() {
        sift_down(v, start, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn heap_sort_sorts() {
        for n in 0..60u64 {
            let mut v: Vec<u64> = (0..n).map(|i| (i * 7919) % 61 + i % 3).collect();
            let mut want = v.clone();
            want.sort();
            super::heap_sort(&mut v, |a, b| a < b);
            assert_eq!(v, want);
        }
    }

    use super::*;

    fn sample() -> (Snapshot, u64) {
        let mut b = SnapshotBuilder::default();
        for n in 0..1000u32 {
            b.push(format!("{n:08x}-1111-4222-8333-444455556666").as_bytes(), n as u64 * 7).unwrap();
        }
        b.push(b"ACME-42", 5).unwrap();
        b.push("Ørsted".as_bytes(), 6).unwrap();
        b.push(b"ACME-43", 9).unwrap();
        (b.finish(), binding("Org-1", &CustomerQuery::everything()))
    }

    #[test]
    fn round_trip_and_24_bytes_per_uuid_customer() {
        let (s, bind) = sample();
        let bytes = s.encode(bind);
        assert_eq!(bytes.len(), HEADER_BYTES + 1000 * UUID_ENTRY_BYTES + (10 + 7) + (10 + 7) + (10 + 7));
        let back = Snapshot::decode(&bytes, bind).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.len(), 1003);
        let (slot, fp) = back.find(b"0000002a-1111-4222-8333-444455556666").unwrap();
        assert_eq!((back.id(slot).as_str(), fp), ("0000002a-1111-4222-8333-444455556666", 42 * 7));
        let (slot, fp) = back.find("Ørsted".as_bytes()).unwrap();
        assert_eq!((back.id(slot).as_str(), fp), ("Ørsted", 6));
        assert_eq!(back.find(b"ACME-43").map(|f| f.1), Some(9));
        assert_eq!(back.find(b"0000002A-1111-4222-8333-444455556666").map(|f| f.1), Some(42 * 7), "either case");
        assert_eq!(back.find(b"nope"), None);
        // The same customers give the same bytes whatever order they came in.
        let mut b = SnapshotBuilder::default();
        for n in (0..1000u32).rev() {
            b.push(format!("{n:08x}-1111-4222-8333-444455556666").as_bytes(), n as u64 * 7).unwrap();
        }
        for (id, fp) in [(&b"ACME-43"[..], 9), ("Ørsted".as_bytes(), 6), (b"ACME-42", 5)] {
            b.push(id, fp).unwrap();
        }
        assert_eq!(b.finish().encode(bind), bytes);
    }

    #[test]
    fn an_upper_case_uuid_an_earlier_sdk_stored_as_another_id_is_found_as_the_uuid() {
        let old = Snapshot { uuids: vec![], others: vec![(b"11111111-2222-3333-4444-55555555555A".to_vec(), 9), (b"acme".to_vec(), 1)] };
        let bind = binding("o", &CustomerQuery::default());
        let back = Snapshot::decode(&old.encode(bind), bind).unwrap();
        assert_eq!(back.find(b"11111111-2222-3333-4444-55555555555a").map(|f| f.1), Some(9));
        assert_eq!((back.uuids.len(), back.others.len()), (1, 1));
    }

    #[test]
    fn uuids_are_keyed_as_numbers_whatever_their_case() {
        // The numbers are part of the stored format: pinned.
        assert_eq!(parse_uuid(b"01234567-89ab-cdef-fedc-ba9876543210"), Some((0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210)));
        for id in ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "0000002a-1111-4222-8333-444455556666"] {
            assert_eq!(format_uuid(parse_uuid(id.as_bytes()).unwrap()), id);
        }
        assert_eq!(parse_uuid(b"01234567-89AB-CDEF-fedc-ba9876543210"), parse_uuid(b"01234567-89ab-cdef-fedc-ba9876543210"));
        for other in [
            "0123456789-ab-cdef-fedc-ba9876543210",  // a dash out of place
            "01234567-89ab-cdef-fedc-ba987654321",   // short
            "01234567-89ab-cdef-fedc-ba98765432100", // long
            "01234567-89ab-cdef-fedc-ba987654321g",  // not hex
            "01234567-89ab-cdef-fedc-ba98765432-0",  // a fifth dash
        ] {
            assert_eq!(parse_uuid(other.as_bytes()), None, "{other}");
        }
    }

    #[test]
    fn another_org_or_query_is_refused() {
        let (s, bind) = sample();
        let bytes = s.encode(bind);
        assert_eq!(
            Snapshot::decode(&bytes, binding(" org-1 ", &CustomerQuery::everything())).unwrap(),
            s,
            "org IDs ignore case and spaces"
        );
        let paged = CustomerQuery { page_size: Some(10), page: Some(3), ..CustomerQuery::everything() };
        assert!(Snapshot::decode(&bytes, binding("org-1", &paged)).is_ok(), "paging is not bound");
        let others = [
            binding("org-2", &CustomerQuery::everything()),
            binding("org-1", &CustomerQuery::default()),
            binding("org-1", &CustomerQuery { include_tenants: Some(false), ..CustomerQuery::everything() }),
            binding("org-1", &CustomerQuery { include_child_organizations: Some(false), ..CustomerQuery::everything() }),
            binding("org-1", &CustomerQuery { customer_status: Some(crate::model::CustomerStatus::Active), ..CustomerQuery::everything() }),
        ];
        for other in others {
            let e = Snapshot::decode(&bytes, other).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert!(e.to_string().contains("another organization or another query"), "{e}");
        }
    }

    #[test]
    fn the_header_and_length_alone_refuse_what_cannot_be_a_snapshot() {
        let (s, bind) = sample();
        let bytes = s.encode(bind);
        assert!(Snapshot::check_header(&bytes[..HEADER_BYTES], bytes.len(), bind).is_ok());
        // 200 MB of junk, or a real header with a length its counts cannot have: refused
        // from 32 bytes, before anything is copied.
        let junk = vec![7u8; HEADER_BYTES];
        assert_eq!(Snapshot::check_header(&junk, 200 << 20, bind).unwrap_err().code(), "INVALID_ARGUMENT");
        // 1,000 UUID entries and 3 others take at least 32 + 24,000 + 30 bytes.
        for len in [HEADER_BYTES + 24_000 + 29, 200 << 20, 0, 31] {
            let e = Snapshot::check_header(&bytes[..HEADER_BYTES], len, bind).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT", "length {len}");
        }
        assert!(Snapshot::check_header(&bytes[..HEADER_BYTES], bytes.len(), bind ^ 1).is_err(), "binding");
    }

    /// The customers of `tests/fixtures/snapshot-v1.bin`: UUIDs in either case, other IDs,
    /// fingerprints of real records.
    fn golden() -> (Snapshot, u64) {
        let records = [
            r#"{"customerId":"0000002a-1111-4222-8333-444455556666","customerName":"Acme","customerStatus":"Active"}"#,
            r#"{"customerId":"FFFFFFFF-1111-4222-8333-44445555666A","customerName":"Upper Case","tags":[1,2.5,true,null]}"#,
            r#"{"customerId":"12345678-9abc-def0-1234-56789abcdef0","customerName":"Caf\u00e9 \"Zur Post\"","addresses":[{"city":"Ørsted"}]}"#,
            r#"{"customerId":"ACME-42","customerName":"Not a UUID"}"#,
            r#"{"customerId":"Ørsted","customerName":"Non-ASCII ID"}"#,
            r#"{"customerId":"","customerName":"Empty ID"}"#,
        ];
        let mut b = SnapshotBuilder::default();
        for record in records {
            let f = crate::record::fingerprint(record.as_bytes()).unwrap();
            b.push(&f.id.unwrap(), f.content).unwrap();
        }
        let query = CustomerQuery {
            include_addresses: Some(true),
            include_tenants: Some(true),
            customer_status: Some(CustomerStatus::Active),
            ..Default::default()
        };
        (b.finish(), binding("Org-Golden", &query))
    }

    #[test]
    fn the_stored_format_is_what_version_1_was() {
        const STORED: &[u8] = include_bytes!("../tests/fixtures/snapshot-v1.bin");
        let (snapshot, bind) = golden();
        let bump = "the snapshot format changed (layout, binding, fingerprint or hash_bytes): bump snapshot::VERSION, keep \
                    reading version 1 (or refuse it with a clear message), and add a fixture for the new version";
        let read = Snapshot::decode(STORED, bind).unwrap_or_else(|e| panic!("{e}: {bump}"));
        assert_eq!(read.encode(bind), STORED, "decode then encode: {bump}");
        assert_eq!(read, snapshot, "today's code, the same customers: {bump}");
        assert_eq!(snapshot.encode(bind), STORED, "today's code, the same customers: {bump}");
        assert_eq!((read.uuids.len(), read.others.len()), (3, 3));
        assert_eq!(
            read.find(b"ffffffff-1111-4222-8333-44445555666a").map(|(slot, _)| read.id(slot)).as_deref(),
            Some("ffffffff-1111-4222-8333-44445555666a")
        );
    }

    #[test]
    fn every_cut_and_every_flipped_byte_is_refused() {
        let mut b = SnapshotBuilder::default();
        b.push(b"aaaaaaaa-1111-4222-8333-444455556666", 1).unwrap();
        b.push(b"other-id", 2).unwrap();
        let bind = binding("o", &CustomerQuery::default());
        let bytes = b.finish().encode(bind);
        for cut in 0..bytes.len() {
            assert_eq!(Snapshot::decode(&bytes[..cut], bind).unwrap_err().code(), "INVALID_ARGUMENT", "cut at {cut}");
        }
        for at in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = bytes.clone();
                bad[at] ^= bit;
                assert_eq!(Snapshot::decode(&bad, bind).unwrap_err().code(), "INVALID_ARGUMENT", "byte {at}");
            }
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Snapshot::decode(&longer, bind).is_err());
        let mut v2 = bytes.clone();
        v2[4] = 2;
        assert!(Snapshot::decode(&v2, bind).unwrap_err().to_string().contains("version 2"));
        assert!(Snapshot::decode(b"", bind).is_err());
        assert!(Snapshot::decode(&[0u8; 64], bind).is_err());
    }
}

/// The hand-written parts checked against the crates they replace (for size) as oracles.
#[cfg(test)]
mod oracles {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn heap_sort_orders_as_std_sort_unstable(mut v in proptest::collection::vec((0u64..40, any::<u64>()), 0..300)) {
            let mut want = v.clone();
            want.sort_unstable_by_key(|a| a.0);
            heap_sort(&mut v, |a, b| a.0 < b.0);
            // The same keys in the same order (neither sort is stable: equal keys may come
            // with their payloads in another order), and the same elements.
            prop_assert_eq!(v.iter().map(|e| e.0).collect::<Vec<_>>(), want.iter().map(|e| e.0).collect::<Vec<_>>());
            v.sort_unstable();
            want.sort_unstable();
            prop_assert_eq!(v, want);
        }

        #[test]
        fn heap_sort_sorts_ids_as_std_sort_unstable(mut v in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..6), 0..100)) {
            let mut want = v.clone();
            want.sort_unstable();
            heap_sort(&mut v, |a, b| a < b);
            prop_assert_eq!(v, want);
        }

        #[test]
        fn uuids_parse_and_format_as_the_uuid_crate_does(
            n in any::<u128>(),
            upper in proptest::collection::vec(any::<bool>(), 36),
            edit in proptest::option::of((0usize..36, proptest::sample::select(b"0123456789abcdefABCDEFgG-x {}:".to_vec()))),
        ) {
            let lower = uuid::Uuid::from_u128(n).hyphenated().to_string();
            prop_assert_eq!(format_uuid(((n >> 64) as u64, n as u64)), lower.clone());
            let mut text: Vec<u8> = lower.bytes().zip(&upper).map(|(b, &u)| if u { b.to_ascii_uppercase() } else { b }).collect();
            if let Some((at, b)) = edit {
                text[at] = b;
            }
            // 36 bytes: the hyphenated form is the only one the crate reads at this length.
            let theirs = uuid::Uuid::try_parse_ascii(&text).ok().map(|u| u.as_u64_pair());
            prop_assert_eq!(parse_uuid(&text), theirs, "{}", String::from_utf8_lossy(&text));
        }

        #[test]
        fn other_lengths_are_not_uuids(text in "[0-9a-fA-F-]{0,40}") {
            prop_assume!(text.len() != 36);
            prop_assert_eq!(parse_uuid(text.as_bytes()), None);
        }
    }
}
