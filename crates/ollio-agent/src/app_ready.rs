//! After a turn, waiting for the project's app (its template's start
//! command, run by the sandbox's supervisor) to answer its ready path, so
//! the preview is called ready only once there is something to see. The
//! check runs inside the sandbox, with bash alone, so it works the same on
//! sandboxd and on E2B.

use std::time::Duration;

use ollio_domain::TurnEvent;
use ollio_sandbox::{Command, Envd, SandboxError};

use super::{templates::Template, tools::EventSink};

/// How long an app may take to answer after a turn (an install may run).
pub const PATIENCE: Duration = Duration::from_secs(90);
/// Where the supervisor keeps the app's log inside the sandbox.
pub const LOG_PATH: &str = "/tmp/ollio/app.log";
/// How much of the log's end a failure shows.
const TAIL_BYTES: usize = 4 * 1024;

/// Waits for `template`'s app in the sandbox; tells `sink` how it went.
/// Returns whether it answered. Templates without an app are ready at once.
pub async fn wait(envd: &Envd, template: &Template, sink: &EventSink) -> bool {
    if template.start.is_empty() {
        return true;
    }
    let _ = sink.send(TurnEvent::AppStarting);
    let ready = answers(envd, template).await;
    if ready {
        let _ = sink.send(TurnEvent::AppReady);
    } else {
        let _ = sink.send(TurnEvent::AppFailed {
            log_tail: read_tail(envd, TAIL_BYTES).await.unwrap_or_default(),
        });
    }
    ready
}

/// Whether `template`'s app answers its ready path within [`PATIENCE`].
pub async fn answers(envd: &Envd, template: &Template) -> bool {
    let probe = Command::new(probe_script(template.port, template.ready_path, PATIENCE))
        .timeout(PATIENCE + Duration::from_secs(10));
    envd.run(&probe, |_, _| {})
        .await
        .is_ok_and(|output| output.exit_code == 0)
}

/// Asks `127.0.0.1:{port}{path}` every 200 ms until it answers with a 2xx
/// or 3xx status while no package install runs (the app is about to
/// restart), for at most `patience`. A connection the app takes but never
/// answers (a reloader whose server died) is given up after 3 s.
fn probe_script(port: u16, path: &str, patience: Duration) -> String {
    let tries = patience.as_millis() / 200;
    let status_path = super::app_watch::STATUS_PATH;
    format!(
        "for _ in $(seq {tries}); do \
           if grep -qs '\"state\":\"installing\"' {status_path}; then sleep 0.2; continue; fi; \
           status=$( (exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET {path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && IFS=' ' read -r -t 3 _ code _ <&3 && echo \"$code\") 2>/dev/null); \
           case \"$status\" in 2*|3*) exit 0;; esac; \
           sleep 0.2; \
         done; exit 1"
    )
}

/// The last `bytes` of a log, from a line's start, as text.
pub async fn read_tail(envd: &Envd, bytes: usize) -> Result<String, SandboxError> {
    // One byte more tells whether the first kept line is whole.
    let part = envd.read_file_tail(LOG_PATH, bytes + 1).await?;
    Ok(tail(&part.bytes, bytes))
}

/// The end of `log`, from a line's start, as text.
pub fn tail(log: &[u8], bytes: usize) -> String {
    let start = log.len().saturating_sub(bytes);
    let start = if start == 0 {
        0
    } else {
        // A line starts at `start` when the byte before it ends one.
        log[start - 1..]
            .iter()
            .position(|byte| *byte == b'\n')
            .map_or(start, |newline| start + newline)
    };
    String::from_utf8_lossy(&log[start..]).trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_starts_at_a_line() {
        assert_eq!(tail(b"one\ntwo\nthree\n", 9), "three");
        assert_eq!(tail(b"short\n", 100), "short");
        assert_eq!(tail(b"", 10), "");
        // Cut just after a newline: the next line is whole and kept.
        assert_eq!(tail(b"one\ntwo\n", 4), "two");
        assert_eq!(tail(b"xone\ntwo\n", 8), "two");
    }

    #[test]
    fn the_probe_names_the_port_and_path() {
        let script = probe_script(5173, "/", Duration::from_secs(2));
        assert!(script.contains("/dev/tcp/127.0.0.1/5173"));
        assert!(script.contains("GET / HTTP/1.0"));
        assert!(script.contains("seq 10"));
        assert!(
            script.contains("read -r -t 3"),
            "a hung answer ends the try"
        );
        assert!(script.contains("\"state\":\"installing\"' /tmp/ollio/status.json"));
    }
}
