//! How values and keys are stored: values as JSON, so a record stays readable with `sled` tools
//! and tolerant of added fields; keys as the UTF-8 of a conversation key or a ticket id, or a
//! big-endian sequence number.

use super::StoreError;
use crate::domain::{Conversation, TicketId};

pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(StoreError::Encode)
}

pub fn decode<T: serde::de::DeserializeOwned>(raw: &[u8], key: &str) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|source| StoreError::Undecodable {
        key: key.to_owned(),
        source,
    })
}

pub fn conversation_from_bytes(raw: &[u8]) -> Result<Conversation, StoreError> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(Conversation::from_key)
        .ok_or_else(|| StoreError::Corrupt {
            key: String::from_utf8_lossy(raw).into_owned(),
            reason: "not a conversation key",
        })
}

pub fn ticket_from_bytes(raw: &[u8]) -> Result<TicketId, StoreError> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| TicketId::parse(s).ok())
        .ok_or_else(|| StoreError::Corrupt {
            key: String::from_utf8_lossy(raw).into_owned(),
            reason: "not a ticket id",
        })
}

pub fn get<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    key: &str,
) -> Result<Option<T>, StoreError> {
    tree.get(key.as_bytes())?
        .map(|v| decode(&v, key))
        .transpose()
}

/// Stores an encoded value under a string key.
pub fn put(tree: &sled::Tree, key: &str, encoded: Vec<u8>) -> Result<(), StoreError> {
    tree.insert(key.as_bytes(), encoded)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_value_keeps_the_decoder_error_as_its_source() {
        let err = decode::<TicketId>(b"{not json", "snapshot 1").unwrap_err();
        let source = std::error::Error::source(&err).expect("a source");
        assert!(source.is::<serde_json::Error>(), "{source:?}");
        assert!(
            err.to_string().contains("`snapshot 1` is unreadable"),
            "{err}"
        );
    }
}
