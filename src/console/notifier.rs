//! The watcher's console side: notifications for console sessions become text the console
//! prints between commands (and while `/wait` waits).

use tokio::sync::mpsc;

use chrono::{DateTime, Utc};

use crate::core::BoardSurface;
use crate::domain::{Audience, Notification, Status, Ticket, Transport};
use crate::render::{digest, notice, text};
use crate::store::Store;
use crate::watcher::{DeliveryError, Notifier};

/// Hands each notification's text to the console.
#[derive(Debug, Clone)]
pub struct ConsoleNotifier {
    tx: mpsc::UnboundedSender<String>,
    store: Store,
}

impl ConsoleNotifier {
    /// The notifier and the receiving end the console prints from.
    pub fn channel(store: Store) -> (Self, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (ConsoleNotifier { tx, store }, rx)
    }

    fn timeline(&self, n: &Notification) -> Vec<(Status, DateTime<Utc>)> {
        self.store.timeline(&n.ticket).unwrap_or_default()
    }
}

/// The console shows the board on request and keeps none.
impl BoardSurface for ConsoleNotifier {}

impl Notifier for ConsoleNotifier {
    fn serves(&self, conversation: &crate::domain::Conversation) -> bool {
        conversation.transport == Transport::Console
    }

    async fn deliver(
        &self,
        n: &Notification,
        ticket: Option<&Ticket>,
    ) -> Result<(), DeliveryError> {
        let reply = match n.audience {
            Audience::Thread | Audience::Reporter => notice::thread(n, ticket, &self.timeline(n)),
            Audience::Feed => notice::feed(n, ticket, None),
            Audience::Digest => digest::notice(n),
        };
        let about = match n.audience {
            Audience::Digest => "digest".to_owned(),
            Audience::Thread | Audience::Feed | Audience::Reporter => {
                format!("ticket {}", n.ticket)
            }
        };
        let mut shown = format!("[{about}] {}", text::reply(&reply));
        if !shown.ends_with('\n') {
            shown.push('\n');
        }
        // Nobody to print it: the console has ended; the entry waits for the next session.
        self.tx
            .send(shown)
            .map_err(|_| DeliveryError::Retry("the console has ended".into()))
    }
}
