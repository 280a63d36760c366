//! Server-loaded resources, decoded the way server functions decode.
//!
//! A resource's value reaches the browser twice over: in the page (the
//! hydration data, a string) and, when it reloads, as a server function's
//! answer (bytes). Leptos' default codec parses the first with
//! `serde_json::from_str` and server functions the second with
//! `serde_json::from_slice`, and each compiles its own copy of every
//! deserializer involved into the WASM. [`SliceJson`] parses both as bytes,
//! so each type's deserializer is compiled once.

use codee::{Decoder, Encoder};
use leptos::prelude::Resource;
use serde::{de::DeserializeOwned, Serialize};

/// JSON, parsed from bytes (see the module's note).
pub struct SliceJson;

impl<T: Serialize> Encoder<T> for SliceJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for SliceJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

/// A resource whose value the server renders into the page.
pub type Loaded<T> = Resource<T, SliceJson>;

/// [`Resource::new`], with [`SliceJson`].
#[track_caller]
pub fn load<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_the_round_trip() {
        let value = (String::from("héllo \"world\""), vec![Some(1u32), None]);
        let encoded = <SliceJson as Encoder<_>>::encode(&value).unwrap();
        let back: (String, Vec<Option<u32>>) = SliceJson::decode(&encoded).unwrap();
        assert_eq!(back, value);
        assert!(<SliceJson as Decoder<u32>>::decode("\"x\"").is_err());
    }
}
