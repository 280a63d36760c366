//! Attaching files, for the signed-in user only (the session cookie):
//! `POST /api/attachments?name=…` takes one file as the raw body and stages
//! it; `GET /api/attachments` lists the staged ones; `GET
//! /api/attachments/{id}` serves one's bytes (the chat's thumbnails) and
//! `DELETE` removes a staged one. Anyone else's answers 404.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use ollio_domain::{attachment::MAX_BYTES, AttachmentId};
use serde::Deserialize;
use tower_sessions::Session;

use super::guard::{respond, signed_in};
use crate::{
    dto::chat::AttachmentView,
    error::AppError,
    server::{attachments, state::AppState},
};

/// The routes as the tenancy suite lists them (`:id` for an attachment).
pub const ROUTE: &str = "/api/attachments";
pub const ONE_ROUTE: &str = "/api/attachments/:id";

#[derive(Debug, Deserialize)]
pub struct Upload {
    name: Option<String>,
}

pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<Upload>,
    body: Body,
) -> Response {
    let answer = async {
        let owner = signed_in(&state, &session).await?;
        let name = query.name.unwrap_or_default();
        // Read no more than a file may hold, plus one byte to know it is more.
        let bytes = axum::body::to_bytes(body, MAX_BYTES + 1)
            .await
            .map_err(|_| attachments::too_large(&name))?;
        let staged = attachments::upload(&state, &owner, &name, &bytes).await?;
        Ok::<_, AppError>(AttachmentView::from(staged))
    };
    respond(answer, |view| {
        (StatusCode::CREATED, Json(view)).into_response()
    })
    .await
}

pub async fn staged(State(state): State<AppState>, session: Session) -> Response {
    let answer = async {
        let owner = signed_in(&state, &session).await?;
        let staged = state.store.staged_attachments(&owner).await?;
        Ok::<_, AppError>(
            staged
                .into_iter()
                .map(AttachmentView::from)
                .collect::<Vec<_>>(),
        )
    };
    respond(answer, |list| Json(list).into_response()).await
}

pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let answer = async {
        let owner = signed_in(&state, &session).await?;
        attachments::download(&state, &owner, &AttachmentId::from_raw(id)).await
    };
    respond(answer, |(found, bytes)| served(&found, bytes)).await
}

/// An attached file's bytes, with the type its bytes were checked to be.
fn served(found: &ollio_store::StoredAttachment, bytes: Vec<u8>) -> Response {
    let kind = found.file.kind;
    // Images show inline (the chat's thumbnails); data files download.
    let disposition = if kind.is_image() {
        "inline"
    } else {
        "attachment"
    };
    let disposition = HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{}\"",
        found.file.name.as_str().replace('"', "")
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.media_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn remove(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let answer = async {
        let owner = signed_in(&state, &session).await?;
        attachments::remove(&state, &owner, &AttachmentId::from_raw(id)).await
    };
    respond(answer, |()| StatusCode::NO_CONTENT.into_response()).await
}
