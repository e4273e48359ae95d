//! Where a ticket lives in a transport: its "home" conversation. The console links its own
//! session; Discord opens a thread with a header card. The core decides when a home is needed
//! (create, link) and stores the link; the transport makes it.

use std::future::Future;

use crate::domain::{Actor, Conversation, Ticket};

/// A ticket's conversation, and its header card there (the transport's message id) if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub conversation: Conversation,
    pub card: Option<String>,
}

/// Why a transport could not make a home; for the logs.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct HomeError(pub String);

/// Makes (or picks) the conversation a ticket lives in.
pub trait Homes: Sync {
    fn open(
        &self,
        actor: &Actor,
        ticket: &Ticket,
    ) -> impl Future<Output = Result<Home, HomeError>> + Send;
}

/// The actor's own conversation is the home (the console; a Discord thread that adopts a ticket).
#[derive(Debug, Clone, Copy, Default)]
pub struct Here;

impl Homes for Here {
    async fn open(&self, actor: &Actor, _ticket: &Ticket) -> Result<Home, HomeError> {
        Ok(Home {
            conversation: actor.conversation.clone(),
            card: None,
        })
    }
}

/// Why a transport did not deliver (a notification, a board).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Try again later (rate limited, the transport is down).
    #[error("will retry: {0}")]
    Retry(String),
    /// The conversation no longer exists: it is unlinked (or unsubscribed).
    #[error("conversation gone: {0}")]
    Gone(String),
    /// The transport refuses this delivery for good (no permission): reported and dropped.
    #[error("refused: {0}")]
    Refused(String),
}
