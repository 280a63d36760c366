//! Connections to ports inside the sandbox's own network namespace: how
//! previews reach a dev server that listens only on the sandbox's loopback.

use tokio::net::{TcpStream, UnixStream};

use crate::guest_protocol::{send, ErrorKind, GuestError, Reply};

pub(super) async fn forward(mut stream: UnixStream, port: u16) -> std::io::Result<()> {
    match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(mut tcp) => {
            send(&mut stream, &Reply::Done).await?;
            tokio::io::copy_bidirectional(&mut stream, &mut tcp).await?;
            Ok(())
        }
        Err(error) => {
            let reply = Reply::Failed(GuestError::new(
                ErrorKind::Refused,
                format!("nothing listens on port {port}: {error}"),
            ));
            send(&mut stream, &reply).await
        }
    }
}
