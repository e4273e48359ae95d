//! The last-seen snapshot of each tracked ticket and the timeline of statuses the watcher saw it
//! enter. A snapshot is saved in one transaction with the notifications its change caused.

use chrono::{DateTime, Utc};
use sled::Transactional;

use super::codec::{decode, encode, get};
use super::outbox::{enqueue, outbox_items};
use super::{Store, StoreError, abort};
use crate::domain::{Notification, Status, Ticket, TicketId};

impl Store {
    pub fn snapshot(&self, ticket: &TicketId) -> Result<Option<Ticket>, StoreError> {
        get(&self.snapshots, ticket.as_str())
    }

    /// Saves a snapshot with no notifications (e.g. when a ticket is first linked).
    pub async fn put_snapshot(&self, ticket: &Ticket) -> Result<(), StoreError> {
        self.record(ticket, &[]).await.map(|_| ())
    }

    /// Saves `ticket` as the last-seen snapshot and enqueues `notifications` in one transaction:
    /// either both happen or neither, so a crash can neither lose a change nor report it twice.
    /// Returns the outbox sequence numbers. Durable when it returns.
    pub async fn record(
        &self,
        ticket: &Ticket,
        notifications: &[Notification],
    ) -> Result<Vec<u64>, StoreError> {
        let snapshot = encode(ticket)?;
        let items = outbox_items(&self.db, notifications)?;
        (&self.snapshots, &self.outbox).transaction(|(snapshots, outbox)| {
            snapshots.insert(ticket.id.as_str().as_bytes(), snapshot.as_slice())?;
            enqueue(outbox, &items)?;
            Ok(())
        })?;
        self.flush().await?;
        Ok(items.into_iter().map(|(seq, _)| seq).collect())
    }

    /// Forgets a ticket's snapshot (nobody follows it any more).
    pub async fn drop_snapshot(&self, ticket: &TicketId) -> Result<(), StoreError> {
        self.snapshots.remove(ticket.as_str().as_bytes())?;
        self.flush().await
    }

    /// Like [`Store::record`], also appending `entered` (a status and when Orange says the ticket
    /// entered it) to the ticket's timeline, in the same transaction.
    pub async fn record_with_timeline(
        &self,
        ticket: &Ticket,
        notifications: &[Notification],
        entered: Option<(Status, DateTime<Utc>)>,
    ) -> Result<Vec<u64>, StoreError> {
        let Some(point) = entered else {
            return self.record(ticket, notifications).await;
        };
        let snapshot = encode(ticket)?;
        let items = outbox_items(&self.db, notifications)?;
        let key = ticket.id.as_str().as_bytes();
        (&self.snapshots, &self.outbox, &self.timelines).transaction(
            |(snapshots, outbox, timelines)| {
                let mut timeline: Vec<(Status, DateTime<Utc>)> = match timelines.get(key)? {
                    Some(raw) => decode(&raw, "timeline").map_err(abort)?,
                    None => Vec::new(),
                };
                timeline.push(point.clone());
                timelines.insert(key, encode(&timeline).map_err(abort)?)?;
                snapshots.insert(key, snapshot.as_slice())?;
                enqueue(outbox, &items)?;
                Ok(())
            },
        )?;
        self.flush().await?;
        Ok(items.into_iter().map(|(seq, _)| seq).collect())
    }

    /// The statuses the watcher saw a ticket enter, oldest first.
    pub fn timeline(&self, ticket: &TicketId) -> Result<Vec<(Status, DateTime<Utc>)>, StoreError> {
        Ok(get(&self.timelines, ticket.as_str())?.unwrap_or_default())
    }
}
