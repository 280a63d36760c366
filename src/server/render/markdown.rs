//! An assistant's chat summary, Markdown, as HTML that is safe to insert
//! into the page: raw HTML is shown as text, links go only to http, https,
//! mailto or relative addresses, images show their alt text, and code
//! blocks are replaced by a note (code lives in the Code tab, never in the
//! chat). Inline code stays.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};

/// What stands in for every fenced or indented code block.
pub const CODE_NOTE: &str = "<p class=\"code-note\">Code is in the Code tab.</p>\n";

/// The link schemes a summary may link to; other addresses with a scheme
/// (`javascript:`, `data:`, …) are shown as plain text.
const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Renders `text` (Markdown) to safe HTML.
pub fn summary_html(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut events = Vec::new();
    // Whether each open link was written as `<a>` (so its end gets `</a>`).
    let mut links: Vec<bool> = Vec::new();
    let mut in_code_block = false;
    for event in Parser::new_ext(text, options) {
        if in_code_block {
            in_code_block = !matches!(event, Event::End(TagEnd::CodeBlock));
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(_)) => {
                in_code_block = true;
                events.push(Event::Html(CODE_NOTE.into()));
            }
            // Raw HTML is text. A block of it reads as a paragraph.
            Event::Html(html) | Event::InlineHtml(html) => events.push(Event::Text(html)),
            Event::Start(Tag::HtmlBlock) => events.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => events.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => match safe_href(link_type, &dest_url) {
                Some(href) => {
                    links.push(true);
                    events.push(Event::Html(anchor(&href, &title).into()));
                }
                None => links.push(false),
            },
            Event::End(TagEnd::Link) => {
                if links.pop().unwrap_or(false) {
                    events.push(Event::Html("</a>".into()));
                }
            }
            // The alt text, between these two, is shown as text.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// The address a link may point to, or `None` when it must be plain text.
fn safe_href(link_type: LinkType, dest: &str) -> Option<String> {
    // Browsers drop tabs and newlines anywhere in a URL and spaces and
    // control characters around it (`java\tscript:` is `javascript:`), so
    // the scheme is judged on the URL as they will read it.
    let url: String = dest
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if link_type == LinkType::Email {
        return Some(format!("mailto:{url}"));
    }
    let first_segment = url.split(['/', '?', '#']).next().unwrap_or_default();
    match first_segment.split_once(':') {
        None => Some(url),
        Some((scheme, _)) => SCHEMES
            .iter()
            .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
            .then_some(url),
    }
}

/// The opening tag of a link that opens in a new tab and tells the target
/// nothing about the page it came from.
fn anchor(href: &str, title: &str) -> String {
    let mut tag = String::from("<a href=\"");
    // Writing to a String cannot fail.
    let _ = escape_href(&mut tag, href);
    tag.push('"');
    if !title.is_empty() {
        tag.push_str(" title=\"");
        let _ = escape_html(&mut tag, title);
        tag.push('"');
    }
    tag.push_str(" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
    tag
}

#[cfg(test)]
mod tests {
    use super::{summary_html, CODE_NOTE};

    #[test]
    fn emphasis_lists_and_headings_are_rendered() {
        let html = summary_html("# Done\n\nI made a **login** form with *care*:\n\n- one\n- two\n");
        assert!(html.contains("<h1>Done</h1>"), "{html}");
        assert!(html.contains("<strong>login</strong>"), "{html}");
        assert!(html.contains("<em>care</em>"), "{html}");
        assert!(
            html.contains("<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
            "{html}"
        );
    }

    #[test]
    fn tables_and_strikethrough_are_rendered() {
        let html = summary_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<td>1</td>"), "{html}");
        assert!(html.contains("<del>old</del>"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let block = summary_html("<script>alert(1)</script>\n\nafter");
        assert!(!block.contains("<script"), "{block}");
        assert!(
            block.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{block}"
        );
        let inline = summary_html("Look: <img src=x onerror=alert(1)> and <b>bold</b>");
        assert!(!inline.contains("<img"), "{inline}");
        assert!(!inline.contains("<b>"), "{inline}");
        assert!(
            inline.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{inline}"
        );
    }

    #[test]
    fn safe_links_open_in_a_new_tab() {
        let html = summary_html("See [the docs](https://example.com/a?b=1&c=2 \"Docs\").");
        assert!(
            html.contains(
                "<a href=\"https://example.com/a?b=1&amp;c=2\" title=\"Docs\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">the docs</a>"
            ),
            "{html}"
        );
        for markdown in [
            "[rel](pages/about.html)",
            "[mail](mailto:ada@example.com)",
            "<ada@example.com>",
            "<http://example.com>",
            "[frag](#top)",
        ] {
            let html = summary_html(markdown);
            assert!(html.contains("<a href="), "{markdown}: {html}");
        }
        assert!(summary_html("<ada@example.com>").contains("href=\"mailto:ada@example.com\""));
    }

    #[test]
    fn other_schemes_are_plain_text() {
        for markdown in [
            "[click](javascript:alert(1))",
            "[click](JavaScript:alert(1))",
            "[click](&#106;avascript:alert(1))",
            "[click](java&#9;script:alert(1))",
            "[click](data:text/html,<script>alert(1)</script>)",
            "[click](vbscript:msgbox)",
            "[click]( javascript:alert(1))",
            "[click][x]\n\n[x]: javascript:alert(1)",
        ] {
            let html = summary_html(markdown);
            assert!(!html.contains("<a"), "{markdown}: {html}");
            assert!(html.contains("click"), "{markdown}: {html}");
        }
    }

    #[test]
    fn images_show_their_alt_text() {
        let html = summary_html("![a cat](https://example.com/cat.png)");
        assert!(!html.contains("<img"), "{html}");
        assert_eq!(html, "<p>a cat</p>\n");
    }

    #[test]
    fn code_blocks_are_replaced_and_inline_code_stays() {
        let html = summary_html(
            "Run `npm start`.\n\n```js\nconsole.log('secret code');\n```\n\n    indented();\n\nEnd.",
        );
        assert!(html.contains("<code>npm start</code>"), "{html}");
        assert!(!html.contains("secret code"), "{html}");
        assert!(!html.contains("indented"), "{html}");
        assert!(!html.contains("<pre"), "{html}");
        assert_eq!(html.matches(CODE_NOTE).count(), 2, "{html}");
        assert!(html.contains("<p>End.</p>"), "{html}");
    }

    #[test]
    fn inline_code_is_escaped() {
        let html = summary_html("Use `<script>` tags");
        assert!(html.contains("<code>&lt;script&gt;</code>"), "{html}");
    }

    #[test]
    fn an_empty_summary_is_empty() {
        assert_eq!(summary_html(""), "");
    }
}
