//! Connect-RPC envelope framing, as used by E2B's envd for streaming calls.
//!
//! Every message of a streaming request or response is an envelope: one flag
//! byte, a 4-byte big-endian length, then that many bytes of payload (JSON
//! here). The last envelope of a response has the end-of-stream flag and
//! carries `{"error": {"code", "message"}}` when the call failed.

use serde::Deserialize;

/// The payload is compressed (we never ask for compression, so this is refused).
pub const FLAG_COMPRESSED: u8 = 0x01;
/// The envelope ends the stream; its payload is the end-of-stream JSON.
pub const FLAG_END_STREAM: u8 = 0x02;
const HEADER_LEN: usize = 5;

/// Wraps `payload` in one envelope.
pub fn encode(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
    frame.push(flags);
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// One decoded envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Message(Vec<u8>),
    End(Option<ConnectError>),
}

/// An error reported by the server in the end-of-stream envelope.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ConnectError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the stream sent a compressed message, which was not asked for")]
    Compressed,
    #[error("a message of {len} bytes is over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("the end-of-stream message is not valid JSON: {0}")]
    BadEnd(String),
    #[error("the stream ended inside a message")]
    Truncated,
}

#[derive(Deserialize)]
struct EndStream {
    error: Option<ConnectError>,
}

/// Splits a byte stream, fed in chunks of any size, into envelopes.
#[derive(Debug)]
pub struct Decoder {
    buffer: Vec<u8>,
    max_len: usize,
}

impl Decoder {
    pub fn new(max_len: usize) -> Self {
        Self {
            buffer: Vec::new(),
            max_len,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next whole envelope, or `None` until more bytes arrive.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let Some(header) = self.buffer.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let flags = header[0];
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if len > self.max_len {
            return Err(FrameError::TooLarge {
                len,
                max: self.max_len,
            });
        }
        if flags & FLAG_COMPRESSED != 0 {
            return Err(FrameError::Compressed);
        }
        if self.buffer.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let payload: Vec<u8> = self
            .buffer
            .drain(..HEADER_LEN + len)
            .skip(HEADER_LEN)
            .collect();
        if flags & FLAG_END_STREAM != 0 {
            let end: EndStream = if payload.is_empty() {
                EndStream { error: None }
            } else {
                serde_json::from_slice(&payload)
                    .map_err(|error| FrameError::BadEnd(error.to_string()))?
            };
            return Ok(Some(Frame::End(end.error)));
        }
        Ok(Some(Frame::Message(payload)))
    }

    /// Call when the byte stream is over: leftover bytes mean a cut stream.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buffer.is_empty() {
            Ok(())
        } else {
            Err(FrameError::Truncated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_messages_fed_a_byte_at_a_time() {
        let mut bytes = encode(0, br#"{"event":{"start":{"pid":7}}}"#);
        bytes.extend(encode(0, b""));
        bytes.extend(encode(FLAG_END_STREAM, b"{}"));
        let mut decoder = Decoder::new(1 << 20);
        let mut frames = Vec::new();
        for byte in bytes {
            decoder.push(&[byte]);
            while let Some(frame) = decoder.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        decoder.finish().unwrap();
        assert_eq!(
            frames,
            [
                Frame::Message(br#"{"event":{"start":{"pid":7}}}"#.to_vec()),
                Frame::Message(Vec::new()),
                Frame::End(None),
            ]
        );
    }

    #[test]
    fn reads_the_error_at_the_end_of_the_stream() {
        let mut decoder = Decoder::new(1024);
        decoder.push(&encode(
            FLAG_END_STREAM,
            br#"{"error":{"code":"deadline_exceeded","message":"command timed out"},"metadata":{}}"#,
        ));
        let Some(Frame::End(Some(error))) = decoder.next_frame().unwrap() else {
            panic!("expected an error");
        };
        assert_eq!(error.to_string(), "deadline_exceeded: command timed out");
    }

    #[test]
    fn refuses_oversized_compressed_and_cut_streams() {
        let mut decoder = Decoder::new(4);
        decoder.push(&encode(0, b"too long"));
        assert_eq!(
            decoder.next_frame(),
            Err(FrameError::TooLarge { len: 8, max: 4 })
        );

        let mut decoder = Decoder::new(1024);
        decoder.push(&encode(FLAG_COMPRESSED, b"x"));
        assert_eq!(decoder.next_frame(), Err(FrameError::Compressed));

        let mut decoder = Decoder::new(1024);
        decoder.push(&encode(0, b"hello")[..4]);
        assert_eq!(decoder.next_frame(), Ok(None));
        assert_eq!(decoder.finish(), Err(FrameError::Truncated));

        let mut decoder = Decoder::new(1024);
        decoder.push(&encode(FLAG_END_STREAM, b"not json"));
        assert!(matches!(decoder.next_frame(), Err(FrameError::BadEnd(_))));
    }
}
