//! Byte counts in words, the same on the server and in the browser.

/// "812 B", "12.5 KB", "3.2 MB".
pub fn size_text(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes_read_in_the_nearest_unit() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(2048), "2.0 KB");
        assert_eq!(size_text(48 * 1024 * 1024), "48.0 MB");
    }
}
