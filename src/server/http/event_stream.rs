//! `GET /api/projects/{id}/events?after=<seq>`: a project's turn events as
//! Server-Sent Events, for its owner only. The stored events after `seq`
//! come first, then new ones as they are recorded; every event carries its
//! `seq` as the SSE id, so a reconnect (with `?after=` or `Last-Event-ID`)
//! resumes with no gap and no duplicate.

use std::{collections::VecDeque, convert::Infallible, time::Duration};

use axum::{
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use serde::Deserialize;
use tower_sessions::Session;

use ollio_domain::{ProjectId, UserId};
use ollio_store::{Store, StoredEvent};

use crate::{
    error::AppError,
    server::{auth, budgets::StreamSlot, state::AppState},
};

/// The route as the tenancy suite lists routes (`:id` for the project).
pub const ROUTE: &str = "/api/projects/:id/events";
/// Events read from the database at once.
const PAGE: i64 = 200;
/// Without a wake-up, streams look again this often (a worker may run in
/// another process).
const LOOK_AGAIN: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
pub struct After {
    after: Option<i64>,
}

fn refuse(error: AppError) -> Response {
    super::guard::error_response(&error)
}

pub async fn project_events(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<After>,
    headers: HeaderMap,
) -> Response {
    let owner = match auth::session_user(&state.store, &session).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return refuse(AppError::Unauthorized),
        Err(error) => return refuse(error),
    };
    // Held by the stream: the slot frees when the client goes away.
    let slot = match state.budgets.open_stream(&owner) {
        Ok(slot) => slot,
        Err(error) => return refuse(error),
    };
    let project = ProjectId::from_raw(id);
    match state.store.project(&owner, &project).await {
        Ok(Some(_)) => {}
        Ok(None) => return refuse(AppError::NotFound),
        Err(error) => return refuse(error.into()),
    }
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<i64>().ok());
    let after = query.after.or(resume).unwrap_or(0).max(0);
    let follower = Follower {
        store: state.store.clone(),
        wake: state.hub.subscribe(),
        owner,
        project,
        last: after,
        ready: VecDeque::new(),
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        Some((Ok::<_, Infallible>(event), follower))
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // Proxies must pass events on at once.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

/// One client's place in a project's events.
struct Follower {
    store: Store,
    wake: tokio::sync::broadcast::Receiver<ProjectId>,
    owner: UserId,
    project: ProjectId,
    last: i64,
    ready: VecDeque<StoredEvent>,
    _slot: StreamSlot,
}

impl Follower {
    /// The next event, waiting for one as long as it takes; `None` ends the
    /// stream (the project is gone, or the database failed).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(stored) = self.ready.pop_front() {
                self.last = stored.seq;
                return Some(
                    Event::default()
                        .id(stored.seq.to_string())
                        .event(stored.kind)
                        .data(stored.payload),
                );
            }
            let page = self
                .store
                .events_after(&self.owner, &self.project, self.last, PAGE)
                .await;
            match page {
                Ok(events) if !events.is_empty() => self.ready.extend(events),
                Ok(_) => self.wait().await,
                Err(error) => {
                    tracing::error!(%error, "reading events failed");
                    return None;
                }
            }
        }
    }

    async fn wait(&mut self) {
        let deadline = tokio::time::sleep(LOOK_AGAIN);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return,
                woke = self.wake.recv() => match woke {
                    Ok(project) if project == self.project => return,
                    Ok(_) => {}
                    // Missed some wake-ups: look now.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        (&mut deadline).await;
                        return;
                    }
                },
            }
        }
    }
}
