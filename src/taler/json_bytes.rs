//! A JSON body encoded once, straight from the value: published in the spec as `T`
//! (like `Json<T>`), sent as its bytes.
//!
//! poem-openapi's `Json<T>` builds a `serde_json::Value` tree of the answer first (a map
//! and a string per field and row) and then writes it out. A page of the bank's
//! histories, polled all the time, and the answer that a wake sends to every poller of
//! the page, are written by serde directly instead, once; the types implement
//! `serde::Serialize` to the same bytes as their `ToJSON` (a test of each type checks).

use std::marker::PhantomData;

use bytes::Bytes;
use poem::{IntoResponse, Response};
use poem_openapi::{
    payload::Payload,
    registry::{MetaSchemaRef, Registry},
    types::Type,
};

/// The same as `Json<T>`'s.
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

pub struct JsonBytes<T> {
    bytes: Bytes,
    of: PhantomData<fn() -> T>,
}

// Not derived: `T` need not be `Clone`.
impl<T> Clone for JsonBytes<T> {
    fn clone(&self) -> Self {
        JsonBytes {
            bytes: self.bytes.clone(),
            of: PhantomData,
        }
    }
}

impl<T: serde::Serialize> JsonBytes<T> {
    pub fn encode(value: &T) -> Self {
        Self::encode_into(value, Vec::new())
    }

    /// [`encode`](Self::encode) into a buffer of about the size it will take: a page
    /// grown from serde's 128 bytes by doubling was copied five times on the way.
    pub fn encode_sized(value: &T, size: usize) -> Self {
        Self::encode_into(value, Vec::with_capacity(size))
    }

    fn encode_into(value: &T, mut buffer: Vec<u8>) -> Self {
        // Writing into a Vec fails only for a map with non-string keys, which no API
        // type has.
        if serde_json::to_writer(&mut buffer, value).is_err() {
            buffer.clear();
        }
        JsonBytes {
            bytes: buffer.into(),
            of: PhantomData,
        }
    }
}

impl<T> JsonBytes<T> {
    /// The encoded bytes, to keep where `T` cannot be named (the shared pages of
    /// `AppState`).
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Bytes that [`JsonBytes::encode`] of a `T` produced, back as what they are.
    pub fn from_encoded(bytes: Bytes) -> Self {
        JsonBytes {
            bytes,
            of: PhantomData,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl<T: Type> Payload for JsonBytes<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for JsonBytes<T> {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(CONTENT_TYPE)
            .body(self.bytes)
    }
}
