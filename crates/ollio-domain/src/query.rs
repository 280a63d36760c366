//! Query-string values, encoded and decoded the same way by the pages
//! (links, forms sent back) and the server (a refused form's address).

/// Percent-encodes `value` for a query string.
pub fn encode_query_value(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b' ' => encoded.push('+'),
            b if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) => encoded.push(b as char),
            b => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    encoded
}

/// Decodes a query-string value (`+` is a space; bad escapes stay as
/// they are).
pub fn decode_query_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        decoded.push((high * 16 + low) as u8);
                        i += 2;
                    }
                    _ => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_it_encodes() {
        for text in ["A dark login form", "a&b=c/d?e", "naïve — ✓", "100%"] {
            assert_eq!(decode_query_value(&encode_query_value(text)), text);
        }
        assert_eq!(decode_query_value("50%zz"), "50%zz");
    }

    #[test]
    fn encodes_a_path_with_its_query() {
        assert_eq!(
            encode_query_value("/projects/a?tab=code&x=1"),
            "/projects/a%3Ftab%3Dcode%26x%3D1"
        );
        assert_eq!(encode_query_value("A dark login form"), "A+dark+login+form");
    }
}
