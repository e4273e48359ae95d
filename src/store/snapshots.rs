//! The last-seen snapshot of each tracked ticket and the timeline of statuses the watcher saw it
//! enter. A snapshot is saved in one transaction with the notifications its change caused.

use chrono::{DateTime, Utc};
use sled::Transactional;

use super::codec::{decode, encode, get};
use super::outbox::{enqueue, numbered, outbox_records};
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
        self.record_with_timeline(ticket, notifications, None).await
    }

    /// Forgets a ticket's snapshot (nobody follows it any more).
    pub async fn drop_snapshot(&self, ticket: &TicketId) -> Result<(), StoreError> {
        let key = ticket.as_str().as_bytes().to_vec();
        self.durably(move |store| {
            store.snapshots.remove(key)?;
            Ok(())
        })
        .await
    }

    /// Like [`Store::record`], also appending `entered` (a status and when Orange says the ticket
    /// entered it), if any, to the ticket's timeline, in the same transaction.
    pub async fn record_with_timeline(
        &self,
        ticket: &Ticket,
        notifications: &[Notification],
        entered: Option<(Status, DateTime<Utc>)>,
    ) -> Result<Vec<u64>, StoreError> {
        let key = ticket.id.as_str().as_bytes().to_vec();
        let snapshot = encode(ticket)?;
        let records = outbox_records(notifications)?;
        self.durably(move |store| {
            let items = numbered(&store.db, records)?;
            let trees = (&store.snapshots, &store.outbox, &store.timelines);
            trees.transaction(|(snapshots, outbox, timelines)| {
                if let Some(point) = &entered {
                    let mut timeline: Vec<(Status, DateTime<Utc>)> =
                        match timelines.get(key.as_slice())? {
                            Some(raw) => decode(&raw, "timeline").map_err(abort)?,
                            None => Vec::new(),
                        };
                    timeline.push(point.clone());
                    timelines.insert(key.as_slice(), encode(&timeline).map_err(abort)?)?;
                }
                snapshots.insert(key.as_slice(), snapshot.as_slice())?;
                enqueue(outbox, &items)?;
                Ok(())
            })?;
            Ok(items.into_iter().map(|(seq, _)| seq).collect())
        })
        .await
    }

    /// The statuses the watcher saw a ticket enter, oldest first.
    pub fn timeline(&self, ticket: &TicketId) -> Result<Vec<(Status, DateTime<Utc>)>, StoreError> {
        Ok(get(&self.timelines, ticket.as_str())?.unwrap_or_default())
    }

    /// Every stored snapshot with its timeline, in id order (for the team's report).
    pub async fn snapshots_with_timelines(&self) -> Result<Vec<SnapshotWithTimeline>, StoreError> {
        self.blocking(|store| {
            let mut out = Vec::new();
            for kv in store.snapshots.iter() {
                let (key, raw) = kv?;
                let ticket: Ticket = decode(&raw, &String::from_utf8_lossy(&key))?;
                let timeline = store.timeline(&ticket.id)?;
                out.push((ticket, timeline));
            }
            Ok(out)
        })
        .await
    }
}

/// A ticket's last-seen snapshot and the statuses the watcher saw it enter.
pub type SnapshotWithTimeline = (Ticket, Vec<(Status, DateTime<Utc>)>);
