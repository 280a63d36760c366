//! Reasons users read (a retry's, a failure's) come from errors that may
//! name the addresses of services behind the app: the sandbox daemon, a
//! self-hosted model server. Those are not the user's business.

/// `text` with every `http://` or `https://` address replaced by "its
/// address".
pub fn without_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&rest[..start]);
        let address = &rest[start..];
        let end = address
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ','))
            .unwrap_or(address.len());
        out.push_str("its address");
        rest = &address[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::without_addresses;

    #[test]
    fn addresses_are_left_out() {
        assert_eq!(
            without_addresses(
                "the sandbox service is unavailable: error sending request for url (http://127.0.0.1:49983/sandboxes): connection refused"
            ),
            "the sandbox service is unavailable: error sending request for url (its address): connection refused"
        );
        assert_eq!(
            without_addresses("https://ollama.internal:11434/api/chat, then http://x"),
            "its address, then its address"
        );
        assert_eq!(without_addresses("no address here"), "no address here");
    }
}
