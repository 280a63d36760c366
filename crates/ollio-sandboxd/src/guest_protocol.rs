//! What `sandboxd` and the guest agent inside each sandbox say to each other
//! over the sandbox's unix socket. One connection per request: a JSON line
//! from the host, then the guest's answer. File contents and forwarded
//! connections follow their JSON line as raw bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use ollio_sandbox::wire::EntryInfo;

/// The socket's name in the sandbox's host-only folder. The host binds it
/// and hands the listening descriptor to the guest, so nothing inside the
/// sandbox can replace what the host connects to.
pub const SOCKET_NAME: &str = "guest.sock";
/// The descriptor number the guest finds its listening socket on.
pub const LISTEN_FD: i32 = 3;
/// The longest JSON line either side accepts.
pub const MAX_LINE: usize = 8 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Answered by [`Reply::Size`], then that many bytes.
    Read {
        path: String,
    },
    /// Followed by `size` bytes; answered by [`Reply::Entry`].
    Write {
        path: String,
        size: u64,
    },
    List {
        path: String,
        depth: u32,
    },
    Stat {
        path: String,
    },
    MakeDir {
        path: String,
    },
    Remove {
        path: String,
    },
    Move {
        source: String,
        destination: String,
    },
    /// Answered by a stream of [`SpawnEvent`] lines.
    Spawn(Spawn),
    /// Sends a signal to a spawned command's whole process group.
    Signal {
        pid: u32,
        signal: i32,
    },
    Input {
        pid: u32,
        data: String,
    },
    CloseStdin {
        pid: u32,
    },
    /// Sets the window size of a command started on a pty.
    Resize {
        pid: u32,
        size: PtySize,
    },
    /// Connects to `127.0.0.1:port` inside; after [`Reply::Done`] the
    /// connection carries that TCP stream.
    Forward {
        port: u16,
    },
    /// Bytes used under the home folder.
    Usage,
    /// Answered by [`Reply::Done`] once the agent is serving.
    Ping,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spawn {
    pub cmd: String,
    pub args: Vec<String>,
    pub envs: BTreeMap<String, String>,
    pub cwd: Option<String>,
    pub stdin: bool,
    /// CPU seconds the command may use (`RLIMIT_CPU`), if limited.
    pub cpu_seconds: Option<u64>,
    /// Run on a pseudo-terminal of this size: its output comes as
    /// [`SpawnEvent::Pty`], its input goes to the terminal.
    #[serde(default)]
    pub pty: Option<PtySize>,
}

/// A terminal's size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PtySize {
    pub rows: u16,
    pub cols: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Done,
    Size(u64),
    Entry(EntryInfo),
    Entries(Vec<EntryInfo>),
    Failed(GuestError),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpawnEvent {
    Started {
        pid: u32,
    },
    Stdout(String),
    Stderr(String),
    /// What a command on a pty wrote to its terminal.
    Pty(String),
    Ended {
        exit_code: i32,
        signal: Option<i32>,
    },
    Failed(GuestError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    Invalid,
    PermissionDenied,
    /// The disk limit, or a file over the size limit.
    TooLarge,
    /// Nothing listens on the port.
    Refused,
    Io,
}

#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct GuestError {
    pub kind: ErrorKind,
    pub message: String,
}

impl GuestError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Maps an I/O error, naming the path it concerns.
    pub fn io(path: &str, error: &std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        let kind = match error.kind() {
            Io::NotFound => ErrorKind::NotFound,
            Io::AlreadyExists => ErrorKind::AlreadyExists,
            Io::PermissionDenied => ErrorKind::PermissionDenied,
            Io::InvalidInput | Io::IsADirectory | Io::NotADirectory | Io::DirectoryNotEmpty => {
                ErrorKind::Invalid
            }
            Io::StorageFull | Io::FileTooLarge | Io::QuotaExceeded => ErrorKind::TooLarge,
            _ => ErrorKind::Io,
        };
        Self::new(kind, format!("{path}: {error}"))
    }
}

/// Reads one JSON line, refusing lines over [`MAX_LINE`].
pub async fn read_line<T: serde::de::DeserializeOwned>(
    reader: &mut (impl AsyncBufReadExt + Unpin),
) -> std::io::Result<Option<T>> {
    let mut line = Vec::new();
    let read = (&mut *reader)
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .await?;
    if read == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE {
        return Err(std::io::Error::other("a protocol line is too long"));
    }
    serde_json::from_slice(&line)
        .map(Some)
        .map_err(std::io::Error::other)
}

/// Writes one JSON line.
pub async fn send(
    writer: &mut (impl AsyncWriteExt + Unpin),
    message: &impl serde::Serialize,
) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    line.push(b'\n');
    writer.write_all(&line).await?;
    writer.flush().await
}
