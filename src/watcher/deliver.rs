//! The outbox to the notifier: oldest first, a batch at a time (a long outbox is never loaded
//! whole); an entry leaves the outbox only once delivered (or found undeliverable for good). A conversation whose transport fails keeps its later entries
//! too, so its messages never arrive out of order.

use std::collections::HashSet;

use tokio_util::sync::CancellationToken;

use super::{DeliveryError, Notifier, PassOutcome, Watcher};
use crate::domain::{Audience, Conversation, Notification};

/// How many outbox entries are read at a time.
const BATCH: usize = 256;

impl<N: Notifier> Watcher<N> {
    /// Drains the outbox a batch at a time, oldest first. Once `stop` fires, the delivery in
    /// progress completes and the entries after it stay in the outbox (counted as postponed).
    pub(super) async fn deliver(&self, out: &mut PassOutcome, stop: &CancellationToken) {
        let store = self.core.store();
        let mut held: HashSet<Conversation> = HashSet::new();
        let mut from = 0;
        loop {
            let batch = match store.pending(from, BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(error = %e, "watcher: outbox unreadable");
                    return;
                }
            };
            let Some((last, _)) = batch.last() else {
                return;
            };
            let (next, full) = (last + 1, batch.len() == BATCH);
            for (seq, n) in batch {
                if stop.is_cancelled() {
                    out.postponed += 1;
                    continue;
                }
                self.deliver_one(seq, n, &mut held, out).await;
            }
            if stop.is_cancelled() {
                return;
            }
            if !full {
                return;
            }
            from = next;
        }
    }

    /// Delivers one entry (or postpones it: a conversation in `held` keeps its order).
    async fn deliver_one(
        &self,
        seq: u64,
        n: Notification,
        held: &mut HashSet<Conversation>,
        out: &mut PassOutcome,
    ) {
        let store = self.core.store();
        if !self.notifier.serves(&n.conversation) || held.contains(&n.conversation) {
            out.postponed += 1;
            return;
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
            return;
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
                    Audience::Feed | Audience::Digest => forget_feed(store, &n.conversation).await,
                    Audience::Reporter => Ok(()),
                };
                if let Err(e) = forgotten {
                    tracing::error!(error = %e, "could not forget a gone conversation");
                }
                out.undeliverable += 1;
                true
            }
            // A person who does not accept direct messages is not an operator's problem.
            Err(DeliveryError::Refused(why)) if n.audience == Audience::Reporter => {
                tracing::info!(ticket.id = %n.ticket, %why,
                    "the reporter does not accept direct messages; not notified");
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
