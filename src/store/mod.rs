//! The bot's memory, in an embedded sled database: conversation <-> ticket links, the last-seen
//! snapshot of each tracked ticket, team settings, subscriptions, contact profiles, the outbox of
//! undelivered notifications, the audit log, each conversation's header card, saved views (the
//! queries behind paging buttons; the newest [`VIEWS_KEPT`] are kept), and the watcher's own
//! bookkeeping (what the team feeds have seen, when it last looked for new tickets).
//!
//! A small typed API; no sled type leaks out. Updates that must agree (the two directions of a
//! link; a snapshot and the notifications it caused) happen in one transaction, and writes that
//! must survive a crash are flushed before they are acknowledged.

mod codec;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::domain::{
    AuditEntry, Contact, Conversation, Notification, Status, Subscription, TeamId, TeamSettings,
    Ticket, TicketId,
};
use codec::{decode, encode};

/// How many saved views (paging buttons' queries) are kept.
pub const VIEWS_KEPT: usize = 1000;

/// The layout this build reads and writes. Bump it with a migration when a tree's format changes.
pub const SCHEMA_VERSION: u32 = 1;
const SCHEMA_KEY: &[u8] = b"schema_version";
const APP_KEY: &[u8] = b"application";
const APP_NAME: &[u8] = b"orange-ticket-bot";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error(
        "the store at {path} was written by a newer version (schema {found}; this build reads up to {supported}); upgrade the bot or point store.path elsewhere"
    )]
    Newer {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "{path} holds a database that is not this bot's; point store.path at an empty or bot-owned directory"
    )]
    Foreign { path: PathBuf },
    #[error("store failure: {0}")]
    Backend(String),
    #[error("stored record `{key}` is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

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

fn pair_key(ticket: &TicketId, conversation: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(ticket.as_str().len() + 1 + conversation.len());
    k.extend_from_slice(ticket.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(conversation.as_bytes());
    k
}

/// Outbox records for `notifications`, each under a fresh sequence number.
fn outbox_items(
    db: &sled::Db,
    notifications: &[Notification],
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    notifications
        .iter()
        .map(|n| Ok((db.generate_id()?, encode(n)?)))
        .collect()
}

/// Writes outbox records inside a transaction.
fn enqueue(
    outbox: &sled::transaction::TransactionalTree,
    items: &[(u64, Vec<u8>)],
) -> Result<(), ConflictableTransactionError<StoreError>> {
    for (seq, item) in items {
        outbox.insert(&seq.to_be_bytes(), item.as_slice())?;
    }
    Ok(())
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
        let db = open_db(path).map_err(|e| open_err(e.to_string()))?;
        check_schema(&db, path)?;
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

    // --- links ---------------------------------------------------------------------------------

    /// Links `conversation` to `ticket`, replacing (and returning) any previous link of that
    /// conversation. Durable when it returns.
    pub async fn link(
        &self,
        conversation: &Conversation,
        ticket: &TicketId,
    ) -> Result<Option<TicketId>, StoreError> {
        let conv = conversation.key();
        let previous =
            (&self.by_conversation, &self.by_ticket).transaction(|(by_conv, by_ticket)| {
                let previous = by_conv.insert(conv.as_bytes(), ticket.as_str().as_bytes())?;
                let previous = match previous {
                    Some(raw) => Some(ticket_from_bytes(&raw).map_err(abort)?),
                    None => None,
                };
                if let Some(old) = &previous {
                    by_ticket.remove(pair_key(old, &conv))?;
                }
                by_ticket.insert(pair_key(ticket, &conv), &[])?;
                Ok(previous)
            })?;
        self.flush().await?;
        Ok(previous)
    }

    /// Removes the link of `conversation`, returning the ticket it pointed to. Durable when it
    /// returns.
    pub async fn unlink(
        &self,
        conversation: &Conversation,
    ) -> Result<Option<TicketId>, StoreError> {
        let conv = conversation.key();
        let previous = (&self.by_conversation, &self.by_ticket, &self.cards).transaction(
            |(by_conv, by_ticket, cards)| {
                let Some(raw) = by_conv.remove(conv.as_bytes())? else {
                    return Ok(None);
                };
                let old = ticket_from_bytes(&raw).map_err(abort)?;
                by_ticket.remove(pair_key(&old, &conv))?;
                cards.remove(conv.as_bytes())?;
                Ok(Some(old))
            },
        )?;
        self.flush().await?;
        Ok(previous)
    }

    /// The ticket linked from `conversation`.
    pub fn ticket_for(&self, conversation: &Conversation) -> Result<Option<TicketId>, StoreError> {
        self.by_conversation
            .get(conversation.key().as_bytes())?
            .map(|raw| ticket_from_bytes(&raw))
            .transpose()
    }

    /// Every conversation linked to `ticket`.
    pub fn conversations_for(&self, ticket: &TicketId) -> Result<Vec<Conversation>, StoreError> {
        let mut prefix = ticket.as_str().as_bytes().to_vec();
        prefix.push(0);
        self.by_ticket
            .scan_prefix(&prefix)
            .keys()
            .map(|k| conversation_from_bytes(&k?[prefix.len()..]))
            .collect()
    }

    /// Every ticket linked from at least one conversation, in id order.
    pub fn tracked_tickets(&self) -> Result<Vec<TicketId>, StoreError> {
        let mut out: Vec<TicketId> = Vec::new();
        for key in self.by_ticket.iter().keys() {
            let key = key?;
            let end = key.iter().position(|b| *b == 0).unwrap_or(key.len());
            let id = ticket_from_bytes(&key[..end])?;
            if out.last() != Some(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Every (conversation, ticket) link, for checks and tests.
    pub fn links(&self) -> Result<Vec<(Conversation, TicketId)>, StoreError> {
        self.by_conversation
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let conv = conversation_from_bytes(&k)?;
                Ok((conv, ticket_from_bytes(&v)?))
            })
            .collect()
    }

    /// Both link indexes, read back for consistency checks: (conversation -> ticket) pairs as
    /// seen from the ticket side.
    pub fn links_by_ticket(&self) -> Result<Vec<(Conversation, TicketId)>, StoreError> {
        let mut out = Vec::new();
        for key in self.by_ticket.iter().keys() {
            let key = key?;
            let end = key.iter().position(|b| *b == 0).unwrap_or(key.len());
            let ticket = ticket_from_bytes(&key[..end])?;
            let conv = conversation_from_bytes(key.get(end + 1..).unwrap_or_default())?;
            out.push((conv, ticket));
        }
        Ok(out)
    }

    /// Remembers the header card of `conversation` (e.g. a Discord message id), to edit it later.
    /// Durable when it returns. Unlinking the conversation forgets it.
    pub async fn set_card(
        &self,
        conversation: &Conversation,
        card: &str,
    ) -> Result<(), StoreError> {
        self.cards
            .insert(conversation.key().as_bytes(), card.as_bytes())?;
        self.flush().await
    }

    /// The header card of `conversation`, if one was posted.
    pub fn card(&self, conversation: &Conversation) -> Result<Option<String>, StoreError> {
        Ok(self
            .cards
            .get(conversation.key().as_bytes())?
            .map(|raw| String::from_utf8_lossy(&raw).into_owned()))
    }

    // --- saved views ---------------------------------------------------------------------------

    /// Saves a view (a search, say) so a button can come back to it, after a restart too;
    /// returns its number. The oldest views beyond [`VIEWS_KEPT`] are dropped: their buttons then
    /// say the search is gone.
    pub async fn save_view<T: serde::Serialize>(&self, view: &T) -> Result<u64, StoreError> {
        let seq = self.db.generate_id()?;
        self.views.insert(seq.to_be_bytes(), encode(view)?)?;
        while self.views.len() > VIEWS_KEPT {
            if self.views.pop_min()?.is_none() {
                break;
            }
        }
        self.flush().await?;
        Ok(seq)
    }

    /// A saved view; `None` if there is none with that number.
    pub fn view<T: serde::de::DeserializeOwned>(
        &self,
        number: u64,
    ) -> Result<Option<T>, StoreError> {
        self.views
            .get(number.to_be_bytes())?
            .map(|v| decode(&v, "view"))
            .transpose()
    }

    // --- snapshots and outbox ------------------------------------------------------------------

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
        let items = outbox_items(&self.db, notifications)?;
        let mut snapshots = Vec::with_capacity(unfollowed.len());
        for t in unfollowed {
            snapshots.push((t.id.as_str().as_bytes().to_vec(), encode(t)?));
        }
        (&self.feed_seen, &self.outbox, &self.snapshots).transaction(
            |(feed_seen, outbox, snap)| {
                for (id, status) in seen {
                    feed_seen.insert(id.as_str().as_bytes(), status.as_wire().as_bytes())?;
                }
                for (id, ticket) in &snapshots {
                    snap.insert(id.as_slice(), ticket.as_slice())?;
                }
                enqueue(outbox, &items)?;
                Ok(())
            },
        )?;
        self.flush().await?;
        Ok(items.into_iter().map(|(seq, _)| seq).collect())
    }

    /// The status the team feeds last saw `ticket` in; `None` if they never saw it.
    pub fn feed_seen(&self, ticket: &TicketId) -> Result<Option<Status>, StoreError> {
        Ok(self
            .feed_seen
            .get(ticket.as_str().as_bytes())?
            .map(|raw| Status::from_wire(&String::from_utf8_lossy(&raw))))
    }

    /// Every ticket the team feeds have seen, with its status then.
    pub fn feed_seen_all(&self) -> Result<Vec<(TicketId, Status)>, StoreError> {
        self.feed_seen
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((
                    ticket_from_bytes(&k)?,
                    Status::from_wire(&String::from_utf8_lossy(&v)),
                ))
            })
            .collect()
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
        self.watcher.insert(name.as_bytes(), value.as_bytes())?;
        self.flush().await
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

    /// Notifications not yet delivered, oldest first.
    ///
    /// A record that cannot be read is moved to the `outbox_unreadable` tree and logged, so one
    /// bad record cannot block every delivery after it; it stays there for inspection.
    pub fn pending(&self) -> Result<Vec<(u64, Notification)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.outbox.iter() {
            let (k, v) = kv?;
            let read = <[u8; 8]>::try_from(k.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corrupt {
                    key: format!("outbox {k:?}"),
                    reason: "not a sequence number".into(),
                })
                .and_then(|seq| Ok((seq, decode(&v, "outbox")?)));
            match read {
                Ok(item) => out.push(item),
                Err(e) => {
                    tracing::error!(error = %e, "unreadable outbox record set aside");
                    self.unreadable.insert(&k, v)?;
                    self.outbox.remove(&k)?;
                }
            }
        }
        Ok(out)
    }

    /// Marks a notification delivered. Durable when it returns.
    pub async fn ack(&self, seq: u64) -> Result<(), StoreError> {
        self.outbox.remove(seq.to_be_bytes())?;
        self.flush().await
    }

    // --- team settings, subscriptions, profiles --------------------------------------------------

    pub fn team_settings(&self, team: &TeamId) -> Result<TeamSettings, StoreError> {
        Ok(get(&self.teams, &team.0)?.unwrap_or_default())
    }

    /// Every team with settings.
    pub fn teams(&self) -> Result<Vec<(TeamId, TeamSettings)>, StoreError> {
        self.teams
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((
                    TeamId(String::from_utf8_lossy(&k).into_owned()),
                    decode(&v, "team")?,
                ))
            })
            .collect()
    }

    pub async fn set_team_settings(
        &self,
        team: &TeamId,
        settings: &TeamSettings,
    ) -> Result<(), StoreError> {
        put(&self.teams, &team.0, settings)?;
        self.flush().await
    }

    pub async fn subscribe(
        &self,
        conversation: &Conversation,
        subscription: &Subscription,
    ) -> Result<(), StoreError> {
        put(&self.subscriptions, &conversation.key(), subscription)?;
        self.flush().await
    }

    /// Returns whether there was a subscription.
    pub async fn unsubscribe(&self, conversation: &Conversation) -> Result<bool, StoreError> {
        let removed = self.subscriptions.remove(conversation.key().as_bytes())?;
        self.flush().await?;
        Ok(removed.is_some())
    }

    pub fn subscriptions(&self) -> Result<Vec<(Conversation, Subscription)>, StoreError> {
        self.subscriptions
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let conv = conversation_from_bytes(&k)?;
                Ok((conv, decode(&v, "subscription")?))
            })
            .collect()
    }

    pub fn profile(&self, user_key: &str) -> Result<Option<Contact>, StoreError> {
        get(&self.profiles, user_key)
    }

    pub async fn set_profile(&self, user_key: &str, contact: &Contact) -> Result<(), StoreError> {
        put(&self.profiles, user_key, contact)?;
        self.flush().await
    }

    // --- audit ---------------------------------------------------------------------------------

    /// Appends to the audit log. Durable when it returns.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let seq = self.db.generate_id()?;
        self.audit.insert(seq.to_be_bytes(), encode(entry)?)?;
        self.flush().await
    }

    /// The last `limit` audit entries, oldest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out: Vec<AuditEntry> = self
            .audit
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|v| decode(&v?, "audit"))
            .collect::<Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }
}

fn conversation_from_bytes(raw: &[u8]) -> Result<Conversation, StoreError> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(Conversation::from_key)
        .ok_or_else(|| StoreError::Corrupt {
            key: String::from_utf8_lossy(raw).into_owned(),
            reason: "not a conversation key".into(),
        })
}

fn ticket_from_bytes(raw: &[u8]) -> Result<TicketId, StoreError> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| TicketId::parse(s).ok())
        .ok_or_else(|| StoreError::Corrupt {
            key: String::from_utf8_lossy(raw).into_owned(),
            reason: "not a ticket id".into(),
        })
}

fn get<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    key: &str,
) -> Result<Option<T>, StoreError> {
    tree.get(key.as_bytes())?
        .map(|v| decode(&v, key))
        .transpose()
}

fn put<T: serde::Serialize>(tree: &sled::Tree, key: &str, value: &T) -> Result<(), StoreError> {
    tree.insert(key.as_bytes(), encode(value)?)?;
    Ok(())
}

/// Opens the database, waiting up to [`LOCK_WAIT`] for its file lock: a store closed a moment
/// ago (a restart) is still released by sled's background flusher for a little while.
fn open_db(path: &Path) -> Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match sled::Config::new().path(path).open() {
            Err(sled::Error::Io(e)) if is_held_lock(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Whether opening failed because another handle holds the directory's lock. sled 0.34 reports
/// that as `ErrorKind::Other` with the OS error (`WouldBlock`) only in the text.
fn is_held_lock(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

/// How long opening waits for another handle on the same directory to let go.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Checks (or, on a new database, writes) the schema version and the application marker.
fn check_schema(db: &sled::Db, path: &Path) -> Result<(), StoreError> {
    match (db.get(APP_KEY)?, db.get(SCHEMA_KEY)?) {
        (None, None) => {
            let foreign = !db.is_empty() || db.tree_names().len() > 1;
            if foreign {
                return Err(StoreError::Foreign {
                    path: path.to_path_buf(),
                });
            }
            db.insert(APP_KEY, APP_NAME)?;
            db.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
            db.flush()?;
            Ok(())
        }
        (Some(app), Some(version)) if app.as_ref() == APP_NAME => {
            let found = <[u8; 4]>::try_from(version.as_ref())
                .map(u32::from_be_bytes)
                .map_err(|_| StoreError::Foreign {
                    path: path.to_path_buf(),
                })?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::Newer {
                    path: path.to_path_buf(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Ok(())
        }
        _ => Err(StoreError::Foreign {
            path: path.to_path_buf(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn a_newer_schema_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("opens");
            store
                .db
                .insert(SCHEMA_KEY, &(SCHEMA_VERSION + 1).to_be_bytes())
                .expect("write");
            store.flush().await.expect("flush");
        }
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("written by a newer version (schema 2"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unreadable_outbox_record_is_set_aside_not_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("opens");
        store
            .outbox
            .insert(1u64.to_be_bytes(), b"{not json".as_slice())
            .expect("write");
        let good = Notification {
            key: "k".into(),
            conversation: Conversation::console("s"),
            ticket: TicketId::parse("1").expect("id"),
            changes: vec![],
            created: chrono::Utc::now(),
            audience: Default::default(),
        };
        store
            .outbox
            .insert(2u64.to_be_bytes(), encode(&good).expect("encode"))
            .expect("write");
        let pending = store.pending().expect("pending");
        assert_eq!(pending, vec![(2, good)]);
        assert_eq!(store.unreadable.len(), 1);
        assert_eq!(store.pending().expect("pending").len(), 1);
    }

    #[test]
    fn opening_waits_for_a_handle_that_is_about_to_let_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let held = sled::open(dir.path()).expect("opens");
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        let opened = Store::open(dir.path());
        release.join().expect("released");
        assert!(opened.is_ok(), "{:?}", opened.err());
    }

    #[tokio::test]
    async fn a_sled_database_of_another_program_is_foreign() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let other = sled::open(dir.path()).expect("opens");
            other.insert(b"user:1", b"alice").expect("write");
            other.flush().expect("flush");
        }
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not this bot's"), "{err}");
    }
}
