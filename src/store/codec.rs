//! How values are stored: JSON, so a record stays readable with `sled` tools and tolerant of
//! added fields.

use super::StoreError;

pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(format!("encode: {e}")))
}

pub fn decode<T: serde::de::DeserializeOwned>(raw: &[u8], key: &str) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}
