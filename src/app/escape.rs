/// Text to place inside a `<textarea>` in a view.
///
/// Leptos writes a textarea's children into the server's HTML without escaping
/// them (as it does for `<script>` and `<style>`), so user text there must be
/// escaped first: otherwise a `</textarea>` in it ends the element and the rest
/// becomes markup. Browsers decode the entities back, so the box shows the
/// text exactly; the live value comes from `prop:value` anyway.
pub fn textarea_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_a_closing_tag() {
        assert_eq!(
            textarea_text("</textarea><script>x & y</script>"),
            "&lt;/textarea&gt;&lt;script&gt;x &amp; y&lt;/script&gt;"
        );
        assert_eq!(textarea_text("plain words"), "plain words");
    }
}
