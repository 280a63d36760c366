//! Reading what the check collected into problems, exactly as found: the
//! app log's Python tracebacks and Vite/esbuild errors (after the app's
//! last reload), the type checker's `file(line,col): error …` lines, and a
//! static page's links to local files. No I/O here: the check hands in text.

use ollio_domain::{CheckProblem, ProblemSource};

/// More problems than this are summed up in one more.
pub const MAX_PROBLEMS: usize = 12;
/// How much of one problem's text the model is given.
const MAX_DETAIL: usize = 4 * 1024;

/// Lines after which the app is a new process: an error before them was
/// the old one's. Uvicorn's reloader, Vite's restart, the supervisor's
/// restart after an install.
const RELOADS: &[&str] = &[
    "Reloading...",
    "Started reloader process",
    "server restarted",
    "Packages installed; restarting the app",
    // `node --watch`.
    "Restarting '",
];

/// What the log says is wrong since the app last (re)started.
pub fn log_problems(log: &str) -> Vec<CheckProblem> {
    let lines: Vec<&str> = log.lines().collect();
    let from = lines
        .iter()
        .rposition(|line| RELOADS.iter().any(|marker| line.contains(marker)))
        .map_or(0, |at| at + 1);
    let lines = &lines[from..];
    let mut problems = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        if line
            .trim_start()
            .starts_with("Traceback (most recent call last):")
        {
            let (problem, next) = traceback(lines, at);
            push_new(&mut problems, problem);
            at = next;
            continue;
        }
        if let Some(problem) = vite_error(lines, at).or_else(|| node_crash(lines, at)) {
            push_new(&mut problems, problem);
        }
        at += 1;
    }
    problems
}

/// One Python traceback from its header: the indented frames, then the
/// exception's line. The place is the last frame in the project.
fn traceback(lines: &[&str], start: usize) -> (CheckProblem, usize) {
    let mut end = start + 1;
    while end < lines.len() && (lines[end].starts_with(' ') || lines[end].is_empty()) {
        end += 1;
    }
    // The exception's own line ("SyntaxError: invalid syntax").
    let message = lines
        .get(end)
        .map(|line| line.trim().to_owned())
        .unwrap_or_else(|| "A Python exception".to_owned());
    let last = (end + 1).min(lines.len());
    let detail = clip(&lines[start..last].join("\n"));
    let mut problem = CheckProblem::new(ProblemSource::Log, message).with_detail(detail);
    if let Some((file, line)) = lines[start..last].iter().rev().find_map(|l| frame(l)) {
        problem = problem.at(file, line);
    }
    (problem, last)
}

/// `  File "/home/user/main.py", line 5, in <module>` → (`main.py`, 5),
/// for a file of the project (not the standard library, not packages).
fn frame(line: &str) -> Option<(String, Option<u32>)> {
    let rest = line.trim_start().strip_prefix("File \"")?;
    let (path, after) = rest.split_once('"')?;
    if path.contains("/site-packages/") || path.contains("/.venv/") || path.starts_with('<') {
        return None;
    }
    let relative = path
        .strip_prefix(crate::tools::PROJECT_ROOT)
        .map(|p| p.trim_start_matches('/'))
        .unwrap_or(path);
    if relative.starts_with('/') {
        return None;
    }
    let number = after
        .split_once("line ")
        .and_then(|(_, n)| n.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok());
    Some((relative.to_owned(), number))
}

/// A line of Vite's or esbuild's that reports an error, with the lines
/// about where it is that follow it.
fn vite_error(lines: &[&str], at: usize) -> Option<CheckProblem> {
    let line = lines[at];
    let is_error = line.contains("[vite] Internal server error")
        || line.contains("Pre-transform error")
        || line.contains("[plugin:vite:")
        || line.contains("✘ [ERROR]");
    if !is_error {
        return None;
    }
    let mut end = at + 1;
    while end < lines.len() && end < at + 12 && !lines[end].trim().is_empty() {
        end += 1;
    }
    let message = line
        .split_once("error:")
        .map_or(line, |(_, text)| text)
        .trim()
        .to_owned();
    let mut problem = CheckProblem::new(ProblemSource::Log, message)
        .with_detail(clip(&lines[at..end].join("\n")));
    // "File: /home/user/src/App.tsx:12:5"
    if let Some(place) = lines[at..end]
        .iter()
        .find_map(|l| l.trim().strip_prefix("File:"))
    {
        let place = place.trim();
        let place = place
            .strip_prefix(crate::tools::PROJECT_ROOT)
            .map_or(place, |p| p.trim_start_matches('/'));
        let mut parts = place.splitn(3, ':');
        let file = parts.next().unwrap_or_default().to_owned();
        let line = parts.next().and_then(|n| n.parse().ok());
        problem = problem.at(file, line);
    }
    Some(problem)
}

/// `node --watch` gave up on the app ("Failed running 'server.js'"): the
/// error it printed before, with the place Node named first.
fn node_crash(lines: &[&str], at: usize) -> Option<CheckProblem> {
    if !lines[at].starts_with("Failed running '") {
        return None;
    }
    let start = at.saturating_sub(30);
    let before = &lines[start..at];
    let message = before
        .iter()
        .find(|line| {
            let name = line.split(':').next().unwrap_or_default();
            !line.starts_with(' ')
                && name.ends_with("Error")
                && name.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map_or_else(|| lines[at].to_owned(), |line| line.trim().to_owned());
    let mut problem =
        CheckProblem::new(ProblemSource::Log, message).with_detail(clip(&before.join("\n")));
    let root = format!("{}/", crate::tools::PROJECT_ROOT);
    if let Some(place) = before
        .iter()
        .find_map(|line| line.strip_prefix(root.as_str()))
    {
        let (file, line) = place.split_once(':').unwrap_or((place, ""));
        problem = problem.at(file, line.parse().ok());
    }
    Some(problem)
}

/// The type checker's errors: `src/App.tsx(12,5): error TS2322: …`, with
/// the indented lines that go on explaining it.
pub fn type_errors(output: &str) -> Vec<CheckProblem> {
    let mut problems: Vec<CheckProblem> = Vec::new();
    for line in output.lines() {
        if let Some(problem) = tsc_line(line) {
            problems.push(problem);
        } else if line.starts_with(' ') {
            if let Some(last) = problems.last_mut() {
                last.detail.push('\n');
                last.detail.push_str(line);
            }
        }
    }
    problems
}

fn tsc_line(line: &str) -> Option<CheckProblem> {
    let (place, message) = line.split_once("): ")?;
    let (file, position) = place.rsplit_once('(')?;
    let line_number = position.split(',').next()?.parse().ok()?;
    if !message.starts_with("error") || file.is_empty() || file.contains(' ') {
        return None;
    }
    Some(
        CheckProblem::new(ProblemSource::Types, message.trim())
            .at(file, Some(line_number))
            .with_detail(line.to_owned()),
    )
}

/// A link of a page to a file of the project: its path relative to the
/// project root and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalLink {
    pub path: String,
    pub line: u32,
}

/// The local files `html` (the page at `page`, relative to the root)
/// links with `src` and `href`: not other sites, anchors, `data:` or
/// `mailto:` addresses, nor paths that leave the project.
pub fn local_links(html: &str, page: &str) -> Vec<LocalLink> {
    let lower = html.to_ascii_lowercase();
    let dir = page.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut links: Vec<LocalLink> = Vec::new();
    for attribute in [" src=", " href=", "\tsrc=", "\thref=", "\nsrc=", "\nhref="] {
        let mut from = 0;
        while let Some(found) = lower[from..].find(attribute) {
            let start = from + found + attribute.len();
            from = start;
            let Some(value) = attribute_value(&html[start..]) else {
                continue;
            };
            let Some(path) = local_path(value, dir) else {
                continue;
            };
            let line = u32::try_from(html[..start].matches('\n').count() + 1).unwrap_or(u32::MAX);
            if !links.iter().any(|link| link.path == path) {
                links.push(LocalLink { path, line });
            }
        }
    }
    links.sort_by_key(|link| link.line);
    links
}

fn attribute_value(rest: &str) -> Option<&str> {
    let quote = rest.chars().next()?;
    if quote == '"' || quote == '\'' {
        let inner = &rest[1..];
        return inner.find(quote).map(|end| &inner[..end]);
    }
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '>')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

fn local_path(value: &str, dir: &str) -> Option<String> {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    let elsewhere = value.is_empty()
        || value.starts_with('#')
        || value.starts_with("//")
        || value.contains("://")
        || value.contains("{{")
        || value.contains("${")
        || ["data:", "mailto:", "tel:", "javascript:", "blob:"]
            .iter()
            .any(|scheme| lower.starts_with(scheme));
    if elsewhere {
        return None;
    }
    let value = value.split(['?', '#']).next().unwrap_or_default();
    let value = value.replace("%20", " ");
    let joined = match value.strip_prefix('/') {
        Some(rooted) => rooted.to_owned(),
        None if dir.is_empty() => value.clone(),
        None => format!("{dir}/{value}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    let mut path = parts.join("/");
    if value.ends_with('/') || path.is_empty() {
        path = if path.is_empty() {
            "index.html".to_owned()
        } else {
            format!("{path}/index.html")
        };
    }
    Some(path)
}

/// `problems`, at most [`MAX_PROBLEMS`]: the rest said in one more.
pub fn bounded(mut problems: Vec<CheckProblem>) -> Vec<CheckProblem> {
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - (MAX_PROBLEMS - 1);
        problems.truncate(MAX_PROBLEMS - 1);
        let source = problems.last().map_or(ProblemSource::Log, |p| p.source);
        problems.push(CheckProblem::new(
            source,
            format!("and {more} more like these"),
        ));
    }
    problems
}

/// The same problem twice (React logs a render error twice) counts once.
fn push_new(problems: &mut Vec<CheckProblem>, problem: CheckProblem) {
    if !problems
        .iter()
        .any(|p| p.message == problem.message && p.place() == problem.place())
    {
        problems.push(problem);
    }
}

/// At most [`MAX_DETAIL`] bytes of `text`: its start and its end, which say
/// the most.
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_DETAIL {
        return text.to_owned();
    }
    let head = floor(text, MAX_DETAIL / 4);
    let tail = ceil(text, text.len() - MAX_DETAIL * 3 / 4);
    format!("{}\n…\n{}", &text[..head], &text[tail..])
}

fn floor(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYNTAX: &str = "INFO:     Will watch for changes in these directories: ['/home/user']
INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)
INFO:     Started reloader process [12] using WatchFiles
WARNING:  WatchFiles detected changes in 'main.py'. Reloading...
Process SpawnProcess-2:
Traceback (most recent call last):
  File \"/usr/lib/python3.11/multiprocessing/process.py\", line 314, in _bootstrap
    self.run()
  File \"/home/user/.venv/lib/python3.11/site-packages/uvicorn/importer.py\", line 19, in import_from_string
    module = importlib.import_module(module_str)
  File \"/home/user/main.py\", line 7
    def health(:
               ^
SyntaxError: invalid syntax
";

    #[test]
    fn a_traceback_after_the_last_reload_is_found_with_its_place() {
        let problems = log_problems(SYNTAX);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let problem = &problems[0];
        assert_eq!(problem.message, "SyntaxError: invalid syntax");
        assert_eq!(problem.place().as_deref(), Some("main.py:7"));
        assert!(problem
            .detail
            .starts_with("Traceback (most recent call last):"));
        assert!(problem.detail.ends_with("SyntaxError: invalid syntax"));
        // Fixed and reloaded: the old traceback no longer counts.
        let fixed = format!(
            "{SYNTAX}WARNING:  WatchFiles detected changes in 'main.py'. Reloading...\nINFO:     Started server process [40]\nINFO:     Application startup complete.\n"
        );
        assert!(log_problems(&fixed).is_empty());
        assert!(log_problems("").is_empty());
    }

    #[test]
    fn vite_errors_are_found_with_their_file() {
        let log = "  VITE v8.3.8  ready in 420 ms\n12:00:01 [vite] Internal server error: Failed to resolve import \"./Nope\" from \"src/App.tsx\". Does the file exist?\n  Plugin: vite:import-analysis\n  File: /home/user/src/App.tsx:3:18\n\nlater\n";
        let problems = log_problems(log);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.starts_with("Failed to resolve import"));
        assert_eq!(problems[0].place().as_deref(), Some("src/App.tsx:3"));
    }

    #[test]
    fn a_node_crash_is_found_with_its_place() {
        let log = "Restarting 'server.js'\n/home/user/server.js:5\n  res.json( })\n            ^\n\nSyntaxError: Unexpected token '}'\n    at wrapSafe (node:internal/modules/cjs/loader:1378:20)\n\nNode.js v20.19.2\nFailed running 'server.js'\n";
        let problems = log_problems(log);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].message, "SyntaxError: Unexpected token '}'");
        assert_eq!(problems[0].place().as_deref(), Some("server.js:5"));
    }

    #[test]
    fn type_errors_keep_their_place_and_explanation() {
        let output = "src/App.tsx(4,7): error TS2322: Type 'number' is not assignable to type 'string'.\nsrc/Board.tsx(10,1): error TS1005: '}' expected.\n  The parser expected more.\nnot an error line\n";
        let problems = type_errors(output);
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].place().as_deref(), Some("src/App.tsx:4"));
        assert_eq!(
            problems[0].message,
            "error TS2322: Type 'number' is not assignable to type 'string'."
        );
        assert!(problems[1].detail.ends_with("The parser expected more."));
        assert!(type_errors("Found 0 errors.").is_empty());
    }

    #[test]
    fn local_links_are_read_and_others_left_alone() {
        let html = "<!doctype html>\n<link rel=\"stylesheet\" href=\"style.css?v=2\">\n<link href='https://fonts.example/x.css'>\n<a href=\"#top\">top</a> <a href=\"about/\">about</a>\n<img src=img/logo.png alt=\"\">\n<script src=\"/js/app.js\"></script>\n<a href=\"mailto:a@b.c\">mail</a><a href=\"../../etc/passwd\">x</a>\n<img src=\"data:image/png;base64,xx\">\n";
        let links = local_links(html, "index.html");
        let paths: Vec<(&str, u32)> = links.iter().map(|l| (l.path.as_str(), l.line)).collect();
        assert_eq!(
            paths,
            [
                ("style.css", 2),
                ("about/index.html", 4),
                ("img/logo.png", 5),
                ("js/app.js", 6),
            ]
        );
        let nested = local_links("<script src=\"../lib.js\"></script>", "pages/a.html");
        assert_eq!(nested[0].path, "lib.js");
    }

    #[test]
    fn many_problems_are_bounded_and_long_ones_clipped() {
        let many: Vec<_> = (0..30)
            .map(|n| CheckProblem::new(ProblemSource::Types, format!("error {n}")))
            .collect();
        let kept = bounded(many);
        assert_eq!(kept.len(), MAX_PROBLEMS);
        assert_eq!(kept.last().unwrap().message, "and 19 more like these");
        let long = "é".repeat(10_000);
        let clipped = clip(&long);
        assert!(clipped.len() < 4 * 1024 + 16);
        assert!(clipped.contains('…'));
    }
}
