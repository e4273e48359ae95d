//! The pass's nudges: a followed ticket on which Orange has been silent longer than the team's
//! threshold for its status gets one message in each of its conversations, once per silence. The
//! message and the record of the silence are written in one transaction.

use std::collections::BTreeMap;

use super::{Failures, Notifier, PassOutcome, Watcher};
use crate::core::{nudged_key, silent_since};
use crate::domain::{Audience, Change, Conversation, Notification, TicketId};

impl<N: Notifier> Watcher<N> {
    pub(super) async fn check_nudges(&self, out: &mut PassOutcome, failures: &mut Failures) {
        let store = self.core.store();
        let links = match store.links_by_ticket().await {
            Ok(links) => links,
            Err(e) => {
                failures.store("reading the links for nudges", &e);
                return;
            }
        };
        let mut homes: BTreeMap<TicketId, Vec<Conversation>> = BTreeMap::new();
        for (conversation, ticket) in links {
            homes.entry(ticket).or_default().push(conversation);
        }
        let now = self.core.clock().now();
        let thresholds = &self.core.settings().nudges;
        for (id, conversations) in homes {
            let ticket = match store.snapshot(&id) {
                Ok(Some(t)) if !t.status.is_final() => t,
                Ok(_) => continue,
                Err(e) => {
                    failures.store("reading a snapshot for nudges", &e);
                    continue;
                }
            };
            let (Some(after), Some(since)) =
                (thresholds.after(&ticket.status), silent_since(&ticket))
            else {
                continue;
            };
            if now - since < after {
                continue;
            }
            let change = Change::Quiet {
                status: ticket.status.clone(),
                since,
            };
            let notifications: Vec<Notification> = conversations
                .into_iter()
                .map(|c| {
                    Notification::new(c, id.clone(), vec![change.clone()], Audience::Thread, now)
                })
                .collect();
            let silence = since.timestamp_millis().to_string();
            match store
                .queue_once(&nudged_key(&id), &silence, &notifications)
                .await
            {
                Ok(true) => {
                    out.nudges += 1;
                    out.queued += notifications.len();
                }
                Ok(false) => {}
                Err(e) => failures.store("queueing a nudge", &e),
            }
        }
    }
}
