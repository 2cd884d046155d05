//! JSON text helpers with no dependency inside the crate, so every other module may use
//! them: finding where a string's plain bytes end (eight bytes at a time) and decoding a
//! string, quoting one, finding the message of an error body, the `\uXXXX` escape, and the
//! word masks of the eight-bytes-at-a-time loops. (No JSON parser: it would cost the
//! wasm tens of KB for texts this small.)

/// The high bit of every byte of a word.
pub(crate) const HIGHS: u64 = 0x8080_8080_8080_8080;
/// The low bit of every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;

/// The index of the first `"` or `\` at or after `i` (or `buf.len()`), eight bytes at a time
/// (SWAR: "SIMD within a register", portable to wasm32 without the simd128 feature). Profiling
/// showed the byte-at-a-time loop as the SDK's largest cost after `JSON.parse` itself.
#[inline]
pub(crate) fn skip_string_bytes(buf: &[u8], mut i: usize) -> usize {
    while i + 8 <= buf.len() {
        let word = u64::from_le_bytes(buf[i..i + 8].try_into().unwrap_or([0; 8]));
        let quote = word ^ (ONES * b'"' as u64);
        let backslash = word ^ (ONES * b'\\' as u64);
        // A zero byte in either marks a match; the lowest flagged byte is exact.
        let hits = (quote.wrapping_sub(ONES) & !quote | backslash.wrapping_sub(ONES) & !backslash) & HIGHS;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < buf.len() && buf[i] != b'"' && buf[i] != b'\\' {
        i += 1;
    }
    i
}

/// [`skip_string_bytes`] for a string that must be valid JSON: the index of the first `"`,
/// `\` or control character (U+0000–U+001F, which JSON does not allow unescaped) at or after
/// `i` (or `buf.len()`), and whether a byte of 0x80 or more was passed on the way (possibly
/// also one just after the stop: the caller checks the string as UTF-8 then, which is
/// rare — most text is ASCII). Same SWAR loop, one more test per word.
#[inline]
pub(crate) fn skip_json_string_bytes(buf: &[u8], mut i: usize) -> (usize, bool) {
    let mut any = 0u64;
    while i + 8 <= buf.len() {
        let word = u64::from_le_bytes(buf[i..i + 8].try_into().unwrap_or([0; 8]));
        any |= word;
        let quote = word ^ (ONES * b'"' as u64);
        let backslash = word ^ (ONES * b'\\' as u64);
        // A byte below 0x20 borrows in `word - 0x20…` where its own high bit is clear; as
        // above, the lowest flagged byte is exact (a borrow only flags bytes above it).
        let hits = (quote.wrapping_sub(ONES) & !quote | backslash.wrapping_sub(ONES) & !backslash | word.wrapping_sub(ONES * 0x20) & !word)
            & HIGHS;
        if hits != 0 {
            return (i + (hits.trailing_zeros() / 8) as usize, any & HIGHS != 0);
        }
        i += 8;
    }
    while i < buf.len() && buf[i] != b'"' && buf[i] != b'\\' && buf[i] >= 0x20 {
        any |= buf[i] as u64;
        i += 1;
    }
    (i, any & HIGHS != 0)
}

/// `haystack.find(needle)` by plain byte comparison. std's `&str` pattern search (Two-Way)
/// is faster on long texts but costs ~2 KB of wasm; these texts are short error messages.
pub(crate) fn find_str(haystack: &str, needle: &str) -> Option<usize> {
    find_bytes(haystack.as_bytes(), needle.as_bytes(), false)
}

/// Where `needle` first occurs in `haystack` (ASCII case ignored if asked; an empty needle at
/// 0): the crate's one substring search, by plain byte comparison (see [`find_str`]; a test
/// checks both against std's `str::find`).
pub(crate) fn find_bytes(haystack: &[u8], needle: &[u8], ignore_ascii_case: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| if ignore_ascii_case { w.eq_ignore_ascii_case(needle) } else { w == needle })
}

/// `\uXXXX` (lowercase hex) for one UTF-16 code unit.
pub(crate) fn unicode_escape(unit: u32) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [
        b'\\',
        b'u',
        HEX[(unit >> 12 & 0xF) as usize],
        HEX[(unit >> 8 & 0xF) as usize],
        HEX[(unit >> 4 & 0xF) as usize],
        HEX[(unit & 0xF) as usize],
    ]
}

/// The `"message"` (or `"error": {"message"}`) string of a JSON error body, without a JSON
/// parser (keeps the wasm small): finds the key and decodes the string literal after it.
pub fn json_message(body: &str) -> Option<String> {
    let mut rest = body;
    while let Some(i) = find_str(rest, "\"message\"") {
        rest = rest.get(i + 9..)?;
        let after = rest.trim_start();
        if let Some(value) = after.strip_prefix(':') {
            if let Some(s) = json_string_literal(value.trim_start()) {
                return Some(s);
            }
        }
    }
    None
}

/// Decode the JSON string literal at the start of `s` (an escape JSON does not have, like
/// `\q`, is read as its character: error bodies are shown, not judged).
fn json_string_literal(s: &str) -> Option<String> {
    s.strip_prefix('"')?;
    let (bytes, _) = decode_string(s.as_bytes(), 1, UnknownEscape::Keep)?;
    String::from_utf8(bytes).ok()
}

/// What [`decode_string`] does with an escape JSON does not have (`\q`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnknownEscape {
    /// Read it as the escaped character.
    Keep,
    /// The string is not valid: `None`.
    Refuse,
}

/// Decode the JSON string whose contents start at `text[start]` (just after its opening
/// quote): its bytes, every escape decoded (a surrogate pair is one character, a lone
/// surrogate U+FFFD), and the index of its closing quote. `None`: it never closes, or has a
/// bad `\u` escape (or an unknown one, with [`UnknownEscape::Refuse`]). The crate's one JSON
/// string decoder: error messages and record fingerprints both use it.
pub(crate) fn decode_string(text: &[u8], start: usize, unknown: UnknownEscape) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    decode_string_into(text, start, unknown, &mut out).map(|close| (out, close))
}

/// [`decode_string`], appending to `out` (a buffer kept from string to string), and giving
/// the index of the closing quote.
pub(crate) fn decode_string_into(text: &[u8], start: usize, unknown: UnknownEscape, out: &mut Vec<u8>) -> Option<usize> {
    let hex4 = |at: usize| hex4(text, at);
    let mut i = start;
    loop {
        let end = skip_string_bytes(text, i);
        if end >= text.len() {
            return None;
        }
        out.extend_from_slice(&text[i..end]);
        if text[end] == b'"' {
            return Some(end);
        }
        let esc = *text.get(end + 1)?;
        i = end + 2;
        let byte = match esc {
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let mut unit = hex4(i)?;
                i += 4;
                if (0xD800..0xDC00).contains(&unit) && text.get(i..i + 2) == Some(b"\\u") {
                    if let Some(low) = hex4(i + 2).filter(|low| (0xDC00..0xE000).contains(low)) {
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        i += 6;
                    }
                }
                let c = char::from_u32(unit).unwrap_or('\u{FFFD}');
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
            b'"' | b'\\' | b'/' => esc,
            _ if unknown == UnknownEscape::Refuse => return None,
            _ => esc,
        };
        out.push(byte);
    }
}

/// The raw contents of the string value of top-level `key` in the JSON object `record`
/// (escapes not decoded), stopping at the first match: a record's `resellerId` comes third,
/// so this reads a few dozen bytes. `None`: no such key, or its value is not a string.
pub(crate) fn top_level_string<'a>(record: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the next string at depth 1 is a key (after `{` or `,`).
    let mut expect_key = false;
    while i < record.len() {
        match record[i] {
            b'"' => {
                let end = skip_to_close(record, i + 1)?;
                let text = &record[i + 1..end];
                i = end + 1;
                if depth == 1 && expect_key {
                    expect_key = false;
                    if text == key {
                        // The value: after the colon and any white space.
                        while i < record.len() && matches!(record[i], b' ' | b'\t' | b'\n' | b'\r' | b':') {
                            i += 1;
                        }
                        if record.get(i) != Some(&b'"') {
                            return None;
                        }
                        let close = skip_to_close(record, i + 1)?;
                        return Some(&record[i + 1..close]);
                    }
                }
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' => expect_key = depth == 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the quote that closes the string whose contents start at `i`.
fn skip_to_close(text: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = skip_string_bytes(text, i);
        match text.get(i)? {
            b'"' => return Some(i),
            _ => i += 2, // a backslash and the byte it escapes
        }
    }
}

/// The four hex digits of a `\u` escape at `text[at..]`, as a UTF-16 unit.
fn hex4(text: &[u8], at: usize) -> Option<u32> {
    text.get(at..at + 4)?.iter().try_fold(0u32, |n, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        Some(n << 4 | v as u32)
    })
}

/// Whether the JSON string contents `raw` (escapes not decoded) have a `\u` escape of a
/// UTF-16 surrogate that is not half of a pair.
pub(crate) fn has_lone_surrogate(raw: &[u8]) -> bool {
    let unit = |at: usize| hex4(raw, at);
    let mut i = 0;
    while i + 1 < raw.len() {
        if raw[i] != b'\\' {
            i += 1;
            continue;
        }
        if raw[i + 1] == b'u' {
            match unit(i + 2) {
                Some(0xD800..=0xDBFF) if raw.get(i + 6..i + 8) == Some(b"\\u") && matches!(unit(i + 8), Some(0xDC00..=0xDFFF)) => {
                    i += 12;
                    continue;
                }
                Some(0xD800..=0xDFFF) => return true,
                _ => {}
            }
        }
        i += 2; // the escaped byte is never the start of another escape
    }
    false
}

/// `s` as a JSON string literal.
pub fn json_quote(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    quote_into(s.as_bytes(), &mut out);
    // Only ASCII was added around and inside `s`'s own (valid) UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Append `bytes` (a string's contents) as a JSON string literal, byte by byte: quotes,
/// backslashes and control characters escaped, everything else as it is (a record's bytes
/// keep their UTF-8 check for the text decoder that reads the whole array).
pub(crate) fn quote_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b if b < 0x20 => out.extend_from_slice(&unicode_escape(b as u32)),
            b => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_search_matches_std() {
        for (h, n) in [("abc", "c"), ("abc", "abcd"), ("", "a"), ("aaa", "aa"), ("x\"message\":", "\"message\""), ("é://", "://")] {
            assert_eq!(find_str(h, n), h.find(n), "{h} {n}");
        }
    }

    proptest::proptest! {
        #[test]
        fn byte_search_is_std_find(haystack in "[abAB\"é:/ ]{0,24}", needle in "[abAB\"é:/ ]{0,4}") {
            proptest::prop_assert_eq!(find_str(&haystack, &needle), haystack.find(needle.as_str()));
            let (h, n) = (haystack.to_ascii_lowercase(), needle.to_ascii_lowercase());
            proptest::prop_assert_eq!(find_bytes(haystack.as_bytes(), needle.as_bytes(), true), h.find(n.as_str()));
        }
    }

    #[test]
    fn a_surrogate_pair_is_one_character() {
        assert_eq!(json_message(r#"{"message":"ok \ud83d\ude00!"}"#).as_deref(), Some("ok 😀!"));
        assert_eq!(json_message(r#"{"message":"lone \ud83d x"}"#).as_deref(), Some("lone \u{fffd} x"));
        assert_eq!(json_message(r#"{"message":"\ude00"}"#).as_deref(), Some("\u{fffd}"));
    }

    #[test]
    fn messages_are_found_in_error_bodies() {
        assert_eq!(json_message(r#"{"statusCode":400,"message":"bad \"x\"\n\u00e9"}"#).as_deref(), Some("bad \"x\"\né"));
        assert_eq!(json_message(r#"{"error":{"code":"X","message" : "inner"}}"#).as_deref(), Some("inner"));
        assert_eq!(json_message("<html>"), None);
        // Lenient where records are strict: an unknown escape is its character.
        assert_eq!(json_message(r#"{"message":"a\qb \u00e9\u00"}"#), None, "a bad \\u escape");
        assert_eq!(json_message(r#"{"message":"a\qb é"}"#).as_deref(), Some("aqb é"));
        assert_eq!(decode_string(br#"x"a\qb""#, 2, UnknownEscape::Refuse), None);
        assert!(has_lone_surrogate(br"a\ud800b") && has_lone_surrogate(br"\uDC00") && has_lone_surrogate(br"\ud800\u0041"));
        assert!(!has_lone_surrogate(br"\ud83d\ude00 \u00e9 \\ud800 plain"));
        let r = br#"{"customerId":"c1","t":[{"resellerId":"nested"}],"n":"a\"resellerId\":\"x","resellerId" : "r-1","z":1}"#;
        assert_eq!(top_level_string(r, b"resellerId"), Some(&b"r-1"[..]));
        assert_eq!(top_level_string(br#"{"resellerId":null}"#, b"resellerId"), None);
        assert_eq!(top_level_string(br#"{"a":{"resellerId":"x"}}"#, b"resellerId"), None);
        assert_eq!(decode_string(br#"x"a\qb""#, 2, UnknownEscape::Keep), Some((b"aqb".to_vec(), 6)));
        let q = json_quote("a\"b\\c\u{1}");
        assert_eq!(serde_json::from_str::<String>(&q).unwrap(), "a\"b\\c\u{1}");
    }
}
