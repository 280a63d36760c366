//! The host's side of the guest protocol: one unix-socket connection per
//! request to the agent inside a sandbox.

use std::{path::PathBuf, time::Duration};

use tokio::{
    io::{AsyncWriteExt, BufReader},
    net::UnixStream,
};

use super::{
    guest_protocol::{read_line, send},
    guest_protocol::{ErrorKind, GuestError, Reply, Request, Spawn, SpawnEvent},
};
use ollio_sandbox::wire::EntryInfo;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Guest(#[from] GuestError),
    #[error("the sandbox does not answer: {0}")]
    Down(#[from] std::io::Error),
    #[error("the sandbox answered out of turn")]
    Unexpected,
}

impl LinkError {
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Guest(error) => Some(error.kind),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct GuestLink {
    socket: PathBuf,
}

impl GuestLink {
    pub fn new(socket: PathBuf) -> Self {
        Self { socket }
    }

    async fn open(&self, request: &Request) -> Result<UnixStream, LinkError> {
        let mut stream = UnixStream::connect(&self.socket).await?;
        send(&mut stream, request).await?;
        Ok(stream)
    }

    /// Waits until the agent answers, up to `patience`. The socket exists
    /// before the agent starts (the host binds it), so this asks and waits
    /// for an answer rather than only connecting.
    pub async fn wait_ready(&self, patience: Duration) -> bool {
        tokio::time::timeout(patience, self.call(&Request::Ping))
            .await
            .is_ok_and(|reply| matches!(reply, Ok(Reply::Done)))
    }

    /// A request answered by one reply line.
    pub async fn call(&self, request: &Request) -> Result<Reply, LinkError> {
        let stream = self.open(request).await?;
        let mut reader = BufReader::new(stream);
        match read_line::<Reply>(&mut reader).await? {
            Some(Reply::Failed(error)) => Err(error.into()),
            Some(reply) => Ok(reply),
            None => Err(LinkError::Unexpected),
        }
    }

    pub async fn entry(&self, request: &Request) -> Result<EntryInfo, LinkError> {
        match self.call(request).await? {
            Reply::Entry(entry) => Ok(entry),
            _ => Err(LinkError::Unexpected),
        }
    }

    /// Opens a file for reading: its size, then a stream of exactly that
    /// many bytes.
    pub async fn read(&self, path: &str) -> Result<(u64, BufReader<UnixStream>), LinkError> {
        let stream = self.open(&Request::Read { path: path.into() }).await?;
        let mut reader = BufReader::new(stream);
        match read_line::<Reply>(&mut reader).await? {
            Some(Reply::Size(size)) => Ok((size, reader)),
            Some(Reply::Failed(error)) => Err(error.into()),
            _ => Err(LinkError::Unexpected),
        }
    }

    pub async fn write(&self, path: &str, bytes: &[u8]) -> Result<EntryInfo, LinkError> {
        let request = Request::Write {
            path: path.into(),
            size: bytes.len() as u64,
        };
        let mut stream = self.open(&request).await?;
        stream.write_all(bytes).await?;
        stream.flush().await?;
        let mut reader = BufReader::new(stream);
        match read_line::<Reply>(&mut reader).await? {
            Some(Reply::Entry(entry)) => Ok(entry),
            Some(Reply::Failed(error)) => Err(error.into()),
            _ => Err(LinkError::Unexpected),
        }
    }

    /// Starts a command; its events follow on the returned stream.
    pub async fn spawn(&self, spawn: Spawn) -> Result<SpawnEvents, LinkError> {
        let stream = self.open(&Request::Spawn(spawn)).await?;
        Ok(SpawnEvents {
            reader: BufReader::new(stream),
        })
    }

    /// A connection to `port` inside the sandbox.
    pub async fn forward(&self, port: u16) -> Result<UnixStream, LinkError> {
        let stream = self.open(&Request::Forward { port }).await?;
        let mut reader = BufReader::new(stream);
        match read_line::<Reply>(&mut reader).await? {
            Some(Reply::Done) if reader.buffer().is_empty() => Ok(reader.into_inner()),
            Some(Reply::Failed(error)) => Err(error.into()),
            _ => Err(LinkError::Unexpected),
        }
    }
}

pub struct SpawnEvents {
    reader: BufReader<UnixStream>,
}

impl SpawnEvents {
    /// The next event, `None` when the guest closed the stream.
    pub async fn next(&mut self) -> Result<Option<SpawnEvent>, LinkError> {
        Ok(read_line(&mut self.reader).await?)
    }
}
