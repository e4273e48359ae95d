//! The bot's memory, in an embedded sled database. One file per group of trees:
//!
//! - `links`: conversation <-> ticket links (two trees that always agree) and each
//!   conversation's header card;
//! - `snapshots`: the last-seen snapshot of each tracked ticket and its status timeline;
//! - `outbox`: the notifications not yet delivered;
//! - `teams`: team settings, feed subscriptions, contact profiles;
//! - `audit`: the audit log;
//! - `views`: saved views (the queries behind paging buttons; the newest [`VIEWS_KEPT`] are kept);
//! - `watcher`: the watcher's own bookkeeping (what the team feeds have seen, named values);
//! - `schema`: opening, the schema version; `codec`: how keys and values are stored;
//!   `error`: [`StoreError`].
//!
//! A small typed API; no sled type leaks out. Updates that must agree (the two directions of a
//! link; a snapshot and the notifications it caused) happen in one transaction, and writes that
//! must survive a crash are flushed before they are acknowledged.

mod audit;
mod codec;
mod error;
mod links;
mod outbox;
mod schema;
mod snapshots;
mod teams;
mod views;
mod watcher;

use std::path::Path;

use sled::transaction::ConflictableTransactionError;

pub use error::StoreError;
pub use schema::SCHEMA_VERSION;
pub use views::VIEWS_KEPT;

/// A cheap, cloneable handle on the database.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    /// conversation key -> ticket id (one conversation links one ticket)
    by_conversation: sled::Tree,
    /// ticket id \0 conversation key -> () (one ticket, many conversations)
    by_ticket: sled::Tree,
    /// ticket id -> last seen Ticket
    snapshots: sled::Tree,
    /// team id -> TeamSettings
    teams: sled::Tree,
    /// conversation key -> Subscription
    subscriptions: sled::Tree,
    /// user key -> Contact
    profiles: sled::Tree,
    /// big-endian sequence -> Notification
    outbox: sled::Tree,
    /// outbox records that could not be read, kept for inspection
    unreadable: sled::Tree,
    /// big-endian sequence -> AuditEntry
    audit: sled::Tree,
    /// conversation key -> the transport's id of the ticket's header card in it
    cards: sled::Tree,
    /// big-endian sequence -> a saved view (what a paging button needs to show another page)
    views: sled::Tree,
    /// ticket id -> the status the watcher last saw it in, for team feeds
    feed_seen: sled::Tree,
    /// name -> value: the watcher's own bookkeeping (e.g. when it last looked for new tickets)
    watcher: sled::Tree,
    /// ticket id -> the statuses the watcher saw it enter, with Orange's dates (for its clocks)
    timelines: sled::Tree,
    /// Held while flushing (see [`Store::flush`]).
    flushing: std::sync::Arc<tokio::sync::Mutex<()>>,
}

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

impl Store {
    /// Opens (or creates) the database at `path` and checks its schema version.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: path.to_path_buf(),
            reason,
        };
        if path.is_file() {
            return Err(open_err("it is a file, not a directory".into()));
        }
        let db = schema::open_db(path).map_err(|e| open_err(e.to_string()))?;
        schema::check_schema(&db, path)?;
        let tree = |name: &str| db.open_tree(name);
        Ok(Store {
            by_conversation: tree("links_by_conversation")?,
            by_ticket: tree("links_by_ticket")?,
            snapshots: tree("snapshots")?,
            teams: tree("teams")?,
            subscriptions: tree("subscriptions")?,
            profiles: tree("profiles")?,
            outbox: tree("outbox")?,
            unreadable: tree("outbox_unreadable")?,
            audit: tree("audit")?,
            cards: tree("cards")?,
            views: tree("views")?,
            feed_seen: tree("feed_seen")?,
            watcher: tree("watcher")?,
            timelines: tree("timelines")?,
            flushing: Default::default(),
            db,
        })
    }

    /// Waits until everything written so far is on disk. One flush at a time: concurrent
    /// `flush_async` calls deadlock in sled 0.34.7 (spacejam/sled#1308, fixed upstream but not
    /// released), and a flush covers every write made before it anyway.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.flushing.lock().await;
        self.db.flush_async().await?;
        Ok(())
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Conversation, TicketId};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_durable_writes_at_once_all_complete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("opens");
        let writes = (0..64u64).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = TicketId::parse(&i.to_string()).expect("id");
                store.link(&Conversation::discord(i + 1), &id).await
            })
        });
        let all = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            futures::future::join_all(writes),
        )
        .await
        .expect("no deadlock");
        assert!(all.into_iter().all(|r| matches!(r, Ok(Ok(_)))));
        assert_eq!(store.links().expect("links").len(), 64);
    }
}
