//! `GET /api/projects/{id}/terminal`: the Code tab's terminal over a
//! WebSocket. The project's owner only (others get 404, nobody 401), from
//! a page of this app only (`Origin` must be ours: 403), and closed when
//! the user signs out (the session is looked at again every few seconds).
//! Typing keeps the sandbox alive, as a turn does.
//!
//! Frames: binary both ways are the terminal's bytes (what is typed; what
//! it draws); text from the browser is `{"type":"resize","cols":N,"rows":N}`;
//! text from the server is `{"type":"exit","message":"…"}` when the shell
//! ends. Query `cols` and `rows` give the first size.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
        Path, Query, State,
    },
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use ollio_domain::{ProjectId, UserId};
use ollio_sandbox::wire::PtySize;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::{session::Id, Session, SessionStore};

use super::guard::{error_response, signed_in, websocket_from_here};
use crate::{
    error::AppError,
    server::{
        auth,
        previews::Previews,
        projects,
        state::AppState,
        terminal,
        terminal_sessions::{Output, Shell},
    },
};

/// The route, as the tenancy suite lists it (`:id`: a project's).
pub const ROUTE: &str = "/api/projects/:id/terminal";
/// How often an open terminal checks that its user is still signed in.
const SESSION_CHECK: Duration = Duration::from_secs(3);
/// Typing keeps the sandbox alive (`Previews::keep`), at most this
/// often: the first key, then one a minute while typing goes on.
const KEEP_EVERY: Duration = Duration::from_secs(60);
/// The close code a terminal gets when its user signed out.
pub const SIGNED_OUT: u16 = 4001;

#[derive(Debug, Deserialize)]
pub struct Size {
    cols: Option<u32>,
    rows: Option<u32>,
}

fn size(cols: Option<u32>, rows: Option<u32>) -> PtySize {
    PtySize {
        cols: cols.unwrap_or(80).clamp(2, 500),
        rows: rows.unwrap_or(24).clamp(2, 200),
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Control {
    Resize { cols: u32, rows: u32 },
}

pub async fn terminal(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(asked): Query<Size>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let project = ProjectId::from_raw(id);
    let checked = async {
        let owner = signed_in(&state, &session).await?;
        projects::owned(&state, &owner, &project).await?;
        if !websocket_from_here(&headers, state.config.public_url.as_deref()) {
            return Err(AppError::CrossSite);
        }
        Ok(owner)
    };
    let owner = match checked.await {
        Ok(owner) => owner,
        Err(error) => return error_response(&error),
    };
    let Ok(upgrade) = upgrade else {
        return (
            StatusCode::UPGRADE_REQUIRED,
            "The terminal speaks WebSocket only.",
        )
            .into_response();
    };
    let shell = match terminal::open(&state, &owner, &project, size(asked.cols, asked.rows)).await {
        Ok(shell) => shell,
        Err(error) => return error_response(&error),
    };
    let Some(session_id) = session.id() else {
        return error_response(&AppError::Unauthorized);
    };
    upgrade.on_upgrade(move |socket| async move {
        serve(socket, &state, &owner, session_id, &shell).await;
        state.terminals.detach(&project, &shell);
    })
}

/// Whether the session `id` still belongs to `owner`.
async fn still_signed_in(state: &AppState, id: &Id, owner: &UserId) -> bool {
    match state.sessions.load(id).await {
        Ok(Some(record)) => {
            record
                .data
                .get(auth::USER_KEY)
                .and_then(|value| value.as_str())
                == Some(owner.as_str())
        }
        Ok(None) => false,
        // The store did not answer: keep the terminal, look again later.
        Err(_) => true,
    }
}

async fn serve(
    mut socket: WebSocket,
    state: &AppState,
    owner: &UserId,
    id: Id,
    shell: &Arc<Shell>,
) {
    let (backlog, ended, mut output) = shell.attach();
    if !backlog.is_empty() && socket.send(Message::Binary(backlog.into())).await.is_err() {
        return;
    }
    if let Some(why) = ended {
        let _ = socket.send(exit(&why)).await;
        return;
    }
    let mut check = tokio::time::interval(SESSION_CHECK);
    let mut kept: Option<Instant> = None;
    loop {
        tokio::select! {
            received = socket.recv() => match received {
                Some(Ok(Message::Binary(bytes))) => {
                    if let Err(error) = shell.input(&bytes).await {
                        let _ = socket.send(exit(&format!("The shell stopped taking input: {error}"))).await;
                        return;
                    }
                    if kept.is_none_or(|at| at.elapsed() >= KEEP_EVERY) {
                        kept = Some(Instant::now());
                        // Beside the typing, which never waits for it.
                        let (state, sandbox) = (state.clone(), shell.sandbox_id.clone());
                        tokio::spawn(async move {
                            if let Err(error) = Previews::new(&state).keep(&sandbox).await {
                                tracing::info!(%error, "a terminal's sandbox was not extended");
                            }
                        });
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    if let Ok(Control::Resize { cols, rows }) = serde_json::from_str(text.as_str()) {
                        let _ = shell.resize(size(Some(cols), Some(rows))).await;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
            },
            sent = output.recv() => match sent {
                Ok(Output::Data(bytes)) => {
                    if socket.send(Message::Binary(bytes)).await.is_err() {
                        return;
                    }
                }
                Ok(Output::Ended(why)) => {
                    let _ = socket.send(exit(&why)).await;
                    return;
                }
                // Too slow a connection: what it missed is in the backlog of
                // the next connection.
                Err(RecvError::Lagged(_)) => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = check.tick() => {
                if !still_signed_in(state, &id, owner).await {
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: SIGNED_OUT,
                            reason: "Signed out".into(),
                        })))
                        .await;
                    return;
                }
            }
        }
    }
}

fn exit(why: &str) -> Message {
    Message::Text(
        serde_json::json!({ "type": "exit", "message": why })
            .to_string()
            .into(),
    )
}
