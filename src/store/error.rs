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

impl StoreError {
    /// Whether the disk (or the user's quota) holding the store is full. sled 0.34 keeps the
    /// first failed write as a global error until the database is opened again, so a running bot
    /// cannot save anything more after this, even once space is freed: only a restart recovers.
    pub fn is_disk_full(&self) -> bool {
        let io = match self {
            StoreError::Open { source, .. } | StoreError::Backend(source) => match source {
                sled::Error::Io(e) => e,
                _ => return false,
            },
            StoreError::Private { source, .. } => source,
            _ => return false,
        };
        matches!(
            io.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: std::io::ErrorKind) -> sled::Error {
        sled::Error::Io(std::io::Error::from(kind))
    }

    #[test]
    fn a_full_disk_is_recognised_whichever_way_sled_reports_it() {
        assert!(StoreError::Backend(io(std::io::ErrorKind::StorageFull)).is_disk_full());
        assert!(StoreError::Backend(io(std::io::ErrorKind::QuotaExceeded)).is_disk_full());
        // ENOSPC from the kernel, as a write returns it.
        assert!(
            StoreError::Backend(sled::Error::Io(std::io::Error::from_raw_os_error(28)))
                .is_disk_full()
        );
        // sled's latched global error: a copy that keeps the kind, with the original as text.
        let latched = std::io::Error::new(std::io::ErrorKind::StorageFull, "Os { code: 28 }");
        assert!(StoreError::Backend(sled::Error::Io(latched)).is_disk_full());
        assert!(
            StoreError::Open {
                path: "data/store".into(),
                source: io(std::io::ErrorKind::StorageFull),
            }
            .is_disk_full()
        );
        assert!(!StoreError::Backend(io(std::io::ErrorKind::PermissionDenied)).is_disk_full());
        assert!(!StoreError::Backend(sled::Error::Unsupported("x".into())).is_disk_full());
    }
}
