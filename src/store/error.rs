//! `StoreError`: every way the store can fail.

use std::path::PathBuf;

use sled::transaction::TransactionError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error(
        "the store at {path} was written by a newer version (schema {found}; this build reads up to {supported}); upgrade the bot or point store.path elsewhere"
    )]
    Newer {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "{path} holds a database that is not this bot's; point store.path at an empty or bot-owned directory"
    )]
    Foreign { path: PathBuf },
    #[error("store failure: {0}")]
    Backend(String),
    /// The runtime stopped the store's blocking task before it ran (it is shutting down).
    #[error("the store's work was interrupted: {0}")]
    Interrupted(#[source] tokio::task::JoinError),
    #[error("stored record `{key}` is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}
