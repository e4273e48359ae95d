//! `CoreError`: the one error type of the use cases. Its `user_message` is what a person sees;
//! the `Display`/source chain is for logs.

use crate::orange::OrangeError;
use crate::store::StoreError;

/// What a user is told when the store's disk is full.
pub const DISK_FULL: &str = "The bot's disk is full, so this was not saved; an administrator must free space on the bot's server, then restart it.";

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The user's input is wrong; the message says what and how to fix it.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The actor may not do this here.
    #[error("denied: {0}")]
    Denied(String),
    #[error(transparent)]
    Orange(#[from] OrangeError),
    /// The bot's own storage failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The transport could not make the ticket's conversation (e.g. Discord refused a thread).
    #[error("home: {0}")]
    Home(String),
}

impl CoreError {
    /// What kind of failure this is, as the metrics count it.
    pub fn kind(&self) -> &'static str {
        match self {
            CoreError::Invalid(_) => "invalid",
            CoreError::Denied(_) => "denied",
            CoreError::Orange(_) => "orange_error",
            CoreError::Store(_) => "store_error",
            CoreError::Home(_) => "home_error",
        }
    }

    /// One short sentence, safe to show: no upstream bodies, URLs or tokens.
    pub fn user_message(&self) -> String {
        match self {
            CoreError::Invalid(m) | CoreError::Denied(m) => m.clone(),
            CoreError::Orange(e) => e.user_message(),
            // sled keeps a failed write's error until the store is opened again (see
            // `StoreError::is_disk_full`): freeing space alone does not make the bot save again.
            CoreError::Store(e) if e.is_disk_full() => DISK_FULL.into(),
            CoreError::Store(_) => {
                "The bot could not save its data; an administrator has been notified in the logs."
                    .into()
            }
            CoreError::Home(_) => {
                "The bot could not open a conversation for the ticket here; check its permissions."
                    .into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named_to_the_user_and_other_store_failures_are_not() {
        let full = CoreError::Store(StoreError::Backend(sled::Error::Io(
            std::io::Error::from_raw_os_error(28),
        )));
        assert_eq!(full.user_message(), DISK_FULL);
        let other = CoreError::Store(StoreError::Corrupt {
            key: "k".into(),
            reason: "r",
        });
        assert!(
            !other.user_message().contains("disk"),
            "{}",
            other.user_message()
        );
    }
}
