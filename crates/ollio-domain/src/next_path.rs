/// Where to send a user after signing in: a path on this site, never another
/// site (an open redirect would let a link to Ollio's sign-in page forward
/// the user anywhere). Anything else falls back to `/projects`.
pub fn safe_next(next: Option<&str>) -> String {
    const DEFAULT: &str = "/projects";
    let Some(next) = next.map(str::trim).filter(|next| !next.is_empty()) else {
        return DEFAULT.to_owned();
    };
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if local {
        next.to_owned()
    } else {
        DEFAULT.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_local_paths_only() {
        assert_eq!(safe_next(Some("/settings")), "/settings");
        assert_eq!(
            safe_next(Some("/projects/abc?tab=code")),
            "/projects/abc?tab=code"
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "settings",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/projects", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/projects");
        assert_eq!(safe_next(Some("  ")), "/projects");
    }
}
