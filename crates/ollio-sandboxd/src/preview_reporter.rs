//! The preview's error reporter: a small script put at the top of every
//! HTML page a preview serves. It sends the page's uncaught errors,
//! unhandled rejections and `console.error` calls to the page that frames
//! it (Ollio's workspace) with `postMessage`; the workspace takes them only
//! from the preview's own origin and shows them as the Preview tab's error
//! count, with "Fix errors". Pages are read whole to be changed, so the
//! app is asked for them uncompressed.

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::Response,
};

/// HTML pages larger than this pass unchanged.
pub const MAX_PAGE: usize = 8 << 20;

/// What the reporter posts: `{ollio: "preview-error", kind, message,
/// source, line, column, stack}`, at most 40 of them per page load. It
/// sends to the framing page's origin when the browser says it
/// (`location.ancestorOrigins`), else to any: the errors are the preview's
/// own, public to whoever can open it.
pub const SCRIPT: &str = r#"<script data-ollio-reporter>(function(){if(window.parent===window)return;var sent=0,o=(location.ancestorOrigins&&location.ancestorOrigins.length)?location.ancestorOrigins[0]:"*";function text(v){try{if(v instanceof Error)return v.name+": "+v.message;if(typeof v==="string")return v;return JSON.stringify(v)}catch(e){return String(v)}}function send(kind,message,source,line,column,stack){if(sent++>=40)return;try{parent.postMessage({ollio:"preview-error",kind:kind,message:String(message).slice(0,2000),source:String(source||"").slice(0,500),line:line|0,column:column|0,stack:String(stack||"").slice(0,4000)},o)}catch(e){}}window.addEventListener("error",function(e){var t=e.target;if(t&&t!==window&&(t.src||t.href)){send("resource","Failed to load "+(t.src||t.href),location.href,0,0,"");return}send("error",e.error?text(e.error):e.message,e.filename,e.lineno,e.colno,e.error&&e.error.stack)},true);window.addEventListener("unhandledrejection",function(e){var r=e.reason;send("unhandledrejection","Unhandled rejection: "+text(r),"",0,0,r&&r.stack)});var ce=console.error;console.error=function(){try{send("console.error",Array.prototype.map.call(arguments,text).join(" "),"",0,0,"")}catch(e){}return ce.apply(console,arguments)}})();</script>"#;

/// Whether `response` is a page the reporter goes into: HTML, whole (not
/// compressed), not an upgrade.
pub fn takes_reporter(response: &Response) -> bool {
    let headers = response.headers();
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("text/html"));
    is_html
        && !headers.contains_key(header::CONTENT_ENCODING)
        && response.status() != StatusCode::SWITCHING_PROTOCOLS
        && !matches!(
            response.status(),
            StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
        )
}

/// `html` with the reporter first in its `<head>` (before the app's own
/// scripts, so their errors are caught), and `banner` at the top of its
/// `<body>` when given.
pub fn inject(html: &str, banner: Option<&str>) -> String {
    let lower = html.to_ascii_lowercase();
    let after_tag = |tag: &str| {
        let mut from = 0;
        while let Some(found) = lower[from..].find(tag) {
            let start = from + found;
            // `<head>` or `<head …>`, not `<header>`.
            let next = lower.as_bytes().get(start + tag.len()).copied();
            if matches!(next, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
                return lower[start..].find('>').map(|end| start + end + 1);
            }
            from = start + tag.len();
        }
        None
    };
    let head = after_tag("<head")
        .or_else(|| after_tag("<html"))
        .unwrap_or_else(|| after_doctype(&lower));
    let mut out = String::with_capacity(html.len() + SCRIPT.len() + 512);
    match banner.and_then(|banner| after_tag("<body").map(|at| (at, banner))) {
        Some((body, banner)) if body >= head => {
            out.push_str(&html[..head]);
            out.push_str(SCRIPT);
            out.push_str(&html[head..body]);
            out.push_str(banner);
            out.push_str(&html[body..]);
        }
        _ => {
            out.push_str(&html[..head]);
            out.push_str(SCRIPT);
            if let Some(banner) = banner {
                out.push_str(banner);
            }
            out.push_str(&html[head..]);
        }
    }
    out
}

/// Just after `<!doctype …>`, if the page starts with one.
fn after_doctype(lower: &str) -> usize {
    let trimmed = lower.trim_start();
    if trimmed.starts_with("<!doctype") {
        let start = lower.len() - trimmed.len();
        return trimmed.find('>').map_or(0, |end| start + end + 1);
    }
    0
}

/// Reads a page's body and puts the reporter (and `banner`) into it;
/// `Err` with the response's parts and nothing readable when the page is
/// over [`MAX_PAGE`].
pub async fn with_reporter(response: Response, banner: Option<&str>) -> Result<Response, ()> {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_PAGE).await.map_err(|_| ())?;
    let text = String::from_utf8_lossy(&bytes);
    let marked = inject(&text, banner);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::TRANSFER_ENCODING);
    // A strong validator no longer names these bytes.
    parts.headers.remove(header::ETAG);
    if let Some(value) = parts.headers.get(header::CONTENT_SECURITY_POLICY) {
        tracing::debug!(csp = ?value, "a preview page has a CSP; its reporter may be blocked");
    }
    parts
        .headers
        .insert("x-ollio-reporter", HeaderValue::from_static("1"));
    Ok(Response::from_parts(parts, Body::from(marked)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reporter_goes_first_into_the_head() {
        let page = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><script src=\"/app.js\"></script></head><body><header>x</header></body></html>";
        let out = inject(page, None);
        let script = out.find("data-ollio-reporter").unwrap();
        assert!(script < out.find("/app.js").unwrap());
        assert!(script > out.find("<head>").unwrap());
        assert_eq!(out.matches("data-ollio-reporter").count(), 1);

        // `<header>` is not a head.
        let no_head = "<body><header>x</header></body>";
        let out = inject(no_head, None);
        assert!(out.starts_with("<script data-ollio-reporter>"));

        let bare = "<!DOCTYPE html><p>hi</p>";
        let out = inject(bare, None);
        assert!(out.starts_with("<!DOCTYPE html><script data-ollio-reporter>"));
    }

    #[test]
    fn the_banner_goes_into_the_body_and_the_reporter_into_the_head() {
        let page = "<html><head></head><body class=\"x\"><p>hi</p></body></html>";
        let out = inject(page, Some("<div role=\"alert\">warn</div>"));
        let head = out.find("data-ollio-reporter").unwrap();
        let banner = out.find("role=\"alert\"").unwrap();
        assert!(head < out.find("</head>").unwrap());
        assert!(banner > out.find("<body class=\"x\">").unwrap());
        assert!(banner < out.find("<p>hi").unwrap());
    }

    #[test]
    fn only_whole_html_pages_take_it() {
        let page = |content_type: &str, encoding: Option<&str>| {
            let mut response = Response::new(Body::empty());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(content_type).unwrap(),
            );
            if let Some(encoding) = encoding {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_str(encoding).unwrap(),
                );
            }
            response
        };
        assert!(takes_reporter(&page("text/html; charset=utf-8", None)));
        assert!(!takes_reporter(&page("text/html", Some("gzip"))));
        assert!(!takes_reporter(&page("application/javascript", None)));
        assert!(!takes_reporter(&page("text/event-stream", None)));
    }
}
