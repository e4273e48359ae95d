//! The bot's memory, in an embedded sled database. One file per group of trees:
//!
//! - `links`: conversation <-> ticket links (two trees that always agree) and each
//!   conversation's header card;
//! - `snapshots`: the last-seen snapshot of each tracked ticket and its status timeline;
//! - `outbox`: the notifications not yet delivered;
//! - `teams`: team settings, feed subscriptions, contact profiles;
//! - `audit`: the audit log;
//! - `views`: saved views (the queries behind paging buttons; the newest [`VIEWS_KEPT`] are kept);
//! - `reporters`: who opened each ticket, and who wants a direct message when theirs move on;
//! - `boards`: the status board each conversation keeps (its message, what it shows);
//! - `watcher`: the watcher's own bookkeeping (what the team feeds have seen, named values);
//! - `digests`: per feed channel, the last day whose digest was queued (with the digest);
//! - `schema`: opening, the schema version; `codec`: how keys and values are stored;
//!   `private`: the directory and files kept readable by their owner only; `error`: [`StoreError`].
//!
//! A small typed API; no sled type leaks out. Updates that must agree (the two directions of a
//! link; a snapshot and the notifications it caused) happen in one transaction, and writes that
//! must survive a crash are flushed before they are acknowledged (not a search's saved view, nor
//! the audit entry of something that changed nothing).
//!
//! Scans, transactions, writes and flushes run on tokio's blocking pool, never on the runtime's
//! worker threads; scans are async, and a long one (the outbox) is read in bounded batches. A
//! point read (one key) runs inline: one lookup in sled's page cache costs less than a hop to
//! another thread.

mod audit;
mod boards;
mod codec;
mod digests;
mod error;
mod links;
mod outbox;
mod private;
mod reporters;
mod schema;
mod snapshots;
mod teams;
mod views;
mod watcher;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sled::transaction::ConflictableTransactionError;

pub use audit::Durability;
pub use error::StoreError;
pub use schema::SCHEMA_VERSION;
pub use snapshots::SnapshotWithTimeline;
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
    /// conversation key -> the status board it keeps
    boards: sled::Tree,
    /// ticket id -> who opened it through the bot
    openers: sled::Tree,
    /// user key -> () for users who asked for direct-message notifications
    notify: sled::Tree,
    /// Held while flushing (see [`Store::flush`]).
    flushing: Arc<tokio::sync::Mutex<()>>,
    /// Flushes done, for tests and diagnostics.
    flushes: Arc<AtomicU64>,
    /// Entries in the audit log, counted at open and kept up to date by each write.
    audit_entries: Arc<Mutex<usize>>,
    options: StoreOptions,
}

/// How a store behaves; [`StoreOptions::from_settings`] reads `[store]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Audit entries kept: writing one more drops the oldest.
    pub audit_keep: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            audit_keep: AUDIT_KEEP,
        }
    }
}

impl StoreOptions {
    pub fn from_settings(settings: &crate::config::StoreSettings) -> Self {
        StoreOptions {
            audit_keep: settings.audit_keep,
        }
    }
}

/// Audit entries kept unless the settings say otherwise (`store.audit_keep`).
pub const AUDIT_KEEP: usize = 10_000;

/// Runs `work` on tokio's blocking pool, so scans, transactions and fsyncs never hold up the
/// runtime's worker threads. (`block_in_place` would not do: it panics on a current-thread
/// runtime, which the console and the tests use.) A panic in `work` is resumed here, as if it had
/// run inline.
async fn off_the_runtime<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Interrupted(e)),
    }
}

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

impl Store {
    /// [`Store::open_with`] for async callers: opening reads the database and may wait a few
    /// seconds for its lock, so it runs off the runtime's threads.
    pub async fn open_async(path: PathBuf, options: StoreOptions) -> Result<Self, StoreError> {
        off_the_runtime(move || Store::open_with(&path, options)).await
    }

    /// Opens (or creates) the database at `path` with the default options. Blocks; async code
    /// calls [`Store::open_async`].
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Store::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) the database at `path` and checks its schema version. Blocks.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        if path.is_file() {
            return Err(StoreError::NotADirectory {
                path: path.to_path_buf(),
            });
        }
        let private = |source| StoreError::Private {
            path: path.to_path_buf(),
            source,
        };
        private::create_dir(path).map_err(private)?;
        let db = schema::open_db(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        private::narrow_contents(path).map_err(private)?;
        schema::check_schema(&db, path)?;
        let tree = |name: &str| db.open_tree(name);
        let audit = tree("audit")?;
        Ok(Store {
            audit_entries: Arc::new(Mutex::new(audit.len())),
            audit,
            flushes: Default::default(),
            options,
            by_conversation: tree("links_by_conversation")?,
            by_ticket: tree("links_by_ticket")?,
            snapshots: tree("snapshots")?,
            teams: tree("teams")?,
            subscriptions: tree("subscriptions")?,
            profiles: tree("profiles")?,
            outbox: tree("outbox")?,
            unreadable: tree("outbox_unreadable")?,
            cards: tree("cards")?,
            views: tree("views")?,
            feed_seen: tree("feed_seen")?,
            watcher: tree("watcher")?,
            timelines: tree("timelines")?,
            boards: tree("boards")?,
            openers: tree("openers")?,
            notify: tree("notify")?,
            flushing: Default::default(),
            db,
        })
    }

    /// Waits until everything written so far is on disk. One flush at a time: concurrent flushes
    /// deadlock in sled 0.34.7 (spacejam/sled#1308, fixed upstream but not released), and a flush
    /// covers every write made before it anyway. The lock travels into the blocking task, so a
    /// caller that stops waiting cannot let a second flush start beside a running one.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let one_at_a_time = self.flushing.clone().lock_owned().await;
        self.blocking(move |store| {
            let _held = one_at_a_time;
            store.db.flush()?;
            store.flushes.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
        .await
    }

    /// How many flushes this handle (and its clones) completed: each is an fsync the caller
    /// waited for.
    pub fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    /// Bytes the database occupies on disk.
    pub async fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.blocking(|store| Ok(store.db.size_on_disk()?)).await
    }

    /// Runs `work` off the runtime's threads (see [`off_the_runtime`]).
    async fn blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        off_the_runtime(move || work(&store)).await
    }

    /// [`Store::blocking`], then a flush: for writes that are durable when they return.
    async fn durably<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let out = self.blocking(work).await?;
        self.flush().await?;
        Ok(out)
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
        assert_eq!(store.links().await.expect("links").len(), 64);
    }

    /// A scan of many records runs off the runtime's thread: on a single-threaded runtime another
    /// task keeps running while it does (it would get no turn if the scan ran inline).
    #[test]
    fn a_long_scan_leaves_the_runtime_thread_free() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering};

        const LINKS: u64 = 50_000;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("opens");
        let ticket = TicketId::parse("1000000001").expect("id");
        for i in 0..LINKS {
            let key = Conversation::discord(i + 1).key();
            store
                .by_conversation
                .insert(key.as_bytes(), ticket.as_str().as_bytes())
                .expect("write");
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let turns = Arc::new(AtomicU64::new(0));
            let ticker = tokio::spawn({
                let turns = turns.clone();
                async move {
                    loop {
                        turns.fetch_add(1, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                    }
                }
            });
            tokio::task::yield_now().await;
            let before = turns.load(Ordering::SeqCst);
            let links = store.links().await.expect("links");
            let during = turns.load(Ordering::SeqCst) - before;
            ticker.abort();
            assert_eq!(links.len() as u64, LINKS);
            assert!(during > 0, "the other task got no turn during the scan");
        });
    }
}
