//! The pass for team feeds: channels that follow the team's tickets (`/ticket follow`, and each
//! team's feed channel) get one line per new ticket and per status change matching their filters,
//! for every ticket of the account, followed or not.
//!
//! New tickets come from a search by creation date since the last look (with an overlap for clock
//! skew, deduplicated by what the feeds have seen); status changes of tickets nobody follows come
//! from the pass's search pages, compared with the status the feeds last saw. The first look only
//! notes what exists: a feed announces what happens after it starts.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use futures::TryStreamExt;

use super::tickets::Seen;
use super::{Failures, Notifier, PassOutcome, Watcher};
use crate::domain::{
    Audience, Change, Conversation, Notification, SearchQuery, Status, Subscription, Ticket,
    TicketId,
};
use crate::store::{Store, StoreError};

/// How far back the search for new tickets reaches before the last look: Orange's clock and
/// ours may disagree, and a ticket may be created while a search runs.
const OVERLAP: TimeDelta = TimeDelta::minutes(10);
const FEED_SINCE: &str = "feed_since";

/// Every conversation following the team's tickets, with its filters (a team's feed channel has
/// none).
pub fn feeds(store: &Store) -> Result<Vec<(Conversation, Subscription)>, StoreError> {
    let mut out = store.subscriptions()?;
    for (_, settings) in store.teams()? {
        if let Some(feed) = settings.feed
            && !out.iter().any(|(c, _)| *c == feed)
        {
            out.push((feed, Subscription::default()));
        }
    }
    Ok(out)
}

/// The feed lines for a followed ticket's status change.
pub fn status_notifications(
    feeds: &[(Conversation, Subscription)],
    ticket: &Ticket,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Vec<Notification> {
    let status: Vec<Change> = changes
        .iter()
        .filter(|c| matches!(c, Change::StatusChanged { .. }))
        .cloned()
        .collect();
    if status.is_empty() {
        return Vec::new();
    }
    to_feeds(feeds, ticket, status, now)
}

fn to_feeds(
    feeds: &[(Conversation, Subscription)],
    ticket: &Ticket,
    changes: Vec<Change>,
    now: DateTime<Utc>,
) -> Vec<Notification> {
    feeds
        .iter()
        .filter(|(_, s)| s.matches(ticket.service.as_ref(), &ticket.status))
        .map(|(c, _)| {
            Notification::new(
                c.clone(),
                ticket.id.clone(),
                changes.clone(),
                Audience::Feed,
                now,
            )
        })
        .collect()
}

impl<N: Notifier> Watcher<N> {
    pub(super) async fn check_feeds(
        &self,
        seen: &Seen,
        out: &mut PassOutcome,
        failures: &mut Failures,
    ) {
        if let Err(e) = self.check_feeds_inner(seen, out, failures).await {
            failures.store("the team feeds", &e);
        }
    }

    async fn check_feeds_inner(
        &self,
        seen: &Seen,
        out: &mut PassOutcome,
        failures: &mut Failures,
    ) -> Result<(), StoreError> {
        let store = self.core.store();
        let feeds = feeds(store)?;
        if feeds.is_empty() {
            return Ok(());
        }
        let started = Utc::now();
        let followed: HashSet<TicketId> = store.tracked_tickets()?.into_iter().collect();
        let mut marks: Vec<(TicketId, Status)> = Vec::new();
        let mut unfollowed: Vec<Ticket> = Vec::new();
        let mut notifications = Vec::new();

        let since = store
            .watcher_value(FEED_SINCE)?
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|d| d.with_timezone(&Utc));
        let mut searched_new = since.is_none();
        if let Some(since) = since {
            match self.created_since(since - OVERLAP, out).await {
                Ok(new) => {
                    searched_new = true;
                    failures.orange_ok += 1;
                    for t in new {
                        if store.feed_seen(&t.id)?.is_none()
                            && !marks.iter().any(|(i, _)| *i == t.id)
                        {
                            notifications.extend(to_feeds(
                                &feeds,
                                &t,
                                vec![Change::Opened],
                                started,
                            ));
                            marks.push((t.id.clone(), t.status.clone()));
                        }
                    }
                }
                Err(e) => failures.orange("searching new tickets", &e),
            }
        }
        if seen.searched {
            for (id, t) in &seen.tickets {
                if marks.iter().any(|(i, _)| i == id) {
                    continue;
                }
                let before = store.feed_seen(id)?;
                match before {
                    // Followed tickets' changes come with their thread's (see `tickets`).
                    Some(old) if old != t.status && !followed.contains(id) => {
                        let change = Change::StatusChanged {
                            from: old,
                            to: t.status.clone(),
                            reason: t.status_change.reason.clone(),
                            at: t.status_change.date,
                        };
                        notifications.extend(to_feeds(&feeds, t, vec![change], started));
                    }
                    Some(old) if old == t.status => continue,
                    _ => {}
                }
                marks.push((id.clone(), t.status.clone()));
                if !followed.contains(id) {
                    unfollowed.push(t.clone());
                }
            }
        }
        if !marks.is_empty() || !notifications.is_empty() {
            out.changes += notifications.len();
            out.queued += notifications.len();
            store
                .record_feed(&marks, &unfollowed, &notifications)
                .await?;
        }
        if searched_new {
            store
                .set_watcher_value(FEED_SINCE, &started.to_rfc3339())
                .await?;
        }
        Ok(())
    }

    /// Every ticket created since `from` (all statuses, every page).
    async fn created_since(
        &self,
        from: DateTime<Utc>,
        out: &mut PassOutcome,
    ) -> Result<Vec<Ticket>, crate::orange::OrangeError> {
        let orange = self.core.orange();
        let query = SearchQuery {
            created_from: Some(from),
            ..SearchQuery::default()
        };
        let mut pages = std::pin::pin!(orange.search_all(query, orange.background()));
        let mut tickets = Vec::new();
        while let Some(page) = pages.try_next().await? {
            out.search_pages += 1;
            tickets.extend(page.tickets);
        }
        Ok(tickets)
    }
}
