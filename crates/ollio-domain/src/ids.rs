//! Typed identifiers. Each wraps the TEXT id stored in the database, so a
//! project id can never be passed where a user id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id read from storage or from a URL. Ids are opaque: an id
            /// that names no row simply finds nothing.
            pub fn from_raw(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A project: one app being built, with its chat and versions.
    ProjectId
);
id_type!(
    /// One chat message, from the user or the assistant.
    MessageId
);
id_type!(
    /// One version of a project's files.
    VersionId
);
id_type!(
    /// One training run of an ML model project's version.
    TrainingJobId
);
id_type!(
    /// One file a user attached (or is about to attach) to a message.
    AttachmentId
);
