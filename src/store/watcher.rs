//! The watcher's own bookkeeping: the status each ticket had when the team feeds last saw it, and
//! named values (e.g. when it last looked for new tickets).

use sled::Transactional;

use super::codec::{decode, encode, ticket_from_bytes};
use super::outbox::{enqueue, numbered, outbox_records};
use super::{Store, StoreError};
use crate::domain::{Notification, Status, Ticket, TicketId};

impl Store {
    /// Saves what the team feeds have seen of some tickets and enqueues the feed notifications
    /// that caused, in one transaction (like [`Store::record`]). Durable when it returns.
    ///
    /// `unfollowed` are tickets nobody follows, saved as their snapshot so their feed lines can
    /// name their service (a followed ticket's snapshot is the watcher's, never overwritten here).
    pub async fn record_feed(
        &self,
        seen: &[(TicketId, Status)],
        unfollowed: &[Ticket],
        notifications: &[Notification],
    ) -> Result<Vec<u64>, StoreError> {
        let seen: Vec<(Vec<u8>, String)> = seen
            .iter()
            .map(|(id, status)| (id.as_str().as_bytes().to_vec(), status.as_wire().to_owned()))
            .collect();
        let mut snapshots = Vec::with_capacity(unfollowed.len());
        for t in unfollowed {
            snapshots.push((t.id.as_str().as_bytes().to_vec(), encode(t)?));
        }
        let records = outbox_records(notifications)?;
        self.durably(move |store| {
            let items = numbered(&store.db, records)?;
            let trees = (&store.feed_seen, &store.outbox, &store.snapshots);
            trees.transaction(|(feed_seen, outbox, snap)| {
                for (id, status) in &seen {
                    feed_seen.insert(id.as_slice(), status.as_bytes())?;
                }
                for (id, ticket) in &snapshots {
                    snap.insert(id.as_slice(), ticket.as_slice())?;
                }
                enqueue(outbox, &items)?;
                Ok(())
            })?;
            Ok(items.into_iter().map(|(seq, _)| seq).collect())
        })
        .await
    }

    /// The status the team feeds last saw `ticket` in; `None` if they never saw it.
    pub fn feed_seen(&self, ticket: &TicketId) -> Result<Option<Status>, StoreError> {
        Ok(self
            .feed_seen
            .get(ticket.as_str().as_bytes())?
            .map(|raw| Status::from_wire(&String::from_utf8_lossy(&raw))))
    }

    /// Every ticket the team feeds have seen, with its status then.
    pub async fn feed_seen_all(&self) -> Result<Vec<(TicketId, Status)>, StoreError> {
        self.blocking(|store| {
            store
                .feed_seen
                .iter()
                .map(|kv| {
                    let (k, v) = kv?;
                    Ok((
                        ticket_from_bytes(&k)?,
                        Status::from_wire(&String::from_utf8_lossy(&v)),
                    ))
                })
                .collect()
        })
        .await
    }

    /// A value of the watcher's bookkeeping.
    pub fn watcher_value(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .watcher
            .get(name.as_bytes())?
            .map(|raw| String::from_utf8_lossy(&raw).into_owned()))
    }

    /// Sets a value of the watcher's bookkeeping. Durable when it returns.
    pub async fn set_watcher_value(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.durably(move |store| {
            store.watcher.insert(name.as_bytes(), value.as_bytes())?;
            Ok(())
        })
        .await
    }

    /// Enqueues `notifications` and sets the value `name` to `value` in one transaction, unless
    /// `name` already holds `value`: a schedule's "done for this" and its messages are written
    /// together, so a crash can neither send them twice nor lose them. Returns whether it
    /// enqueued. Durable when it returns.
    pub async fn queue_once(
        &self,
        name: &str,
        value: &str,
        notifications: &[Notification],
    ) -> Result<bool, StoreError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        let records = outbox_records(notifications)?;
        self.durably(move |store| {
            if store.watcher.get(name.as_bytes())?.as_deref() == Some(value.as_bytes()) {
                return Ok(false);
            }
            let items = numbered(&store.db, records)?;
            let trees = (&store.watcher, &store.outbox);
            trees
                .transaction(|(watcher, outbox)| {
                    if watcher.get(name.as_bytes())?.as_deref() == Some(value.as_bytes()) {
                        return Ok(false);
                    }
                    watcher.insert(name.as_bytes(), value.as_bytes())?;
                    enqueue(outbox, &items)?;
                    Ok(true)
                })
                .map_err(StoreError::from)
        })
        .await
    }

    /// Sets the value `name` to `new` (`None`: removes it) if it holds `old` (`None`: absent);
    /// returns whether it did. Two callers racing for the same change: one wins. Durable when it
    /// returns.
    pub async fn swap_watcher_value(
        &self,
        name: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> Result<bool, StoreError> {
        let name = name.to_owned();
        let (old, new) = (old.map(str::to_owned), new.map(str::to_owned));
        self.durably(move |store| {
            Ok(store
                .watcher
                .compare_and_swap(
                    name.as_bytes(),
                    old.as_deref().map(str::as_bytes),
                    new.as_deref().map(str::as_bytes),
                )?
                .is_ok())
        })
        .await
    }

    /// Forgets what only matters while a ticket is followed and open, so these trees do not grow
    /// for ever: the watcher values named `<prefix><ticket id>` (e.g. the silences nudges were
    /// sent for) of tickets no longer linked or final, and who opened tickets now final. Returns
    /// how many records went. Not flushed: forgetting again after a crash is harmless.
    pub async fn forget_done(&self, prefixes: &[&str]) -> Result<usize, StoreError> {
        let prefixes: Vec<String> = prefixes.iter().map(|p| (*p).to_owned()).collect();
        self.blocking(move |store| {
            let is_final = |id: &str| -> Result<bool, StoreError> {
                Ok(match store.snapshots.get(id.as_bytes())? {
                    Some(raw) => decode::<Ticket>(&raw, "snapshot")?.status.is_final(),
                    None => false,
                })
            };
            let linked = |id: &str| -> Result<bool, StoreError> {
                let mut prefix = id.as_bytes().to_vec();
                prefix.push(0);
                Ok(store
                    .by_ticket
                    .scan_prefix(prefix)
                    .next()
                    .transpose()?
                    .is_some())
            };
            let mut gone = 0;
            for prefix in &prefixes {
                for key in store.watcher.scan_prefix(prefix.as_bytes()).keys() {
                    let key = key?;
                    let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                    if !linked(&id)? || is_final(&id)? {
                        store.watcher.remove(&key)?;
                        gone += 1;
                    }
                }
            }
            for key in store.openers.iter().keys() {
                let key = key?;
                if is_final(&String::from_utf8_lossy(&key))? {
                    store.openers.remove(&key)?;
                    gone += 1;
                }
            }
            Ok(gone)
        })
        .await
    }
}
