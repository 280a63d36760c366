//! Following a project's turns live: the event stream
//! (`/api/projects/{id}/events`, Server-Sent Events through gloo-net), with
//! the page falling back to refetching when the stream is unavailable.
//! Only the browser follows streams; the server build keeps the pure parts
//! for their tests.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use ollio_domain::TurnEvent;

/// Milliseconds before the next refetch after `failures` failed tries of
/// the stream in a row: 1 s, 2 s, 4 s… at most 15 s.
pub fn backoff_ms(failures: u32) -> u32 {
    1000u32
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
        .min(15_000)
}

/// What the stream said, for the page to act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Live {
    Event {
        seq: i64,
        event: TurnEvent,
    },
    /// The stream failed or was refused: refetch instead, then try again.
    Lost,
}

/// Opens the stream of `project` after event `after` and hands every event
/// (and a loss) to `on`. The stream closes when the returned handle drops.
#[cfg(feature = "hydrate")]
pub fn follow(project: &str, after: i64, on: impl Fn(Live) + 'static) -> Option<Following> {
    use futures_util::{
        future::abortable,
        stream::{select_all, StreamExt},
    };
    use gloo_net::eventsource::futures::EventSource;

    let url = format!("/api/projects/{project}/events?after={after}");
    let mut source = EventSource::new(&url).ok()?;
    let streams: Vec<_> = TurnEvent::KINDS
        .iter()
        .filter_map(|kind| source.subscribe(*kind).ok())
        .collect();
    let mut events = select_all(streams);
    let (task, handle) = abortable(async move {
        use futures_util::future::{select, Either};
        use gloo_net::eventsource::State;
        // The browser retries a failing stream by itself and says nothing
        // while it does: a stream not open for two looks in a row is lost.
        let mut not_open = 0;
        loop {
            let next = events.next();
            let look = sleep_ms(LOOK_MS);
            futures_util::pin_mut!(next, look);
            match select(next, look).await {
                Either::Left((Some(Ok((_, message))), _)) => {
                    not_open = 0;
                    let seq = message.last_event_id().parse().unwrap_or(0);
                    let decoded = message
                        .data()
                        .as_string()
                        // From bytes, like server functions (see app/resource.rs).
                        .and_then(|data| serde_json::from_slice::<TurnEvent>(data.as_bytes()).ok());
                    if let Some(event) = decoded {
                        on(Live::Event { seq, event });
                    }
                }
                Either::Left((Some(Err(_)) | None, _)) => break,
                Either::Right(_) if source.state() == State::Open => not_open = 0,
                Either::Right(_) => {
                    not_open += 1;
                    if not_open >= 2 {
                        break;
                    }
                }
            }
        }
        // Dropping the source closes it.
        drop(source);
        on(Live::Lost);
    });
    leptos::task::spawn_local(async move {
        let _ = task.await;
    });
    Some(Following(handle))
}

/// How often a quiet stream is looked at.
#[cfg(feature = "hydrate")]
const LOOK_MS: i32 = 2000;

#[cfg(feature = "hydrate")]
pub(super) async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// An open stream; dropping it closes the stream.
#[cfg(feature = "hydrate")]
pub struct Following(futures_util::future::AbortHandle);

#[cfg(feature = "hydrate")]
impl Drop for Following {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn refetching_backs_off_to_fifteen_seconds() {
        assert_eq!(backoff_ms(1), 1000);
        assert_eq!(backoff_ms(2), 2000);
        assert_eq!(backoff_ms(4), 8000);
        assert_eq!(backoff_ms(5), 15_000);
        assert_eq!(backoff_ms(40), 15_000);
    }
}
