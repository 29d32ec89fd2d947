//! What a JSON body will cost once parsed, worked out before it is parsed.
//!
//! A parsed tree is much larger than its text: `["a","a",...]` turns every 4 bytes
//! into a 32-byte `Value` slot (64 once the array's doubling is counted) and a
//! heap-allocated string (32 bytes at least), and every non-empty object is a B-tree
//! node of 640 bytes. A 60 MiB body of small values took the server to 2.8 GB. So the
//! server reserves [`tree_bytes`] in its memory budget before it parses a large body,
//! and refuses the body in words when the budget cannot hold that.
//!
//! The count is one pass over the bytes with a few flags, no allocation beyond a
//! container stack of at most [`MAX_DEPTH`] entries. It is an estimate for 64-bit
//! targets with serde_json's default `BTreeMap` objects, meant to be an upper bound
//! within a small factor: each array element costs 64 bytes, each object entry 128
//! (a node holds 5 to 11 entries), each non-empty object 640 more, each non-empty
//! string its length rounded up the way the allocator does (32 bytes at least).

/// Bytes of one `Value` slot in an array, counting the `Vec`'s spare capacity.
const ARRAY_SLOT: usize = 64;
/// Bytes of one object entry (key and value in a B-tree node at least 5/11 full).
const OBJECT_ENTRY: usize = 128;
/// Bytes of the first B-tree node of a non-empty object.
const OBJECT_NODE: usize = 640;
/// Bytes of the top-level value itself.
const TOP_SLOT: usize = 32;
/// Nesting beyond this is refused by the parser (serde_json's recursion limit is 128),
/// so counting stops there.
pub(crate) const MAX_DEPTH: usize = 128;

/// The container a value sits in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    Top,
    Array,
    Object,
}

/// Estimated bytes of the tree `serde_json` builds from `body` (beyond the body).
pub(crate) fn tree_bytes(body: &[u8]) -> usize {
    let mut stack = Vec::new();
    let mut cost = 0usize;
    let mut i = 0;
    while i < body.len() {
        let within = stack.last().copied().unwrap_or(Within::Top);
        let slot = match within {
            Within::Top => TOP_SLOT,
            Within::Array => ARRAY_SLOT,
            Within::Object => 0,
        };
        match body[i] {
            b'"' => {
                let end = string_end(body, i + 1);
                let heap = heap_bytes(end - i - 1);
                cost += heap
                    + match next_token(body, end + 1) {
                        Some(b':') => OBJECT_ENTRY,
                        _ => slot,
                    };
                i = end + 1;
                continue;
            }
            open @ (b'{' | b'[') => {
                if stack.len() == MAX_DEPTH {
                    break;
                }
                cost += slot;
                if open == b'{' {
                    stack.push(Within::Object);
                    if next_token(body, i + 1) != Some(b'}') {
                        cost += OBJECT_NODE;
                    }
                } else {
                    stack.push(Within::Array);
                }
            }
            b'}' | b']' => {
                stack.pop();
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                cost += slot;
                i += scalar_len(&body[i..]);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    cost
}

/// The index of the quote that closes the string whose text starts at `from` (or the
/// end of the body for an unterminated one).
fn string_end(body: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < body.len() {
        match body[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    body.len()
}

/// The first byte at or after `from` that is not JSON whitespace.
fn next_token(body: &[u8], from: usize) -> Option<u8> {
    body.get(from..)?
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Length of a number or literal: up to the next delimiter.
fn scalar_len(rest: &[u8]) -> usize {
    rest.iter()
        .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(rest.len())
}

/// What the allocator hands out for a string of `len` bytes (none when empty).
fn heap_bytes(len: usize) -> usize {
    match len {
        0 => 0,
        _ => ((len + 8 + 15) & !15).max(32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_slots_entries_nodes_and_strings() {
        assert_eq!(tree_bytes(b"1"), TOP_SLOT);
        assert_eq!(tree_bytes(b"[1, 2, 3]"), TOP_SLOT + 3 * ARRAY_SLOT);
        assert_eq!(tree_bytes(b"{}"), TOP_SLOT);
        assert_eq!(
            tree_bytes(br#"{"a": null}"#),
            TOP_SLOT + OBJECT_NODE + OBJECT_ENTRY + 32
        );
        assert_eq!(tree_bytes(br#"["", "x"]"#), TOP_SLOT + 2 * ARRAY_SLOT + 32);
        let long = format!("\"{}\"", "y".repeat(100));
        assert_eq!(tree_bytes(long.as_bytes()), TOP_SLOT + 112);
    }

    #[test]
    fn escaped_quotes_do_not_end_a_string() {
        assert_eq!(
            tree_bytes(br#"["a\"b", 1]"#),
            TOP_SLOT + 2 * ARRAY_SLOT + 32
        );
    }

    #[test]
    fn a_body_of_many_small_values_costs_many_times_its_size() {
        let mut body = b"{\"data_ids\": [".to_vec();
        for _ in 0..100_000 {
            body.extend_from_slice(b"\"a\",");
        }
        body.extend_from_slice(b"\"a\"]}");
        let cost = tree_bytes(&body);
        assert!(cost > 20 * body.len(), "{cost} for {} bytes", body.len());
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["data_ids"].as_array().unwrap().len(), 100_001);
    }

    #[test]
    fn a_typical_request_costs_little_and_deep_nesting_stops_counting() {
        let train = br#"{"train_data_id": "5f00", "target": "y", "algos": ["GLM", "DRF"]}"#;
        assert!(tree_bytes(train) < 4096);
        let deep = "[".repeat(100_000);
        assert!(tree_bytes(deep.as_bytes()) <= TOP_SLOT + MAX_DEPTH * ARRAY_SLOT);
    }
}
