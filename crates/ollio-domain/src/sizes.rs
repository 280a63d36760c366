//! Byte counts and metrics in words, the same on the server and in the
//! browser.

/// "812 B", "12.5 KB", "3.2 MB".
pub fn size_text(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// Tokens a model read and wrote, in words: "850 tokens", "12.4k tokens",
/// "1.2M tokens".
pub fn tokens_text(tokens: u64) -> String {
    let short = |value: f64, unit: &str| {
        let text = format!("{value:.1}");
        format!("{}{unit} tokens", text.trim_end_matches(".0"))
    };
    match tokens {
        1 => "1 token".into(),
        0..1000 => format!("{tokens} tokens"),
        // 999,950 and up would round to "1000.0k".
        1000..999_950 => short(tokens as f64 / 1000.0, "k"),
        _ => short(tokens as f64 / 1_000_000.0, "M"),
    }
}

/// A number (a model's metric) with at most four decimals, without
/// trailing zeros: "0.9737", "12".
pub fn number_text(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::{number_text, size_text, tokens_text};

    #[test]
    fn tokens_read_in_thousands_and_millions() {
        assert_eq!(tokens_text(0), "0 tokens");
        assert_eq!(tokens_text(1), "1 token");
        assert_eq!(tokens_text(850), "850 tokens");
        assert_eq!(tokens_text(1000), "1k tokens");
        assert_eq!(tokens_text(12_400), "12.4k tokens");
        assert_eq!(tokens_text(12_449), "12.4k tokens");
        assert_eq!(tokens_text(999_949), "999.9k tokens");
        assert_eq!(tokens_text(999_950), "1M tokens");
        assert_eq!(tokens_text(1_250_000), "1.2M tokens");
    }

    #[test]
    fn metrics_keep_four_decimals_at_most() {
        assert_eq!(number_text(0.973_684), "0.9737");
        assert_eq!(number_text(12.0), "12");
        assert_eq!(number_text(-0.00001), "0");
        assert_eq!(number_text(0.5), "0.5");
    }

    #[test]
    fn sizes_read_in_the_nearest_unit() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(2048), "2.0 KB");
        assert_eq!(size_text(48 * 1024 * 1024), "48.0 MB");
    }
}
