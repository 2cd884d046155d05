//! The streaming record scanner: finds where each customer object of the top-level JSON array
//! begins and ends while the body is still arriving, without decoding it. Records can then
//! leave the page as soon as their last byte is in (JavaScript decodes them with one native
//! `JSON.parse` per batch; Rust with serde_json per record), and the buffer holds only the
//! tail that is not yet a whole record — memory stays flat whatever the page size.
//!
//! It is also the truncation detector: a body that ends before the array's closing `]` is an
//! error, never a short last page.
//!
//! What it checks. The array around the records: `[` (after white space, and any of the
//! bytes of a UTF-8 byte order mark, EF BB BF, among the body's first three), objects separated
//! by single commas, `]`, then only white space — anything else is
//! `DECODE` (`[1]`, `[{},]`, `[,{}]`, `[{} {}]`, `[{}]x`). Inside a record, a plain scan only
//! finds where the record ends — the `}` that brings the count of `{`/`[` against `}`/`]`
//! outside strings back to zero — and does not check its JSON: `{"a" "b"}` or `{"a":1,}` is
//! cut out as a record, and it is the parser that decodes the batch (`JSON.parse`, serde_json)
//! that refuses it (`DECODE`); a record dropped unread as a repeat
//! ([`retain_ready`](RecordScanner::retain_ready)) is never checked. With
//! [`fingerprint_records`](RecordScanner::fingerprint_records) (a sync, which hands out only
//! the changed records: the unchanged ones are never decoded) each record is cut out by a
//! [`RecordWalk`], which accepts what serde_json accepts as JSON syntax (see
//! [`crate::record::fingerprint`]): a malformed record is `DECODE` here.

use std::ops::Range;

use crate::error::Error;
use crate::json::skip_string_bytes;
use crate::record::{hash_bytes, RecordWalk, Walked};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// After `[`: a record or `]`.
    FirstValue,
    /// After `,`: a record.
    NextValue,
    /// Inside a record.
    InRecord,
    /// After a record: `,` or `]`.
    AfterValue,
    /// After the closing `]`: only whitespace.
    Done,
}

/// Incremental scanner over one response body. See the module docs.
#[derive(Debug)]
pub struct RecordScanner {
    buf: Vec<u8>,
    /// Next byte to scan.
    pos: usize,
    state: State,
    depth: u32,
    in_string: bool,
    escaped: bool,
    record_start: usize,
    /// Complete records not yet taken.
    ready: Vec<Range<usize>>,
    /// Complete records seen in this body, taken or not.
    complete: u64,
    /// Records already taken from this body (or skipped).
    taken: u64,
    /// The largest record allowed, in bytes (a body that never closes its record must not
    /// grow the buffer until the wasm runs out of memory).
    max_record: usize,
    /// The last error was a record over `max_record` (not worth a retry).
    oversized: bool,
    /// A hash of the body's first record, once it is complete (to notice a repeated page;
    /// never stored, so it is not part of any format).
    first_record: Option<u64>,
    /// Records were dropped from between the ready ones (`retain_ready`): they are no longer
    /// one contiguous span of the buffer.
    gaps: bool,
    /// Set by [`fingerprint_records`](Self::fingerprint_records) (sync): records are cut out
    /// by the walk that fingerprints them — one pass over their bytes, not two.
    walk: Option<RecordWalk>,
    /// With `walk`: each ready record's fingerprint, in step with `ready`.
    prints: Vec<u64>,
}

/// The default `maxRecordBytes`: 32 MiB, ~10,000 times the largest customer the article shows.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 32 << 20;

impl Default for RecordScanner {
    fn default() -> Self {
        Self::new()
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Finding records in the streamed bytes.
impl RecordScanner {
    /// A scanner for a new body.
    pub fn new() -> Self {
        RecordScanner {
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
            state: State::Start,
            depth: 0,
            in_string: false,
            escaped: false,
            record_start: 0,
            ready: Vec::new(),
            complete: 0,
            taken: 0,
            max_record: DEFAULT_MAX_RECORD_BYTES,
            oversized: false,
            first_record: None,
            gaps: false,
            walk: None,
            prints: Vec::new(),
        }
    }

    /// Fingerprint each record while scanning it (see [`crate::record`]); take them with
    /// [`take_each_printed`](Self::take_each_printed). Malformed JSON inside a record (what
    /// serde_json would refuse: see [`crate::record::fingerprint`]) is then found here
    /// (`DECODE`), as soon as the bytes so far cannot begin a record.
    pub fn fingerprint_records(&mut self) {
        self.walk = Some(RecordWalk::default());
    }

    /// A scanner that refuses records longer than `max_record` bytes.
    pub fn with_max_record(max_record: usize) -> Self {
        RecordScanner { max_record, ..Self::new() }
    }

    /// Forget the current body (keeps the buffer's capacity, up to a few pages' worth).
    pub fn reset(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        if buf.capacity() > RETAINED_CAPACITY {
            buf = Vec::new();
        }
        let walk = self.walk.take();
        let mut prints = std::mem::take(&mut self.prints);
        prints.clear();
        *self = RecordScanner { buf, max_record: self.max_record, walk, prints, ..Self::new() };
    }

    /// Forget the current body and give its memory back to the allocator (end of a run).
    pub fn release(&mut self) {
        self.reset();
        self.buf = Vec::new();
    }

    /// Whether the last error was a record longer than the limit.
    pub fn oversized(&self) -> bool {
        self.oversized
    }

    /// A fingerprint of this body's first record, once it is complete.
    pub fn first_record(&self) -> Option<u64> {
        self.first_record
    }

    /// Complete records seen so far in this body.
    pub fn complete(&self) -> u64 {
        self.complete
    }

    /// Bytes held (for memory checks).
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Make room and hand out the buffer for the next chunk to be appended; call
    /// [`scan`](Self::scan) afterwards. Bytes already handed out as records are dropped here.
    pub fn buffer_for_append(&mut self) -> &mut Vec<u8> {
        self.compact();
        &mut self.buf
    }

    /// Append a chunk and scan it (tests; the pager appends through `buffer_for_append`).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.buffer_for_append().extend_from_slice(chunk);
        self.scan()
    }

    /// Drop the bytes before the earliest one still needed, keeping one byte in front of it
    /// (see [`with_array_text`](Self::with_array_text)).
    fn compact(&mut self) {
        let keep_from = match (self.ready.first(), self.state) {
            (Some(r), _) => r.start,
            (None, State::InRecord) => self.record_start,
            (None, _) => self.pos,
        };
        let cut = keep_from.saturating_sub(1);
        if cut == 0 {
            return;
        }
        self.buf.drain(..cut);
        self.pos -= cut;
        self.record_start = self.record_start.saturating_sub(cut);
        for r in &mut self.ready {
            *r = r.start - cut..r.end - cut;
        }
    }

    /// Scan the bytes appended since the last call.
    pub fn scan(&mut self) -> Result<(), Error> {
        let mut i = self.pos;
        let n = self.buf.len();
        while i < n {
            let buf = &self.buf[..];
            match self.state {
                State::InRecord if self.walk.is_some() => {
                    let walk = self.walk.as_mut().expect("checked");
                    match walk.walk(&buf[self.record_start..], false)? {
                        Walked::More => i = n,
                        Walked::Done { end, content } => {
                            i = self.record_start + end;
                            self.record_complete(i)?;
                            self.prints.push(content);
                        }
                    }
                }
                State::InRecord => {
                    // The hot loop, the record's state in locals until it stops: most of a
                    // body is string contents (skipped eight bytes at a time), and between
                    // two strings there are only a few structural bytes.
                    let (mut depth, mut in_string, mut escaped) = (self.depth, self.in_string, self.escaped);
                    let closed = loop {
                        if in_string {
                            if escaped {
                                if i == n {
                                    break false;
                                }
                                escaped = false;
                                i += 1;
                            }
                            i = skip_string_bytes(buf, i);
                            if i == n {
                                break false;
                            }
                            if buf[i] == b'\\' {
                                escaped = true;
                            } else {
                                in_string = false;
                            }
                            i += 1;
                            continue;
                        }
                        if i == n {
                            break false;
                        }
                        match buf[i] {
                            b'"' => in_string = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    i += 1;
                                    break true;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    };
                    (self.depth, self.in_string, self.escaped) = (depth, in_string, escaped);
                    if closed {
                        self.record_complete(i)?;
                    }
                }
                state => {
                    let b = buf[i];
                    i += 1;
                    if is_ws(b) {
                        continue;
                    }
                    self.state = match (state, b) {
                        // A UTF-8 byte order mark before the array is tolerated.
                        (State::Start, 0xEF | 0xBB | 0xBF) if i <= 3 => State::Start,
                        (State::Start, b'[') => State::FirstValue,
                        (State::Start, _) => return Err(decode_error("the response body is not a JSON array")),
                        (State::FirstValue | State::NextValue, b'{') => {
                            self.record_start = i - 1;
                            self.depth = 1;
                            if let Some(walk) = &mut self.walk {
                                walk.start(); // it reads the record from its `{`
                            }
                            State::InRecord
                        }
                        (State::FirstValue | State::AfterValue, b']') => State::Done,
                        (State::FirstValue | State::NextValue, _) => {
                            return Err(decode_error("an item of the response array is not a customer object"))
                        }
                        (State::AfterValue, b',') => State::NextValue,
                        (State::AfterValue, _) => return Err(decode_error("expected ',' or ']' between customer objects")),
                        (State::Done, _) => return Err(decode_error("unexpected data after the end of the JSON array")),
                        (State::InRecord, _) => unreachable!("handled above"),
                    };
                }
            }
        }
        self.pos = i;
        if self.state == State::InRecord && n - self.record_start > self.max_record {
            return Err(self.oversized_error());
        }
        Ok(())
    }

    /// The record that started at `record_start` ends just before `end`.
    fn record_complete(&mut self, end: usize) -> Result<(), Error> {
        if end - self.record_start > self.max_record {
            self.pos = end - 1;
            return Err(self.oversized_error());
        }
        if self.complete == 0 {
            self.first_record = Some(hash_bytes(FIRST_RECORD, &self.buf[self.record_start..end]));
        }
        self.ready.push(self.record_start..end);
        self.complete += 1;
        self.state = State::AfterValue;
        Ok(())
    }

    fn oversized_error(&mut self) -> Error {
        self.oversized = true;
        decode_error(&format!(
            "a customer record is longer than maxRecordBytes ({} bytes): the server sent a record that does not end",
            self.max_record
        ))
    }

    /// Call at the end of the body: an array that was never closed was cut off.
    pub fn finish(&self) -> Result<(), Error> {
        if self.state == State::Done {
            Ok(())
        } else {
            Err(decode_error("the response body was truncated: it ended before the JSON array was closed"))
        }
    }
}

/// Handing the records out: skipping what was delivered, dropping repeats, taking them one by
/// one or as one JSON array.
impl RecordScanner {
    /// Drop ready records until `count` records of this body have been taken or skipped
    /// (used to skip what was already delivered when a page is fetched again).
    pub fn skip_until(&mut self, count: u64) {
        let n = (count.saturating_sub(self.taken) as usize).min(self.ready.len());
        self.ready.drain(..n);
        if self.walk.is_some() {
            self.prints.drain(..n);
        }
        self.taken += n as u64;
    }

    /// Drop the ready records `keep` says no to; they count as taken (a page fetched again
    /// skips them too).
    pub fn retain_ready(&mut self, mut keep: impl FnMut(&[u8]) -> bool) {
        let before = self.ready.len();
        let printed = self.walk.is_some();
        let mut kept = 0;
        for k in 0..before {
            if keep(&self.buf[self.ready[k].clone()]) {
                self.ready[kept] = self.ready[k].clone();
                if printed {
                    self.prints[kept] = self.prints[k];
                }
                kept += 1;
            }
        }
        self.ready.truncate(kept);
        self.prints.truncate(kept);
        let dropped = before - kept;
        self.taken += dropped as u64;
        self.gaps |= dropped > 0;
    }

    /// Records ready to be taken (after skipping).
    pub fn ready_count(&self) -> usize {
        self.ready.len()
    }

    /// Take every ready record, one byte slice per record.
    pub fn take_each(&mut self) -> impl Iterator<Item = &[u8]> {
        self.prints.clear();
        self.taken += self.ready.len() as u64;
        self.gaps = false;
        let buf = &self.buf;
        self.ready.drain(..).map(move |r| &buf[r])
    }

    /// Take every ready record with its fingerprint's content hash (after
    /// [`fingerprint_records`](Self::fingerprint_records)).
    pub fn take_each_printed(&mut self) -> impl Iterator<Item = (&[u8], u64)> {
        debug_assert!(self.walk.is_some() && self.prints.len() == self.ready.len());
        self.taken += self.ready.len() as u64;
        self.gaps = false;
        let buf = &self.buf;
        self.ready.drain(..).zip(self.prints.drain(..)).map(move |(r, p)| (&buf[r], p))
    }

    /// Take every ready record as one JSON array — `[rec,rec,…]` with the separators the
    /// server sent — and hand its bytes to `f` (for a single native `JSON.parse`). The brackets
    /// are written over the bytes just outside the records and restored afterwards, so no copy
    /// of the batch is made. `None` if no record is ready. The bytes are not checked for UTF-8
    /// here: the decoder that turns them into text does that once (as `res.json()` does).
    pub fn with_array_bytes<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<(R, usize)> {
        let (Some(first), Some(last)) = (self.ready.first(), self.ready.last()) else {
            return None;
        };
        let count = self.ready.len();
        if std::mem::take(&mut self.gaps) {
            // Rare (a record dropped as a repeat): copy the records into a new array.
            let mut array = vec![b'['];
            for (k, r) in self.ready.drain(..).enumerate() {
                if k > 0 {
                    array.push(b',');
                }
                array.extend_from_slice(&self.buf[r]);
            }
            array.push(b']');
            self.prints.clear();
            self.taken += count as u64;
            return Some((f(&array), count));
        }
        let (start, end) = (first.start, last.end);
        debug_assert!(start >= 1, "compact keeps a byte in front of the first record");
        let appended = end == self.buf.len();
        if appended {
            self.buf.push(b' ');
        }
        let (before, after) = (self.buf[start - 1], self.buf[end]);
        self.buf[start - 1] = b'[';
        self.buf[end] = b']';
        let result = f(&self.buf[start - 1..=end]);
        self.buf[start - 1] = before;
        self.buf[end] = after;
        if appended {
            self.buf.pop();
        }
        self.ready.clear();
        self.prints.clear();
        self.taken += count as u64;
        Some((result, count))
    }

    /// [`with_array_bytes`](Self::with_array_bytes) as checked UTF-8 text (the wasm tests).
    pub fn with_array_text<R>(&mut self, f: impl FnOnce(&str) -> R) -> Result<Option<(R, usize)>, Error> {
        match self.with_array_bytes(|b| std::str::from_utf8(b).map(f)) {
            None => Ok(None),
            Some((Ok(r), n)) => Ok(Some((r, n))),
            Some((Err(_), _)) => Err(decode_error("the response body is not valid UTF-8")),
        }
    }
}

/// Buffer capacity kept from one body to the next; more is given back.
const RETAINED_CAPACITY: usize = 1 << 20;

/// The seed of [`RecordScanner::first_record`]'s hash (the crate's one byte hash,
/// [`hash_bytes`]: not a defence against a server choosing collisions).
const FIRST_RECORD: u64 = 0x66_6972_7374;

fn decode_error(message: &str) -> Error {
    Error::Decode(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feed `body` in the given chunk sizes; return every record and whether it closed.
    fn scan_chunks(body: &[u8], sizes: &[usize]) -> Result<(Vec<String>, bool), Error> {
        scan_chunks_printed(body, sizes, false).map(|(records, _, closed)| (records, closed))
    }

    /// [`scan_chunks`], fingerprinting the records as they are scanned if `printed`; with
    /// their fingerprints then.
    fn scan_chunks_printed(body: &[u8], sizes: &[usize], printed: bool) -> Result<(Vec<String>, Vec<u64>, bool), Error> {
        let mut s = RecordScanner::new();
        if printed {
            s.fingerprint_records();
        }
        let (mut out, mut prints) = (Vec::new(), Vec::new());
        let mut at = 0;
        let mut k = 0;
        while at < body.len() {
            let n = sizes[k % sizes.len()].max(1).min(body.len() - at);
            s.push(&body[at..at + n])?;
            at += n;
            k += 1;
            if printed {
                for (r, p) in s.take_each_printed() {
                    out.push(String::from_utf8(r.to_vec()).unwrap());
                    prints.push(p);
                }
            } else {
                out.extend(s.take_each().map(|r| String::from_utf8(r.to_vec()).unwrap()));
            }
        }
        Ok((out, prints, s.finish().is_ok()))
    }

    /// The records and fingerprints of a fingerprinting scan equal a plain scan's records and
    /// each one's [`fingerprint`](crate::record::fingerprint).
    fn assert_printed_scan_agrees(body: &[u8], sizes: &[usize]) {
        let (plain, _) = scan_chunks(body, sizes).unwrap();
        let (records, prints, closed) = scan_chunks_printed(body, sizes, true).unwrap();
        assert!(closed);
        assert_eq!(records, plain, "{sizes:?}");
        let expected: Vec<u64> = records.iter().map(|r| crate::record::fingerprint(r.as_bytes()).unwrap().content).collect();
        assert_eq!(prints, expected, "{sizes:?}");
    }

    #[test]
    fn fingerprinting_scan_at_every_chunk_boundary() {
        for split in 1..TRICKY.len() {
            assert_printed_scan_agrees(TRICKY.as_bytes(), &[split, TRICKY.len()]);
        }
        for size in 1..12 {
            assert_printed_scan_agrees(TRICKY.as_bytes(), &[size]);
        }
    }

    #[test]
    fn fingerprints_stay_with_their_records_when_records_are_skipped_or_dropped() {
        let print = |r: &str| crate::record::fingerprint(r.as_bytes()).unwrap().content;
        let mut s = RecordScanner::new();
        s.fingerprint_records();
        s.push(br#"[{"n":1},{"n":2},{"n":3},{"n":4}"#).unwrap();
        s.skip_until(1);
        s.retain_ready(|r| r != br#"{"n":3}"#);
        let got: Vec<(String, u64)> = s.take_each_printed().map(|(r, p)| (String::from_utf8(r.to_vec()).unwrap(), p)).collect();
        let want: Vec<(String, u64)> = [r#"{"n":2}"#, r#"{"n":4}"#].iter().map(|r| (r.to_string(), print(r))).collect();
        assert_eq!(got, want);
        // A page fetched again: the scanner is reset and still fingerprints.
        s.reset();
        s.push(br#"[{"n":5}]"#).unwrap();
        assert_eq!(s.take_each_printed().map(|(_, p)| p).collect::<Vec<_>>(), [print(r#"{"n":5}"#)]);
    }

    #[test]
    fn a_fingerprinting_scan_finds_malformed_records_and_overlong_ones() {
        for body in [
            &br#"[{"a"}]"#[..],
            br#"[{"a":1]]"#,
            br#"[{"a":"\q"}]"#,
            br#"[{{}}]"#,
            br#"[{"a":"\u12"}]"#,
            br#"[{"a" "b"}]"#,
            br#"[{"a":tru}]"#,
            br#"[{"a":[1,]}]"#,
            br#"[{"a":1,}]"#,
            br#"[{"a":1 "b":2}]"#,
            br#"[{,}]"#,
            br#"[{"a":01}]"#,
            b"[{\"a\":\"\x01\"}]",
            b"[{\"a\":\"\xff\"}]",
        ] {
            for size in [1, 3, body.len()] {
                let err = scan_chunks_printed(body, &[size], true).unwrap_err();
                assert_eq!(err.code(), "DECODE", "{}", String::from_utf8_lossy(body));
            }
        }
        let mut s = RecordScanner::with_max_record(100);
        s.fingerprint_records();
        s.push(br#"[{"a":"short"},{"b":""#).unwrap();
        assert_eq!(s.take_each_printed().count(), 1);
        let err = s.push(&[b'x'; 200]).unwrap_err();
        assert!(s.oversized() && err.code() == "DECODE");
    }

    const TRICKY: &str = r#" [ {"a":"]}","b":"\"}{[","c":[1,[2,{"d":"\\"}]],"e":"\u00e9\u005d"} ,
        {"x":{"y":{"z":[]}},"name":"Ørsted 北京 <img src=x onerror=alert(1)>"}	,{}
      ]  "#;

    #[test]
    fn tricky_records_at_every_chunk_boundary() {
        let expected: Vec<serde_json::Value> = serde_json::from_str(TRICKY).unwrap();
        for split in 1..TRICKY.len() {
            let mut s = RecordScanner::new();
            let mut got = Vec::new();
            for part in [&TRICKY.as_bytes()[..split], &TRICKY.as_bytes()[split..]] {
                s.push(part).unwrap();
                got.extend(s.take_each().map(|r| serde_json::from_slice::<serde_json::Value>(r).unwrap()));
            }
            s.finish().unwrap();
            assert_eq!(got, expected, "split at {split}");
        }
    }

    #[test]
    fn a_record_longer_than_the_limit_is_a_decode_error_and_its_memory_is_given_back() {
        let mut s = RecordScanner::with_max_record(100);
        s.push(br#"[{"a":"short"},{"b":""#).unwrap();
        assert_eq!(s.take_each().count(), 1);
        let chunk = [b'x'; 60];
        s.push(&chunk).unwrap();
        let e = s.push(&chunk).unwrap_err();
        assert_eq!(e.code(), "DECODE");
        assert!(e.to_string().contains("maxRecordBytes (100 bytes)"), "{e}");
        assert!(s.oversized());
        s.release();
        assert_eq!((s.buffered(), s.buf.capacity(), s.oversized()), (0, 0, false));
        // A record exactly at the limit is fine.
        let mut s = RecordScanner::with_max_record(9);
        s.push(br#"[{"a":12}]"#).unwrap();
        assert_eq!(s.take_each().count(), 1);
    }

    #[test]
    fn the_first_record_is_fingerprinted_whatever_the_chunking() {
        let body = br#"[{"id":"a"},{"id":"b"}]"#;
        let whole = {
            let mut s = RecordScanner::new();
            assert_eq!(s.first_record(), None);
            s.push(body).unwrap();
            s.first_record().unwrap()
        };
        for split in 1..body.len() {
            let mut s = RecordScanner::new();
            s.push(&body[..split]).unwrap();
            s.push(&body[split..]).unwrap();
            assert_eq!(s.first_record(), Some(whole));
        }
        let mut other = RecordScanner::new();
        other.push(br#"[{"id":"b"},{"id":"a"}]"#).unwrap();
        assert_ne!(other.first_record(), Some(whole));
    }

    #[test]
    fn byte_by_byte_and_array_text_batches() {
        let mut s = RecordScanner::new();
        let mut got: Vec<serde_json::Value> = Vec::new();
        for b in TRICKY.as_bytes() {
            s.push(&[*b]).unwrap();
            if let Some((batch, _)) = s.with_array_text(|t| serde_json::from_str::<Vec<serde_json::Value>>(t).unwrap()).unwrap() {
                got.extend(batch);
            }
        }
        s.finish().unwrap();
        assert_eq!(got, serde_json::from_str::<Vec<serde_json::Value>>(TRICKY).unwrap());
    }

    #[test]
    fn truncation_is_never_a_short_page() {
        let body = br#"[{"a":1},{"b":2}]"#;
        for cut in 0..body.len() {
            let (records, closed) = scan_chunks(&body[..cut], &[3]).unwrap_or_default();
            assert!(!closed, "cut at {cut} looked complete with {records:?}");
        }
        assert_eq!(scan_chunks(body, &[3]).unwrap(), (vec![r#"{"a":1}"#.into(), r#"{"b":2}"#.into()], true));
        assert!(scan_chunks(b"[]", &[1]).unwrap().1);
    }

    #[test]
    fn a_plain_scan_checks_the_array_but_not_inside_records() {
        // The records are cut out as they are; the batch's parser refuses them.
        let (records, closed) = scan_chunks(br#"[{"a" "b"},{"a":1,}]"#, &[3]).unwrap();
        assert!(closed);
        assert_eq!(records, [r#"{"a" "b"}"#, r#"{"a":1,}"#]);
    }

    #[test]
    fn malformed_bodies_are_decode_errors() {
        for body in [&b"{\"statusCode\":500}"[..], b"[1,2]", b"[{} {}]", b"[{}]x", b"<html>", b"[,{}]", b"[{},]"] {
            let err = scan_chunks(body, &[2]).and_then(|(_, closed)| if closed { Ok(()) } else { Err(decode_error("open")) });
            assert_eq!(err.unwrap_err().code(), "DECODE", "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn skip_drops_already_delivered_records() {
        let mut s = RecordScanner::new();
        s.push(br#"[{"n":1},{"n":2},{"n":3}"#).unwrap();
        s.skip_until(2);
        let got: Vec<_> = s.take_each().map(|r| r.to_vec()).collect();
        assert_eq!(got, vec![br#"{"n":3}"#.to_vec()]);
    }

    #[test]
    fn memory_stays_bounded_by_the_unconsumed_tail() {
        let record = br#"{"customerId":"11111111-2222-3333-4444-555555555555","customerName":"x"}"#;
        let mut s = RecordScanner::new();
        s.push(b"[").unwrap();
        for i in 0..20_000 {
            if i > 0 {
                s.push(b",").unwrap();
            }
            s.push(record).unwrap();
            s.take_each().count();
        }
        s.push(b"]").unwrap();
        s.finish().unwrap();
        assert!(s.buffered() < 4 * record.len(), "{}", s.buffered());
        assert_eq!(s.complete(), 20_000);
    }

    #[test]
    fn skipping_string_bytes_finds_the_first_quote_or_backslash_at_every_offset() {
        for len in 0..40 {
            for at in 0..=len {
                for special in [b'"', b'\\'] {
                    let mut buf = vec![b'a'; len];
                    // Bytes that differ from the specials by one bit, and UTF-8 bytes.
                    for (k, b) in buf.iter_mut().enumerate() {
                        *b = [b'a', b'#', b'\x22' ^ 0x80, 0xC3, b']', b'}'][k % 6];
                    }
                    if at < len {
                        buf[at] = special;
                    }
                    for start in 0..=at.min(len) {
                        let expect = if at < len { at } else { len };
                        assert_eq!(skip_string_bytes(&buf, start), expect, "len {len} at {at} start {start}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn any_chunking_of_generated_json_gives_the_same_records(
            values in proptest::collection::vec(arb_object(), 0..8),
            sizes in proptest::collection::vec(1usize..40, 1..6),
        ) {
            let body = serde_json::to_string(&values).unwrap();
            let (records, closed) = scan_chunks(body.as_bytes(), &sizes).unwrap();
            prop_assert!(closed);
            let parsed: Vec<serde_json::Value> = records.iter().map(|r| serde_json::from_str(r).unwrap()).collect();
            prop_assert_eq!(parsed, values);
            assert_printed_scan_agrees(body.as_bytes(), &sizes);
        }
    }

    fn arb_object() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i32>().prop_map(serde_json::Value::from),
            "[\\PC\"\\\\\\]\\[{}]{0,12}".prop_map(serde_json::Value::from),
        ];
        let value = leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-z\"\\]}]{1,4}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        });
        proptest::collection::btree_map("[a-zA-Z]{1,6}", value, 0..5).prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
    }
}
