//! JSON text helpers with no dependency inside the crate, so every other module may use
//! them: quoting a string, finding the message of an error body, the `\uXXXX` escape, and
//! the word masks of the eight-bytes-at-a-time loops. (No JSON parser: it would cost the
//! wasm tens of KB for texts this small.)

/// The high bit of every byte of a word.
pub(crate) const HIGHS: u64 = 0x8080_8080_8080_8080;

/// `haystack.find(needle)` by plain byte comparison. std's `&str` pattern search (Two-Way)
/// is faster on long texts but costs ~2 KB of wasm; these texts are short error messages.
pub(crate) fn find_str(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    (0..h.len().saturating_sub(n.len() - 1)).find(|&i| &h[i..i + n.len()] == n)
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

/// Decode the JSON string literal at the start of `s`.
fn json_string_literal(s: &str) -> Option<String> {
    let mut chars = s.strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let unit = hex4(&mut chars)?;
                    // A surrogate pair is one character written as two escapes.
                    let code = if (0xD800..0xDC00).contains(&unit) {
                        let mut ahead = chars.clone();
                        match (ahead.next(), ahead.next(), hex4(&mut ahead)) {
                            (Some('\\'), Some('u'), Some(low)) if (0xDC00..0xE000).contains(&low) => {
                                chars = ahead;
                                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            }
                            _ => unit,
                        }
                    } else {
                        unit
                    };
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
}

/// Four hex digits of a `\\u` escape.
fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let hex: String = chars.by_ref().take(4).collect();
    if hex.len() != 4 {
        return None;
    }
    u32::from_str_radix(&hex, 16).ok()
}

/// `s` as a JSON string literal.
pub fn json_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.extend(unicode_escape(c as u32).map(char::from)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
        let q = json_quote("a\"b\\c\u{1}");
        assert_eq!(serde_json::from_str::<String>(&q).unwrap(), "a\"b\\c\u{1}");
    }
}
