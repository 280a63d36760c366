//! Rows the tests put straight into the store: a user, a project, a
//! message, a file of a version. Each panics on failure, as a test would.

use ollio_domain::{ProjectId, ProjectName, UserId};
use ollio_store::{Message, MessageStatus, NewFile, Project, Role, Store};

/// A user with a password hash no sign-in can match.
pub async fn user(store: &Store, email: &str) -> UserId {
    store
        .create_user(email, "argon2id-hash-placeholder")
        .await
        .expect("a test user")
        .id
}

/// `owner`'s new project called `name`, from the static template.
pub async fn project(store: &Store, owner: &UserId, name: &str) -> Project {
    store
        .create_project(owner, &project_name(name), "static")
        .await
        .expect("a test project")
}

pub async fn message(
    store: &Store,
    project: &ProjectId,
    role: Role,
    text: &str,
    status: MessageStatus,
) -> Message {
    store
        .create_message(project, role, text, status)
        .await
        .expect("a test message")
}

pub fn project_name(raw: &str) -> ProjectName {
    ProjectName::parse(raw).expect("a valid project name")
}

/// A file for a new version, its language taken from its path as a turn's
/// snapshot takes it.
pub fn file(path: &str, content: &str) -> NewFile {
    NewFile {
        path: path.into(),
        content: content.into(),
        language: ollio_agent::snapshot::language_of(path).into(),
        binary: false,
    }
}
