//! What the SDK needs to know of one customer record without decoding it: its `customerId`
//! (to hand each customer out once per run) and a fingerprint of its content (to tell a
//! changed customer from an unchanged one in `sync`). Both are read from the record's bytes
//! as the scanner cut them out of the stream; nothing is built in JS for them.
//!
//! The fingerprint is canonical: the same JSON value gives the same fingerprint whatever its
//! key order, whitespace or string escapes (`"é"` and `"\u00e9"` are the same string). Numbers
//! are compared by their text (`1` and `1.0` differ: the API writes each number one way).
//! It is part of the snapshot format: changing how it is computed needs a new
//! [`crate::snapshot`] version.
//!
//! The walk that computes it is also a JSON checker: it accepts what serde_json accepts (see
//! [`fingerprint`] for exactly what), so a sync — which never decodes an unchanged record —
//! cannot fingerprint a malformed record as if it were a customer.

use std::borrow::Cow;

use crate::error::Error;
use crate::json::{decode_string_into, has_lone_surrogate, skip_json_string_bytes, skip_string_bytes, UnknownEscape};

/// A record's identity and content fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint<'a> {
    /// The top-level `customerId` string (unescaped), if the record has one.
    pub id: Option<Cow<'a, [u8]>>,
    /// The canonical content hash (see the module docs).
    pub content: u64,
}

const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const K3: u64 = 0x1656_67B1_9E37_79F9;

/// The murmur3 / SplitMix64 finaliser: every input bit reaches every output bit.
#[inline]
fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The first `N` bytes of `b` as an array (`b` holds at least `N`), for the cold paths that
/// read stored formats. Copies rather than `try_into().expect(..)`, which brings `Debug`
/// formatting into the wasm. (Not for hot loops: at opt-level z it is a call.)
pub(crate) fn le<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[..N]);
    a
}

/// A 64-bit hash of `bytes`, eight at a time, the length mixed in at the end: the crate's one
/// byte hash (fingerprints, ID keys, bindings, checksums, the scanner's first record).
/// Collisions are possible: only inputs of the same length up to 8 bytes never collide (one
/// word, and every step a bijection of it); any other two different inputs collide with odds
/// of about 2^-64, so among n different inputs the odds of any collision are about n²/2^65
/// (3·10^-8 for a million). Not a defence against a sender choosing colliding bytes.
#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        // `unwrap_or`, not `expect`: no Debug formatting in the wasm, and one plain load.
        h = (h.rotate_left(23) ^ u64::from_le_bytes(w.try_into().unwrap_or([0; 8]))).wrapping_mul(K1);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        // The tail as a zero-padded little-endian word (a plain loop: `copy_from_slice` and
        // iterator adapters are calls per string at opt-level z).
        let mut tail = 0u64;
        let mut k = rest.len();
        while k > 0 {
            k -= 1;
            tail = tail << 8 | rest[k] as u64;
        }
        h = (h.rotate_left(23) ^ tail).wrapping_mul(K1);
    }
    fmix(h ^ (bytes.len() as u64).wrapping_mul(K2))
}

/// The key de-duplication uses for a customer ID.
pub fn id_key(id: &[u8]) -> u64 {
    hash_bytes(0x6964, id)
}

/// The customers a run has handed out, by [`id_key`]: an open-addressing table of 8-byte
/// keys, at most 7/8 full — 1 MB for 100,000 customers (1.5 MB while it grows). A 64-bit key
/// can make two IDs collide (see [`hash_bytes`]); among 10^6 customers the odds are about
/// 3·10^-8. Hand-written for size: std's `HashSet` added ~2.5 KB to the wasm (measured with
/// twiggy); a test checks it against `HashSet`.
#[derive(Default, Debug)]
pub struct SeenIds {
    /// 0 marks a free slot; a length that is a power of two (or 0).
    slots: Vec<u64>,
    len: usize,
}

impl SeenIds {
    /// Remember `id`; false if it was seen before.
    pub fn first_time(&mut self, id: &[u8]) -> bool {
        self.insert_key(id_key(id))
    }

    /// Remember a key from [`id_key`]; false if it was there.
    pub fn insert_key(&mut self, key: u64) -> bool {
        let key = key.max(1);
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            let size = (self.slots.len() * 2).max(1024);
            let old = std::mem::replace(&mut self.slots, vec![0; size]);
            self.len = 0;
            for k in old.into_iter().filter(|&k| k != 0) {
                self.insert_key(k);
            }
        }
        let mask = self.slots.len() - 1;
        let mut i = key as usize & mask;
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = key;
                    self.len += 1;
                    return true;
                }
                k if k == key => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Whether a key from [`id_key`] is there.
    pub fn contains_key(&self, key: u64) -> bool {
        let key = key.max(1);
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = key as usize & mask;
        loop {
            match self.slots[i] {
                0 => return false,
                k if k == key => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Bytes the table holds (for the memory tests).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<u64>()
    }
}

// Seeds that keep the kinds of values apart (the string "1" is not the number 1).
const STRING: u64 = 1;
const LITERAL: u64 = 2;
const ARRAY: u64 = 3;
const OBJECT: u64 = 4;

fn not_json() -> Error {
    Error::Decode("a customer record is not valid JSON".into())
}

/// The record's `customerId` only — cheap when it is the first key, as the API writes it:
/// then only the record's first bytes are read, and the rest is not checked. Otherwise the
/// whole record is walked, and checked, as [`fingerprint`] does.
pub fn customer_id(record: &[u8]) -> Result<Option<Cow<'_, [u8]>>, Error> {
    const PREFIX: &[u8] = b"{\"customerId\":\"";
    if record.starts_with(PREFIX) {
        let start = PREFIX.len();
        let end = skip_string_bytes(record, start);
        if end < record.len() && record[end] == b'"' {
            return Ok(Some(Cow::Borrowed(&record[start..end])));
        }
    }
    fingerprint(record).map(|f| f.id)
}

/// One open object or array while a [`RecordWalk`] is inside it.
#[derive(Debug)]
struct Frame {
    object: bool,
    /// Object: the sum of its members' hashes; array: the running sequence hash.
    acc: u64,
    count: u64,
    /// Object: the hash of the key whose value comes next.
    key: Option<u64>,
    /// The key was `customerId` at the record's top level.
    id_key: bool,
}

/// The text of a `customerId` a walk read: where it lies in the record, or decoded (it had
/// escapes).
#[derive(Debug)]
enum IdText {
    At(usize, usize),
    Decoded(Vec<u8>),
}

/// Where a [`RecordWalk::walk`] stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Walked {
    /// The bytes ended inside the value: walk on when more have arrived.
    More,
    /// The value ends just before `end`, and this is its canonical content hash.
    Done {
        /// One past the value's last byte.
        end: usize,
        /// The fingerprint's `content`.
        content: u64,
    },
}

/// The fingerprint of one JSON value (a record) computed, and its syntax checked (as
/// [`fingerprint`] says), as its bytes arrive: each
/// [`walk`](Self::walk) gets the value's bytes so far — always from its first byte, as the
/// scanner's buffer keeps them — and goes on from where the last one stopped, inside a string
/// or literal the bytes ended in too (a long one is read once, not once per chunk). One walk
/// is reused record after record, so fingerprinting allocates nothing.
#[derive(Debug, Default)]
pub struct RecordWalk {
    stack: Vec<Frame>,
    /// The next byte to read, from the value's first byte.
    pos: usize,
    /// What may come at `pos`.
    expect: Expect,
    /// The top-level `customerId` string, between reading it and completing its member.
    id_value: Option<IdText>,
    id: Option<IdText>,
    /// The last string that had escapes, decoded (most strings have none: they are hashed
    /// where they lie; the others are decoded first, so both spellings hash alike).
    unescaped: Vec<u8>,
    /// The string or literal the bytes ended in, at `pos`.
    cut: Option<Cut>,
    /// Bytes looked at inside strings (tests: a string cut many times is still read once).
    #[cfg(test)]
    examined: usize,
}

/// A string or literal that the bytes so far end in.
#[derive(Debug, Clone, Copy)]
struct Cut {
    /// Its first byte (a string's opening quote).
    at: usize,
    /// Where to go on looking for its end.
    from: usize,
    /// A string: it has an escape before `from`.
    escaped: bool,
    /// A string: it has a byte of 0x80 or more before `from` (it needs a UTF-8 check).
    wide: bool,
}

/// What a [`RecordWalk`] may read next (white space aside): JSON's grammar as a state.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value: at the start, after `:`, after `,` in an array.
    #[default]
    Value,
    /// A value or `]`: after `[`.
    ValueOrClose,
    /// A key: after `,` in an object.
    Key,
    /// A key or `}`: after `{`.
    KeyOrClose,
    /// `:`: after a key.
    Colon,
    /// `,` or the close of the innermost object or array: after a value in one.
    CommaOrClose,
}

impl RecordWalk {
    /// Get ready for a new value.
    pub fn start(&mut self) {
        self.stack.clear();
        self.pos = 0;
        self.expect = Expect::Value;
        self.id_value = None;
        self.id = None;
        self.cut = None;
    }

    /// The top-level `customerId` string of the value just walked, if it had one.
    pub fn id<'a>(&self, value: &'a [u8]) -> Option<Cow<'a, [u8]>> {
        match &self.id {
            Some(IdText::At(start, end)) => Some(Cow::Borrowed(&value[*start..*end])),
            Some(IdText::Decoded(text)) => Some(Cow::Owned(text.clone())),
            None => None,
        }
    }

    /// Walk on over `bytes`, the value's bytes so far. `last`: no more will come (a literal
    /// running to the end is complete; a value still open is malformed). Text that is not
    /// one JSON value (see [`fingerprint`] for exactly what is accepted) is `DECODE`, never a
    /// panic: as soon as the bytes so far cannot begin a JSON value, or at `last`.
    pub fn walk(&mut self, bytes: &[u8], last: bool) -> Result<Walked, Error> {
        let n = bytes.len();
        let stack = &mut self.stack;
        let mut expect = self.expect;
        let mut i = self.pos;
        while i < n {
            let b = bytes[i];
            // The value just completed, if this byte completed one.
            let value: u64;
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    i += 1;
                    continue;
                }
                b':' => {
                    if expect != Expect::Colon {
                        return Err(not_json());
                    }
                    expect = Expect::Value;
                    i += 1;
                    continue;
                }
                b',' => {
                    // Only after a value inside an object or array (no `[,`, `[1,,2]`).
                    if expect != Expect::CommaOrClose {
                        return Err(not_json());
                    }
                    expect = if stack.last().is_some_and(|f| f.object) { Expect::Key } else { Expect::Value };
                    i += 1;
                    continue;
                }
                b'{' | b'[' => {
                    if !matches!(expect, Expect::Value | Expect::ValueOrClose) {
                        return Err(not_json());
                    }
                    let object = b == b'{';
                    stack.push(Frame { object, acc: if object { 0 } else { ARRAY }, count: 0, key: None, id_key: false });
                    expect = if object { Expect::KeyOrClose } else { Expect::ValueOrClose };
                    i += 1;
                    continue;
                }
                b'}' | b']' => {
                    // Not after a comma (`[1,]`, `{"a":1,}`), a key or a colon.
                    let object = b == b'}';
                    let fits = match expect {
                        Expect::CommaOrClose => true,
                        Expect::KeyOrClose => object,
                        Expect::ValueOrClose => !object,
                        _ => false,
                    };
                    let f = stack.pop().filter(|f| fits && f.object == object).ok_or_else(not_json)?;
                    value = if f.object { fmix(f.acc ^ OBJECT ^ f.count.wrapping_mul(K3)) } else { fmix(f.acc ^ f.count.wrapping_mul(K3)) };
                    i += 1;
                }
                b'"' => {
                    let is_key = matches!(expect, Expect::Key | Expect::KeyOrClose);
                    if !is_key && !matches!(expect, Expect::Value | Expect::ValueOrClose) {
                        return Err(not_json());
                    }
                    let start = i + 1;
                    // Where the string's closing quote is, going on from where a walk that
                    // found the bytes ending inside it stopped (so a long string arriving in
                    // many chunks is read once, not once per chunk).
                    let (mut from, mut escaped, mut wide) = match self.cut.take() {
                        Some(cut) if cut.at == i => (cut.from, cut.escaped, cut.wide),
                        _ => (start, false, false),
                    };
                    let end = loop {
                        let (stop, high) = skip_json_string_bytes(bytes, from);
                        wide |= high;
                        #[cfg(test)]
                        {
                            self.examined += stop.saturating_sub(from);
                        }
                        if stop >= n {
                            break None;
                        }
                        match bytes[stop] {
                            b'"' => break Some(stop),
                            b'\\' => {
                                escaped = true;
                                from = stop + 2; // the byte after a backslash is escaped
                            }
                            _ => return Err(not_json()), // a control character
                        }
                    };
                    let Some(end) = end else {
                        if last {
                            return Err(not_json());
                        }
                        self.cut = Some(Cut { at: i, from: from.max(n), escaped, wide });
                        break;
                    };
                    // Escapes are ASCII: the raw bytes are UTF-8 if the text is.
                    if wide && std::str::from_utf8(&bytes[start..end]).is_err() {
                        return Err(not_json());
                    }
                    if escaped {
                        self.unescaped.clear();
                        decode_string_into(bytes, start, UnknownEscape::Refuse, &mut self.unescaped).ok_or_else(not_json)?;
                    }
                    i = end + 1;
                    let text = if escaped { &self.unescaped[..] } else { &bytes[start..end] };
                    let h = hash_bytes(STRING, text);
                    if is_key {
                        let top_level = stack.len() == 1;
                        if let Some(f) = stack.last_mut() {
                            f.key = Some(h);
                            f.id_key = top_level && text == b"customerId";
                        }
                        // The colon mostly follows at once: take it here.
                        if i < n && bytes[i] == b':' {
                            i += 1;
                            expect = Expect::Value;
                        } else {
                            expect = Expect::Colon;
                        }
                        continue;
                    }
                    if stack.last().is_some_and(|f| f.id_key) {
                        // A lone surrogate decodes to U+FFFD: two different such IDs would
                        // become one customer, and one of them silently dropped as a repeat.
                        if escaped && has_lone_surrogate(&bytes[start..end]) {
                            return Err(Error::Decode(
                                "a customerId contains a lone UTF-16 surrogate (\\uD800–\\uDFFF unpaired): it is not \
                                 Unicode text and cannot identify a customer"
                                    .into(),
                            ));
                        }
                        self.id_value = Some(if escaped { IdText::Decoded(self.unescaped.clone()) } else { IdText::At(start, end) });
                    }
                    value = h;
                }
                _ => {
                    if !matches!(expect, Expect::Value | Expect::ValueOrClose) {
                        return Err(not_json());
                    }
                    let start = i;
                    let mut end = match self.cut.take() {
                        Some(cut) if cut.at == i => cut.from,
                        _ => i,
                    };
                    while end < n && !matches!(bytes[end], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r' | b':' | b'"') {
                        end += 1;
                    }
                    if end == n && !last {
                        // It may go on: next time, from here.
                        self.cut = Some(Cut { at: i, from: end, escaped: false, wide: false });
                        break;
                    }
                    if !is_literal(&bytes[start..end]) {
                        return Err(not_json());
                    }
                    i = end;
                    value = hash_bytes(LITERAL, &bytes[start..end]);
                }
            }
            expect = Expect::CommaOrClose;
            match stack.last_mut() {
                None => {
                    self.pos = i;
                    self.expect = expect;
                    return Ok(Walked::Done { end: i, content: value });
                }
                Some(f) if f.object => {
                    let key = f.key.take().ok_or_else(not_json)?;
                    f.acc = f.acc.wrapping_add(fmix(key.wrapping_mul(K2) ^ value.rotate_left(32)));
                    f.count += 1;
                    if std::mem::take(&mut f.id_key) {
                        self.id = self.id_value.take();
                    }
                    // The comma mostly follows at once: take it here.
                    if i < n && bytes[i] == b',' {
                        i += 1;
                        expect = Expect::Key;
                    }
                }
                Some(f) => {
                    f.acc = (f.acc.rotate_left(29) ^ value).wrapping_mul(K1);
                    f.count += 1;
                    if i < n && bytes[i] == b',' {
                        i += 1;
                        expect = Expect::Value;
                    }
                }
            }
        }
        self.pos = i;
        self.expect = expect;
        if last {
            return Err(not_json());
        }
        Ok(Walked::More)
    }
}

/// Whether `t` is a JSON literal: `true`, `false`, `null` or a number as JSON writes one,
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` (no `+1`, `01`, `1.`, `.5`, `NaN`).
fn is_literal(t: &[u8]) -> bool {
    fn digits(t: &[u8], i: &mut usize) -> usize {
        let from = *i;
        while *i < t.len() && t[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - from
    }
    if matches!(t, b"true" | b"false" | b"null") {
        return true;
    }
    let mut i = usize::from(t.first() == Some(&b'-'));
    let first = t.get(i).copied();
    match digits(t, &mut i) {
        0 => return false,
        1 => {}
        _ if first == Some(b'0') => return false,
        _ => {}
    }
    if t.get(i) == Some(&b'.') {
        i += 1;
        if digits(t, &mut i) == 0 {
            return false;
        }
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(t.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(t, &mut i) == 0 {
            return false;
        }
    }
    i == t.len()
}

/// The record's `customerId` and canonical content hash, in one pass over its bytes.
///
/// Accepted: exactly one JSON value with only white space (space, tab, CR, LF) around it —
/// what serde_json accepts as JSON's syntax (RFC 8259): valid UTF-8; strings with JSON's
/// escapes only (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`) and no raw
/// control character (U+0000–U+001F); numbers in JSON's form
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; `true`, `false`, `null`; a `:` after every
/// key, which is a string; `,` between members and elements, never trailing or doubled. (A
/// test checks this against serde_json on generated and edited texts, cut at every byte.)
/// Two things serde_json refuses when it reads a `Value` are accepted, as `JSON.parse`
/// accepts them: a `\u` escape of a lone UTF-16 surrogate (hashed as U+FFFD; refused in the
/// top-level `customerId`) and a number beyond f64's range such as `1e400` (numbers are
/// compared by their text); and there is no nesting limit (serde_json stops at 128).
/// Anything else is `DECODE`, never a panic.
pub fn fingerprint(record: &[u8]) -> Result<Fingerprint<'_>, Error> {
    let mut walk = RecordWalk::default();
    match walk.walk(record, true)? {
        Walked::Done { end, content } if record[end..].iter().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) => {
            Ok(Fingerprint { id: walk.id(record), content })
        }
        _ => Err(not_json()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(s: &str) -> Fingerprint<'_> {
        fingerprint(s.as_bytes()).unwrap()
    }

    #[test]
    fn key_order_whitespace_and_escapes_do_not_change_the_fingerprint() {
        let a = fp(r#"{"customerId":"c1","customerName":"Café","tags":[1,"x",{"k":null}],"n":{"a":true,"b":false}}"#);
        let b = fp("{ \"n\" : { \"b\":false, \"a\":true },\n\t\"tags\":[ 1 ,\"x\", {\"k\" : null} ],\"customerName\":\"Caf\\u00e9\",\"customerId\":\"c1\" }");
        assert_eq!(a, b);
        assert_eq!(a.id.as_deref(), Some(&b"c1"[..]));
    }

    #[test]
    fn fingerprints_are_stable_across_versions() {
        // Snapshots store fingerprints: a change here makes every stored customer "changed".
        // Pinned values, computed once; a new formula needs a new snapshot version.
        let record = r#"{"customerId":"0000002a-1111-4222-8333-444455556666","customerName":"Caf\u00e9 \"Zur Post\"","n":[1,2.5,-3e2,true,false,null],"addresses":[{"city":"Ørsted","zip":"12345678"},{}],"x":"","longer string value":"abcdefghijklmnopqrstuvwxyz0123456789"}"#;
        let f = fp(record);
        assert_eq!(f.id.as_deref(), Some(&b"0000002a-1111-4222-8333-444455556666"[..]));
        assert_eq!(f.content, 0x3f5b_a688_510b_a860, "{:#x}", f.content);
        assert_eq!(hash_bytes(STRING, b"customerId"), 0x8723_8959_7668_0cf0);
    }

    /// hash_bytes as first written (the tail through a zero-padded array), which the pinned
    /// values above were computed with.
    fn reference_hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
        let mut h = seed;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            h = (h.rotate_left(23) ^ u64::from_le_bytes(w.try_into().unwrap())).wrapping_mul(K1);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut tail = [0u8; 8];
            tail[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(23) ^ u64::from_le_bytes(tail)).wrapping_mul(K1);
        }
        fmix(h ^ (bytes.len() as u64).wrapping_mul(K2))
    }

    #[test]
    fn hash_bytes_is_its_reference_definition() {
        let bytes: Vec<u8> = (0..64u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for start in 0..9 {
            for end in start..bytes.len() {
                assert_eq!(hash_bytes(STRING, &bytes[start..end]), reference_hash_bytes(STRING, &bytes[start..end]));
            }
        }
    }

    #[test]
    fn a_walk_fed_in_small_pieces_reads_each_string_once() {
        let long = "x".repeat(4000);
        let escaped = "ab\\\"cd".repeat(500);
        let digits = "7".repeat(3000);
        let record = format!(r#"{{"customerId":"{long}","e":"{escaped}","n":{digits},"z":[1,"y"]}}"#);
        let bytes = record.as_bytes();
        let mut walk = RecordWalk::default();
        walk.start();
        let mut result = Walked::More;
        for end in (7..bytes.len()).step_by(7).chain([bytes.len()]) {
            result = walk.walk(&bytes[..end], false).unwrap();
        }
        assert_eq!(result, Walked::Done { end: bytes.len(), content: fp(&record).content });
        assert_eq!(walk.id(bytes).as_deref(), Some(long.as_bytes()));
        // Strings are examined once (plus the odd word re-read at a cut), not once per piece.
        assert!(walk.examined <= bytes.len() + 8 * bytes.len() / 7, "{} of {}", walk.examined, bytes.len());
    }

    #[test]
    fn any_change_of_content_changes_the_fingerprint() {
        let base = r#"{"customerId":"c1","customerName":"Acme","tags":[1,2],"o":{"x":"1"}}"#;
        let others = [
            r#"{"customerId":"c1","customerName":"Acme ","tags":[1,2],"o":{"x":"1"}}"#,
            r#"{"customerId":"c1","customerName":"Acme","tags":[2,1],"o":{"x":"1"}}"#,
            r#"{"customerId":"c1","customerName":"Acme","tags":[1,2],"o":{"x":1}}"#,
            r#"{"customerId":"c1","customerName":"Acme","tags":[1,2],"o":{"y":"1"}}"#,
            r#"{"customerId":"c1","customerName":"Acme","tags":[1,2],"o":{"x":"1"},"z":null}"#,
            r#"{"customerId":"c1","customerName":"Acme","tags":[[1,2]],"o":{"x":"1"}}"#,
            r#"{"customerId":"c1","customerName":"Acme","tags":[1,2],"o":[{"x":"1"}]}"#,
            r#"{"customerId":"c1","customerName":"Acme","tags":[1,2,null],"o":{"x":"1"}}"#,
            r#"{"customerId":"c2","customerName":"Acme","tags":[1,2],"o":{"x":"1"}}"#,
            // A key and its value swapped, values moved between keys.
            r#"{"customerId":"c1","Acme":"customerName","tags":[1,2],"o":{"x":"1"}}"#,
            r#"{"customerId":"c1","customerName":"1","tags":[1,2],"o":{"x":"Acme"}}"#,
        ];
        let h = fp(base).content;
        for o in others {
            assert_ne!(fp(o).content, h, "{o}");
        }
    }

    #[test]
    fn the_id_is_the_top_level_customer_id_only() {
        assert_eq!(fp(r#"{"x":{"customerId":"inner"},"customerId":"outer"}"#).id.as_deref(), Some(&b"outer"[..]));
        assert_eq!(fp(r#"{"x":{"customerId":"inner"}}"#).id, None);
        assert_eq!(fp(r#"{"customerId":7}"#).id, None);
        assert_eq!(fp(r#"{"customerId":"a\"b\u00e9"}"#).id.as_deref(), Some("a\"bé".as_bytes()));
        for record in [r#"{"customerId":"abc","x":1}"#, r#"{ "customerId" : "abc"}"#, r#"{"a":[],"customerId":"abc"}"#] {
            assert_eq!(customer_id(record.as_bytes()).unwrap().as_deref(), Some(&b"abc"[..]), "{record}");
        }
    }

    #[test]
    fn malformed_records_are_decode_errors_not_panics() {
        for bad in [
            r#"{"a"}"#,
            r#"{"a":1"#,
            r#"{"a":1}}"#,
            r#"{"a":[1}"#,
            r#"{{}}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"x"#,
            "",
            r#"{"a":"\q"}"#,
            r#"{"a":1} 2"#,
        ] {
            assert_eq!(fingerprint(bad.as_bytes()).unwrap_err().code(), "DECODE", "{bad}");
        }
        // Surrogate pairs and lone surrogates.
        assert_eq!(fp(r#"{"a":"\ud83d\ude00"}"#), fp(r#"{"a":"😀"}"#));
        assert_eq!(fp(r#"{"a":"\ud83d"}"#), fp("{\"a\":\"\u{FFFD}\"}"));
    }

    #[test]
    fn a_hundred_thousand_ids_take_under_two_megabytes() {
        let mut seen = SeenIds::default();
        for n in 0..100_000u32 {
            let id = format!("{:08x}-0000-4000-8000-{:012x}", n.wrapping_mul(2_654_435_761), n);
            assert!(seen.first_time(id.as_bytes()));
        }
        assert!(!seen.first_time(format!("{:08x}-0000-4000-8000-{:012x}", 7u32.wrapping_mul(2_654_435_761), 7).as_bytes()));
        assert!(seen.heap_bytes() <= 2 << 20, "{}", seen.heap_bytes());
    }

    #[test]
    fn hash_bytes_separates_lengths_and_positions() {
        let mut seen = std::collections::HashSet::new();
        for len in 0..24 {
            for at in 0..len.max(1) {
                let mut v = vec![0u8; len];
                if len > 0 {
                    v[at] = 1;
                }
                assert!(seen.insert(hash_bytes(STRING, &v)) || len == 0 || at > 0 && v.iter().all(|&b| b == 0));
            }
        }
    }
}

#[cfg(test)]
mod canonical {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// `v` as JSON text with every object's keys in reverse order, spaces around everything
    /// and every non-ASCII character escaped.
    pub(super) fn shuffled(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                out.push_str("{ ");
                for (k, (key, value)) in m.iter().rev().enumerate() {
                    if k > 0 {
                        out.push_str(" ,\n ");
                    }
                    shuffled(&Value::String(key.clone()), out);
                    out.push_str(" : ");
                    shuffled(value, out);
                }
                out.push_str(" }");
            }
            Value::Array(a) => {
                out.push_str("[ ");
                for (k, value) in a.iter().enumerate() {
                    if k > 0 {
                        out.push_str(" , ");
                    }
                    shuffled(value, out);
                }
                out.push_str(" ]");
            }
            Value::String(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '/' => out.push_str("\\/"),
                        c if c.is_ascii() && c >= ' ' => out.push(c),
                        c => {
                            let mut units = [0u16; 2];
                            for u in c.encode_utf16(&mut units) {
                                out.push_str(&format!("\\u{u:04X}"));
                            }
                        }
                    }
                }
                out.push('"');
            }
            other => out.push_str(&other.to_string()),
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[\\PC\"\\\\/é😀]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-zé\"]{1,4}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_same_value_written_differently_has_the_same_fingerprint(
            fields in proptest::collection::btree_map("[a-zA-Z]{1,6}", arb_value(), 0..6),
        ) {
            let v = Value::Object(fields.into_iter().collect());
            let plain = serde_json::to_string(&v).unwrap();
            let mut other = String::new();
            shuffled(&v, &mut other);
            prop_assert_eq!(fingerprint(plain.as_bytes()).unwrap().content, fingerprint(other.as_bytes()).unwrap().content, "{} vs {}", plain, other);
        }
    }
}

/// [`SeenIds`] against std's `HashSet` as an oracle.
#[cfg(test)]
mod seen_ids {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64),
        Contains(u64),
    }

    /// Keys that share a slot (multiples of the table's sizes), sit next to each other
    /// (probing runs), are 0 or 1 (SeenIds stores 0 as 1: 0 marks a free slot), or are any.
    fn arb_key() -> impl Strategy<Value = u64> {
        prop_oneof![(0u64..64).prop_map(|k| k << 10), (0u64..64).prop_map(|k| k << 14), 0u64..4, 1000u64..1100, any::<u64>()]
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![arb_key().prop_map(Op::Insert), arb_key().prop_map(Op::Contains)]
    }

    proptest! {
        #[test]
        fn answers_as_a_hash_set_does(ops in proptest::collection::vec(arb_op(), 0..3000)) {
            let mut seen = SeenIds::default();
            let mut set = std::collections::HashSet::new();
            for op in ops {
                match op {
                    Op::Insert(k) => prop_assert_eq!(seen.insert_key(k), set.insert(k.max(1)), "insert {}", k),
                    Op::Contains(k) => prop_assert_eq!(seen.contains_key(k), set.contains(&k.max(1)), "contains {}", k),
                }
            }
            for k in set {
                prop_assert!(seen.contains_key(k));
            }
        }
    }
}

/// The walk accepts exactly the JSON texts serde_json does (checked against it as an
/// oracle), whatever chunks the bytes arrive in.
#[cfg(test)]
mod strict {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// serde_json's verdict on `text` as JSON's grammar: valid UTF-8 and one JSON value with
    /// nothing but white space around it. Read as `IgnoredAny`, which checks the grammar and
    /// the escapes' syntax but not two things reading into a `Value` adds, and the walk does
    /// not: that a `\u` escape is not a lone surrogate (the walk reads it as U+FFFD, as
    /// `JSON.parse` keeps it — except in a `customerId`, refused) and that a number is within
    /// f64's range (`1e400`: `JSON.parse` reads `Infinity`; the walk compares numbers by
    /// their text).
    fn serde_accepts(text: &[u8]) -> bool {
        std::str::from_utf8(text).is_ok_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok())
    }

    /// The walk's verdict: the whole text is one JSON value (what [`fingerprint`] checks).
    fn walk_accepts(text: &[u8]) -> bool {
        fingerprint(text).is_ok()
    }

    /// [`fingerprint`]'s result with the bytes arriving cut at each of `cuts` (ascending): each
    /// walk gets the bytes so far, as the scanner hands them over.
    fn walked_in_pieces(text: &[u8], cuts: &[usize]) -> Result<(usize, u64), Error> {
        let mut walk = RecordWalk::default();
        walk.start();
        for &cut in cuts.iter().filter(|&&c| c < text.len()) {
            if let Walked::Done { end, content } = walk.walk(&text[..cut], false)? {
                return finish(text, end, content);
            }
        }
        match walk.walk(text, true)? {
            Walked::Done { end, content } => finish(text, end, content),
            Walked::More => unreachable!("a last walk is done or an error"),
        }
    }

    fn finish(text: &[u8], end: usize, content: u64) -> Result<(usize, u64), Error> {
        if text[end..].iter().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
            Ok((end, content))
        } else {
            Err(not_json())
        }
    }

    const MALFORMED: &[&str] = &[
        r#"{"a" "b"}"#, // no colon
        r#"{"a":tru}"#, // a literal cut short
        r#"{"a":nul}"#,
        r#"{"a":True}"#,
        r#"{"a":truex}"#,
        "[1,]", // trailing commas
        r#"{"a":1,}"#,
        r#"{"a":1 "b":2}"#, // no comma
        "[1 2]",
        "{,}",
        "[,]",
        "[,1]",
        "[1,,2]",
        r#"{"a"::1}"#,
        r#"{:"a"}"#,
        r#"{"a":1:}"#,
        r#"{"a",1}"#,
        r#"{1:2}"#, // a key that is not a string
        r#"{"a":1}}"#,
        r#"{"a":[1}"#,
        "{{}}",
        r#"{"a":}"#,
        r#"{"a"}"#,
        r#"["a":1]"#,
        "[01]", // leading zeros
        "[-01]",
        "[00]",
        "[+1]",
        "[1.]",
        "[.5]",
        "[1e]",
        "[1e+]",
        "[-]",
        "[--1]",
        "[0x10]",
        "[NaN]",
        "[Infinity]",
        "[1.5.5]",
        "[1e5e5]",
        "[1{}]",
        r#"[1"a"]"#,
        r#"["a"1]"#,
        r#"["a""b"]"#,
        "[{}{}]",
        "[\"a\tb\"]", // a raw control character in a string
        "[\"a\nb\"]",
        "[\"\u{0}\"]",
        r#"["\x"]"#, // an escape JSON does not have
        r#"["\u12"]"#,
        r#"["\u12x4"]"#,
        r#"["a"#,
        "",
        "   ",
        "[",
        "]",
        "{}x",
        "{} {}",
        "[1] 2",
        "\u{feff}{}", // a byte order mark
        "'a'",
    ];

    #[test]
    fn malformed_json_is_a_decode_error_as_serde_json_says() {
        for bad in MALFORMED {
            assert!(!serde_accepts(bad.as_bytes()), "serde_json accepts {bad:?}: not a malformed case");
            for cut in 0..=bad.len() {
                let e = walked_in_pieces(bad.as_bytes(), &[cut]).unwrap_err();
                assert_eq!(e.code(), "DECODE", "{bad:?} cut at {cut}");
            }
        }
        // Bytes that are not UTF-8, inside a string and outside.
        for bad in [&b"[\"\xff\"]"[..], b"[\"\xc3\"]", b"[\"a\xc3\x28\"]", b"[\"\xed\xa0\x80\"]", b"[\xc3\xa9]", b"[1\x80]"] {
            assert!(!serde_accepts(bad) && !walk_accepts(bad), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn what_json_allows_is_accepted() {
        for good in [
            "{}",
            "[]",
            " { } ",
            "\t[\n]\r\n",
            r#"{"a":[],"b":{},"c":[{}],"d":[[]]}"#,
            "[0,-0,1,-1,10,0.5,-0.5,1e5,1E5,1e+5,1e-5,1.25E-05,123456789012345678901234567890]",
            "[1e400,-1e400]",
            "[true,false,null]",
            r#"["","\"\\\/\b\f\n\r\t\u0000\u00e9\uD83D\ude00","é😀 ",  "\u007f"]"#,
            "[\"\u{7f}\"]",
            r#"{"a" : 1 , "b" :[ 1 , 2 ] }"#,
            "1",
            "-1.5e3",
            r#""top level string""#,
            "null",
        ] {
            assert!(serde_accepts(good.as_bytes()), "serde_json refuses {good:?}");
            for cut in 0..=good.len() {
                assert_eq!(
                    walked_in_pieces(good.as_bytes(), &[cut]).ok(),
                    Some((good.trim_end().len(), fp(good).content)),
                    "{good:?} cut at {cut}"
                );
            }
        }
    }

    fn fp(s: &str) -> Fingerprint<'_> {
        fingerprint(s.as_bytes()).unwrap()
    }

    #[test]
    fn literals() {
        for good in ["true", "false", "null", "0", "-0", "7", "-12", "0.0", "1.5", "1e1", "1E-1", "1e+01", "-0.5e-0"] {
            assert!(is_literal(good.as_bytes()), "{good}");
        }
        for bad in ["", "-", "+1", "01", "-01", "1.", ".1", "1e", "1e+", "e1", "1.e1", "0x1", "tru", "truee", "nul", "1-", "1e1.5", "- 1"] {
            assert!(!is_literal(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn the_string_skip_stops_where_a_byte_at_a_time_loop_does() {
        let naive = |b: &[u8], i: usize| b[i..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map_or(b.len(), |p| i + p);
        let pool = [b'a', b'"', b'\\', 0x00, 0x1f, b' ', b'!', 0x7f, 0x80, 0xc3, 0xff, b'\x21' ^ 0x80, 0x20, 0x9f];
        for len in 0..24 {
            for seed in 0..200u32 {
                let bytes: Vec<u8> =
                    (0..len).map(|k| pool[((seed.wrapping_mul(2_654_435_761) >> (k % 13)) as usize + k * 7) % pool.len()]).collect();
                for start in 0..=len {
                    let (stop, wide) = skip_json_string_bytes(&bytes, start);
                    assert_eq!(stop, naive(&bytes, start), "{bytes:?} from {start}");
                    // `wide` covers every byte passed (and may look a word further).
                    if bytes[start..stop].iter().any(|&b| b >= 0x80) {
                        assert!(wide, "{bytes:?} from {start}");
                    }
                }
            }
        }
    }

    /// JSON texts of every kind serde_json writes, and the same values with escapes and
    /// white space (see `canonical::shuffled`).
    fn arb_text() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "[\\PC\"\\\\/é😀\\x00-\\x1f]{0,8}".prop_map(Value::from),
        ];
        let value = leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                proptest::collection::btree_map("[a-zé\"\\\\ ]{0,4}", inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        });
        (value, 0..3u8).prop_map(|(v, style)| match style {
            0 => serde_json::to_vec(&v).unwrap(),
            1 => serde_json::to_vec_pretty(&v).unwrap(),
            _ => {
                let mut out = String::new();
                super::canonical::shuffled(&v, &mut out);
                out.into_bytes()
            }
        })
    }

    /// A byte to put into a JSON text: mostly ones that mean something to JSON.
    fn arb_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            3 => proptest::sample::select(b"{}[]:,\"\\ \t\n0123456789-+.eEtrufalsn/bu".to_vec()),
            1 => proptest::sample::select(vec![0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc3, 0xed, 0xff]),
            1 => any::<u8>(),
        ]
    }

    #[derive(Clone, Debug)]
    enum Edit {
        Insert(usize, u8),
        Delete(usize),
        Replace(usize, u8),
    }

    fn arb_edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), arb_byte()).prop_map(|(at, b)| Edit::Insert(at, b)),
            any::<usize>().prop_map(Edit::Delete),
            (any::<usize>(), arb_byte()).prop_map(|(at, b)| Edit::Replace(at, b)),
        ]
    }

    fn edited(mut text: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
        for edit in edits {
            match *edit {
                Edit::Insert(at, b) => text.insert(at % (text.len() + 1), b),
                Edit::Delete(at) if !text.is_empty() => {
                    text.remove(at % text.len());
                }
                Edit::Replace(at, b) if !text.is_empty() => {
                    let n = text.len();
                    text[at % n] = b;
                }
                _ => {}
            }
        }
        text
    }

    /// The walk's verdict at every cut of `text` is its verdict on the whole, and that is
    /// serde_json's.
    fn check(text: &[u8]) -> Result<(), TestCaseError> {
        let whole = walked_in_pieces(text, &[]).map_err(|e| e.code());
        prop_assert_eq!(whole.is_ok(), serde_accepts(text), "walk {:?} on {:?}", whole, String::from_utf8_lossy(text));
        for cut in 0..=text.len() {
            prop_assert_eq!(&walked_in_pieces(text, &[cut]).map_err(|e| e.code()), &whole, "cut at {}", cut);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn generated_json_is_accepted_at_every_cut(text in arb_text()) {
            prop_assert!(serde_accepts(&text));
            check(&text)?;
        }

        #[test]
        fn edited_json_is_accepted_exactly_when_serde_json_accepts_it(text in arb_text(), edits in proptest::collection::vec(arb_edit(), 1..4)) {
            check(&edited(text, &edits))?;
        }

        #[test]
        fn chunked_many_times_the_verdict_and_fingerprint_stay(text in arb_text(), edits in proptest::collection::vec(arb_edit(), 0..3), mut cuts in proptest::collection::vec(0usize..4096, 0..12)) {
            let text = edited(text, &edits);
            cuts.iter_mut().for_each(|c| *c %= text.len() + 1);
            cuts.sort_unstable();
            prop_assert_eq!(walked_in_pieces(&text, &cuts).map_err(|e| e.code()), walked_in_pieces(&text, &[]).map_err(|e| e.code()));
        }
    }
}
