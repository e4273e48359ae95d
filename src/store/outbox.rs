//! The outbox: notifications not yet delivered, under increasing sequence numbers, written in the
//! same transaction as the change that caused them and removed once delivered.

use sled::transaction::ConflictableTransactionError;

use super::codec::{decode, encode};
use super::{Store, StoreError};
use crate::domain::Notification;

/// Outbox records for `notifications`, each under a fresh sequence number.
pub(super) fn outbox_items(
    db: &sled::Db,
    notifications: &[Notification],
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    notifications
        .iter()
        .map(|n| Ok((db.generate_id()?, encode(n)?)))
        .collect()
}

/// Writes outbox records inside a transaction.
pub(super) fn enqueue(
    outbox: &sled::transaction::TransactionalTree,
    items: &[(u64, Vec<u8>)],
) -> Result<(), ConflictableTransactionError<StoreError>> {
    for (seq, item) in items {
        outbox.insert(&seq.to_be_bytes(), item.as_slice())?;
    }
    Ok(())
}

impl Store {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Conversation, TicketId};

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
}
