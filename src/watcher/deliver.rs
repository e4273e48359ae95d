//! The outbox to the notifier: oldest first; an entry leaves the outbox only once delivered (or
//! found undeliverable for good). A conversation whose transport fails keeps its later entries
//! too, so its messages never arrive out of order.

use std::collections::HashSet;

use super::{DeliveryError, Notifier, PassOutcome, Watcher};
use crate::domain::{Audience, Conversation};

impl<N: Notifier> Watcher<N> {
    pub(super) async fn deliver(&self, out: &mut PassOutcome) {
        let store = self.core.store();
        let pending = match store.pending().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "watcher: outbox unreadable");
                return;
            }
        };
        let mut held: HashSet<Conversation> = HashSet::new();
        for (seq, n) in pending {
            if !self.notifier.serves(&n.conversation) || held.contains(&n.conversation) {
                out.postponed += 1;
                continue;
            }
            // A thread relinked to another ticket (or unlinked) meanwhile no longer wants this.
            if n.audience == Audience::Thread
                && store.ticket_for(&n.conversation).ok().flatten().as_ref() != Some(&n.ticket)
            {
                tracing::info!(conversation = %n.conversation, ticket.id = %n.ticket,
                    "no longer linked there; notification dropped");
                if let Err(e) = store.ack(seq).await {
                    tracing::error!(error = %e, seq, "could not remove a notification");
                }
                continue;
            }
            let ticket = store.snapshot(&n.ticket).ok().flatten();
            let result = self.notifier.deliver(&n, ticket.as_ref()).await;
            let done = match result {
                Ok(()) => {
                    out.delivered += 1;
                    true
                }
                Err(DeliveryError::Retry(why)) => {
                    tracing::warn!(conversation = %n.conversation, %why, "delivery postponed");
                    held.insert(n.conversation.clone());
                    out.postponed += 1;
                    false
                }
                Err(DeliveryError::Gone(why)) => {
                    tracing::warn!(conversation = %n.conversation, ticket.id = %n.ticket, %why,
                        "conversation is gone: unlinked, its notifications dropped");
                    let forgotten = match n.audience {
                        Audience::Thread => store.unlink(&n.conversation).await.map(drop),
                        Audience::Feed => forget_feed(store, &n.conversation).await,
                    };
                    if let Err(e) = forgotten {
                        tracing::error!(error = %e, "could not forget a gone conversation");
                    }
                    out.undeliverable += 1;
                    true
                }
                Err(DeliveryError::Refused(why)) => {
                    tracing::error!(conversation = %n.conversation, ticket.id = %n.ticket, %why,
                        "notification refused by the transport; dropped");
                    out.undeliverable += 1;
                    true
                }
            };
            if done && let Err(e) = store.ack(seq).await {
                tracing::error!(error = %e, seq, "could not remove a delivered notification");
            }
        }
    }
}

/// A feed channel that is gone: its subscription, and any team's feed setting naming it.
async fn forget_feed(
    store: &crate::store::Store,
    conversation: &Conversation,
) -> Result<(), crate::store::StoreError> {
    store.unsubscribe(conversation).await?;
    for (team, mut settings) in store.teams().await? {
        if settings.feed.as_ref() == Some(conversation) {
            settings.feed = None;
            store.set_team_settings(&team, &settings).await?;
        }
    }
    Ok(())
}
