//! `StoreError`: every way the store can fail, with the underlying error kept as its source.

use std::path::PathBuf;

use sled::transaction::TransactionError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: it is a file, not a directory")]
    NotADirectory { path: PathBuf },
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("cannot make the store at {path} readable by its owner only: {source}")]
    Private {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
    /// sled failed (I/O, a corrupt page, a bug it reports).
    #[error("store failure: {0}")]
    Backend(#[from] sled::Error),
    /// A value could not be encoded for storage.
    #[error("cannot encode a record: {0}")]
    Encode(#[source] serde_json::Error),
    /// A stored value is not what this build reads.
    #[error("stored record `{key}` is unreadable: {source}")]
    Undecodable {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// A stored key is not in its tree's format.
    #[error("stored record `{key}` is unreadable: {reason}")]
    Corrupt { key: String, reason: &'static str },
    /// The runtime stopped the store's blocking task before it ran (it is shutting down).
    #[error("the store's work was interrupted: {0}")]
    Interrupted(#[source] tokio::task::JoinError),
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}
