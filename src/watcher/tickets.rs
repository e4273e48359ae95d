//! The pass over followed tickets: read them (see `plan`), diff each against its snapshot, and
//! record the snapshot with the notifications it causes, in one transaction.

use std::collections::HashMap;

use chrono::Utc;
use futures::StreamExt;

use super::plan::{self, NON_FINAL, Strategy};
use super::{Failures, Notifier, PassOutcome, Watcher};
use crate::core::is_bot_note;
use crate::domain::SearchPage;
use crate::domain::{
    Audience, Change, Conversation, Notification, SearchQuery, Status, StatusFilter, Subscription,
    Ticket, TicketId, diff,
};
use crate::orange::OrangeError;

/// Where the round of quiet tickets resumes (a watcher value).
pub(super) const CURSOR: &str = "quiet_cursor";

/// What the searches of a pass saw: every ticket on their pages, and whether every page was read
/// whole. Team feeds use it too.
#[derive(Debug, Default)]
pub struct Seen {
    pub tickets: HashMap<TicketId, Ticket>,
    pub complete: bool,
    pub searched: bool,
}

impl<N: Notifier> Watcher<N> {
    /// Reads the open followed tickets and records what changed; returns what the searches saw.
    pub(super) async fn check_tickets(
        &mut self,
        out: &mut PassOutcome,
        failures: &mut Failures,
    ) -> Seen {
        let store = self.core.store().clone();
        let open = match open_tickets(&store).await {
            Ok(open) => open,
            Err(e) => {
                failures.store("reading the followed tickets", &e);
                return Seen::default();
            }
        };
        out.tracked = open.len();
        let feeds = match super::feeds::feeds(&store).await {
            Ok(feeds) => feeds,
            Err(e) => {
                failures.store("reading the feeds", &e);
                Vec::new()
            }
        };
        let (to_get, seen) = self
            .plan_reads(&open, !feeds.is_empty(), out, failures)
            .await;
        if !failures.looks_down() {
            self.read_and_record(to_get, &feeds, out, failures).await;
        }
        seen
    }

    /// Which tickets to read whole this pass (and what the searches saw, if it searched).
    async fn plan_reads(
        &mut self,
        open: &[(TicketId, Option<Ticket>)],
        feeds: bool,
        out: &mut PassOutcome,
        failures: &mut Failures,
    ) -> (Vec<TicketId>, Seen) {
        let page_size = self.core.settings().orange.search.page_size;
        let budget = self.options.quiet_gets_per_pass;
        let account_open = self.account_open.unwrap_or(open.len());
        let mut to_get = match plan::strategy(open.len(), account_open, page_size, budget, feeds) {
            Strategy::Gets => {
                return (
                    open.iter().map(|(id, _)| id.clone()).collect(),
                    Seen::default(),
                );
            }
            Strategy::Searches => Vec::new(),
        };
        let seen = self.search_open(out, failures).await;
        if seen.complete {
            self.account_open = Some(seen.tickets.len());
        }
        if failures.looks_down() {
            // Every search failed for want of Orange: the reads would wait it out too.
            return (to_get, seen);
        }
        let (gets, cursor) = plan::gets_after_search(open, &seen.tickets, budget, self.cursor);
        to_get = gets;
        self.cursor = cursor;
        // Kept across restarts, so the tickets late in the round get their turn too.
        if let Err(e) = self
            .core
            .store()
            .set_watcher_value(CURSOR, &cursor.to_string())
            .await
        {
            failures.store("saving the round of quiet tickets", &e);
        }
        (to_get, seen)
    }

    /// Reads tickets whole, `concurrency` at a time, and records each.
    ///
    /// At most `max_gets_per_pass` reads: moved and missing tickets come first in `to_get`, so
    /// what waits for the next pass is quiet tickets first; a moved one still shows as moved then.
    /// (Searches are not capped: their count follows the account's size.)
    async fn read_and_record(
        &self,
        mut to_get: Vec<TicketId>,
        feeds: &[(Conversation, Subscription)],
        out: &mut PassOutcome,
        failures: &mut Failures,
    ) {
        let room = self.options.max_gets_per_pass;
        if to_get.len() > room {
            tracing::warn!(
                wanted = to_get.len(),
                room,
                "watcher: read budget reached; the rest waits for the next pass"
            );
            to_get.truncate(room);
        }
        let orange = self.core.orange().clone();
        let mut reads = futures::stream::iter(to_get)
            .map(|id| {
                let orange = orange.clone();
                async move {
                    let result = orange.get_ticket(&id, orange.background()).await;
                    (id, result)
                }
            })
            .buffer_unordered(self.options.concurrency);
        while let Some((id, result)) = reads.next().await {
            out.gets += 1;
            match result {
                Ok(ticket) => {
                    failures.orange_ok += 1;
                    if let Err(e) = self.record(&ticket, feeds, out).await {
                        failures.store("recording a ticket", &e);
                    }
                }
                Err(e) => failures.orange(&format!("reading ticket {id}"), &e),
            }
        }
    }

    /// Every page of a search per non-final status. The first pages go out together and tell
    /// how many follow; those are read `concurrency` at a time, each call with its own deadline,
    /// so a pass's searching takes about `pages / concurrency` round trips, not `pages`.
    async fn search_open(&self, out: &mut PassOutcome, failures: &mut Failures) -> Seen {
        let orange = self.core.orange().clone();
        let page_size = self.core.settings().orange.search.page_size as usize;
        let mut seen = Seen {
            complete: true,
            searched: true,
            ..Seen::default()
        };
        let firsts = futures::future::join_all(
            NON_FINAL
                .iter()
                .map(|status| read_page(orange.clone(), status.clone(), 1)),
        )
        .await;
        let mut more: Vec<(Status, u32)> = Vec::new();
        let mut unknown_count: Vec<Status> = Vec::new();
        for (status, result) in firsts {
            if let Some(page) = take_page(&mut seen, out, failures, &status, result) {
                match page.page_count {
                    Some(count) => more.extend((2..=count).map(|p| (status.clone(), p))),
                    None if page.tickets.len() + page.rejected.len() >= page_size => {
                        unknown_count.push(status)
                    }
                    None => {}
                }
            }
        }
        let mut rest = futures::stream::iter(more)
            .map(|(status, p)| read_page(orange.clone(), status, p))
            .buffer_unordered(self.options.concurrency);
        while let Some((status, result)) = rest.next().await {
            take_page(&mut seen, out, failures, &status, result);
        }
        // Orange did not say how many pages: read on until a short page.
        for status in unknown_count {
            let mut p = 2;
            loop {
                let (_, result) = read_page(orange.clone(), status.clone(), p).await;
                match take_page(&mut seen, out, failures, &status, result) {
                    Some(page) if page.tickets.len() + page.rejected.len() >= page_size => p += 1,
                    _ => break,
                }
            }
        }
        seen
    }

    /// Diffs `ticket` against its snapshot and records both the new snapshot and the
    /// notifications for its conversations and the matching feeds, atomically.
    pub(super) async fn record(
        &self,
        ticket: &Ticket,
        feeds: &[(Conversation, Subscription)],
        out: &mut PassOutcome,
    ) -> Result<(), crate::store::StoreError> {
        let store = self.core.store();
        let Some(old) = store.snapshot(&ticket.id)? else {
            // First sight: a baseline, nothing to announce.
            return store.put_snapshot(ticket).await;
        };
        let changes = without_bot_notes(diff(&old, ticket));
        if changes.is_empty() {
            if old != *ticket {
                store.put_snapshot(ticket).await?;
            }
            return Ok(());
        }
        let now = Utc::now();
        let mut notifications: Vec<Notification> = store
            .conversations_for(&ticket.id)
            .await?
            .into_iter()
            .map(|c| {
                Notification::new(c, ticket.id.clone(), changes.clone(), Audience::Thread, now)
            })
            .collect();
        notifications.extend(super::feeds::status_notifications(
            feeds, ticket, &changes, now,
        ));
        notifications.extend(reporter_notification(store, ticket, &changes, now)?);
        let entered = changes.iter().find_map(|c| match c {
            Change::StatusChanged { to, at, .. } => Some((to.clone(), at.unwrap_or(now))),
            _ => None,
        });
        store
            .record_with_timeline(ticket, &notifications, entered)
            .await?;
        out.changes += changes.len();
        out.queued += notifications.len();
        Ok(())
    }
}

/// A direct message for the person who opened `ticket`, when it was just restored or closed and
/// they asked for one (`/ticket notify on`).
fn reporter_notification(
    store: &crate::store::Store,
    ticket: &Ticket,
    changes: &[Change],
    now: chrono::DateTime<Utc>,
) -> Result<Option<Notification>, crate::store::StoreError> {
    let Some(change) = changes.iter().find(|c| {
        matches!(c, Change::StatusChanged { to, .. } if matches!(to, Status::Restored | Status::Closed))
    }) else {
        return Ok(None);
    };
    let Some(opener) = store.opener(&ticket.id)? else {
        return Ok(None);
    };
    let Some(user) = opener.discord_user() else {
        return Ok(None);
    };
    if !store.notifies(&opener.user_key)? {
        return Ok(None);
    }
    Ok(Some(Notification::new(
        Conversation::discord(user),
        ticket.id.clone(),
        vec![change.clone()],
        Audience::Reporter,
        now,
    )))
}

/// The followed tickets that are not final, with their snapshots.
async fn open_tickets(
    store: &crate::store::Store,
) -> Result<Vec<(TicketId, Option<Ticket>)>, crate::store::StoreError> {
    let mut open = Vec::new();
    for id in store.tracked_tickets().await? {
        let snapshot = store.snapshot(&id)?;
        if !snapshot.as_ref().is_some_and(|t| t.status.is_final()) {
            // Planning compares only what a search page shows (`plan::moved`); the rest (notes,
            // parties) is read again from the store when a ticket is recorded. Held for a whole
            // pass for every followed ticket, it would only weigh on the pass's peak memory.
            open.push((id, snapshot.map(plan::lean)));
        }
    }
    Ok(open)
}

/// Notes the bot wrote itself (comments from Discord or the console) are not echoed back.
fn without_bot_notes(changes: Vec<Change>) -> Vec<Change> {
    changes
        .into_iter()
        .filter_map(|c| match c {
            Change::NotesAdded(notes) => {
                let notes: Vec<_> = notes
                    .into_iter()
                    .filter(|n| !is_bot_note(&n.text))
                    .collect();
                (!notes.is_empty()).then_some(Change::NotesAdded(notes))
            }
            other => Some(other),
        })
        .collect()
}

/// Page `page` of the search of one status, with its own deadline.
async fn read_page(
    orange: crate::orange::OrangeClient,
    status: Status,
    page: u32,
) -> (Status, Result<SearchPage, OrangeError>) {
    let query = SearchQuery {
        status: StatusFilter::Only(status.clone()),
        ..SearchQuery::default()
    };
    let result = orange.search(&query, page, orange.background()).await;
    (status, result)
}

/// Takes one search page into `seen`; `None` when it failed (the pass's view is then
/// incomplete).
fn take_page(
    seen: &mut Seen,
    out: &mut PassOutcome,
    failures: &mut Failures,
    status: &Status,
    result: Result<SearchPage, OrangeError>,
) -> Option<SearchPage> {
    out.search_pages += 1;
    match result {
        Ok(page) => {
            failures.orange_ok += 1;
            if !page.rejected.is_empty() {
                seen.complete = false;
            }
            for t in &page.tickets {
                seen.tickets.insert(t.id.clone(), t.clone());
            }
            Some(page)
        }
        Err(e) => {
            seen.complete = false;
            failures.orange(&format!("searching {}", status.as_wire()), &e);
            None
        }
    }
}
