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
pub async fn feeds(store: &Store) -> Result<Vec<(Conversation, Subscription)>, StoreError> {
    let mut out = store.subscriptions().await?;
    for (_, settings) in store.teams().await? {
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
        let feeds = feeds(store).await?;
        if feeds.is_empty() {
            // With no feed, nothing is looked at: the next feed starts from what exists then.
            if store.watcher_value(FEED_SINCE)?.is_some() {
                store.set_watcher_value(FEED_SINCE, "").await?;
            }
            return Ok(());
        }
        let started = Utc::now();
        let since = store
            .watcher_value(FEED_SINCE)?
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|d| d.with_timezone(&Utc));
        let followed: HashSet<TicketId> = store.tracked_tickets().await?.into_iter().collect();
        let mut batch = FeedBatch {
            feeds: &feeds,
            now: started,
            new_since: since.map(|s| s - OVERLAP),
            followed: &followed,
            marked: HashSet::new(),
            marks: Vec::new(),
            unfollowed: Vec::new(),
            notifications: Vec::new(),
        };
        let mut looked_for_new = since.is_none();
        if let Some(since) = since
            && !failures.looks_down()
        {
            match self.created_since(since - OVERLAP, out).await {
                Ok((new, complete)) => {
                    failures.orange_ok += 1;
                    looked_for_new = complete;
                    for t in &new {
                        batch.see(store, t)?;
                    }
                }
                Err(e) => failures.orange("searching new tickets", &e),
            }
        }
        if seen.searched {
            for t in seen.tickets.values() {
                batch.see(store, t)?;
            }
            if seen.complete && since.is_some() {
                self.read_gone_from_pages(seen, &mut batch, out, failures)
                    .await?;
            }
        }
        out.changes += batch.notifications.len();
        out.queued += batch.notifications.len();
        if !batch.marks.is_empty() {
            store
                .record_feed(&batch.marks, &batch.unfollowed, &batch.notifications)
                .await?;
        }
        if looked_for_new {
            store
                .set_watcher_value(FEED_SINCE, &started.to_rfc3339())
                .await?;
        }
        Ok(())
    }

    /// Tickets nobody follows that the feeds last saw open and that are on no page now: most
    /// likely final, which only a read can tell (and which no open-status search shows). Read
    /// within the per-pass budget of quiet reads.
    async fn read_gone_from_pages(
        &self,
        seen: &Seen,
        batch: &mut FeedBatch<'_>,
        out: &mut PassOutcome,
        failures: &mut Failures,
    ) -> Result<(), StoreError> {
        let store = self.core.store();
        let gone: Vec<TicketId> = store
            .feed_seen_all()
            .await?
            .into_iter()
            .filter(|(id, status)| {
                !status.is_final()
                    && !seen.tickets.contains_key(id)
                    && !batch.followed.contains(id)
                    && !batch.marked.contains(id)
            })
            .map(|(id, _)| id)
            .take(self.options.quiet_gets_per_pass)
            .collect();
        let orange = self.core.orange();
        for id in gone {
            out.gets += 1;
            match orange.get_ticket(&id, orange.background()).await {
                Ok(t) => {
                    failures.orange_ok += 1;
                    batch.see(store, &t)?;
                }
                Err(e) => failures.orange(&format!("reading ticket {id}"), &e),
            }
        }
        Ok(())
    }

    /// Every ticket created since `from` (all statuses, every page), and whether every page
    /// was read whole.
    async fn created_since(
        &self,
        from: DateTime<Utc>,
        out: &mut PassOutcome,
    ) -> Result<(Vec<Ticket>, bool), crate::orange::OrangeError> {
        let orange = self.core.orange();
        let query = SearchQuery {
            created_from: Some(from),
            ..SearchQuery::default()
        };
        let mut pages = std::pin::pin!(orange.search_all(query, orange.background()));
        let mut tickets = Vec::new();
        let mut complete = true;
        while let Some(page) = pages.try_next().await? {
            out.search_pages += 1;
            complete &= page.rejected.is_empty();
            tickets.extend(page.tickets);
        }
        Ok((tickets, complete))
    }
}

/// What one pass tells the feeds, written in one transaction at its end.
struct FeedBatch<'a> {
    feeds: &'a [(Conversation, Subscription)],
    now: DateTime<Utc>,
    /// Tickets created since then are new to the feeds; `None` on the first look (a baseline).
    new_since: Option<DateTime<Utc>>,
    followed: &'a HashSet<TicketId>,
    marked: HashSet<TicketId>,
    marks: Vec<(TicketId, Status)>,
    unfollowed: Vec<Ticket>,
    notifications: Vec<Notification>,
}

impl FeedBatch<'_> {
    /// Compares a ticket with what the feeds saw of it. New to them: announced as opened when
    /// created since the last look. A new status: announced, unless the ticket is followed (its
    /// change is announced with its thread's, see `tickets`).
    fn see(&mut self, store: &Store, t: &Ticket) -> Result<(), StoreError> {
        if self.marked.contains(&t.id) {
            return Ok(());
        }
        match store.feed_seen(&t.id)? {
            Some(old) if old == t.status => return Ok(()),
            Some(old) => {
                if !self.followed.contains(&t.id) {
                    let change = Change::StatusChanged {
                        from: old,
                        to: t.status.clone(),
                        reason: t.status_change.reason.clone(),
                        at: t.status_change.date,
                    };
                    self.notifications
                        .extend(to_feeds(self.feeds, t, vec![change], self.now));
                }
            }
            None => {
                let new = match (self.new_since, t.created) {
                    (Some(since), Some(created)) => created >= since,
                    _ => false,
                };
                if new {
                    self.notifications.extend(to_feeds(
                        self.feeds,
                        t,
                        vec![Change::Opened],
                        self.now,
                    ));
                }
            }
        }
        self.marked.insert(t.id.clone());
        self.marks.push((t.id.clone(), t.status.clone()));
        if !self.followed.contains(&t.id) {
            self.unfollowed.push(t.clone());
        }
        Ok(())
    }
}
