//! The outbox: notifications not yet delivered, under increasing sequence numbers, written in the
//! same transaction as the change that caused them and removed once delivered.

use chrono::{DateTime, Utc};
use sled::transaction::ConflictableTransactionError;

use super::codec::{decode, encode};
use super::{Store, StoreError};
use crate::domain::Notification;

/// The outbox records of `notifications`, encoded.
pub(super) fn outbox_records(notifications: &[Notification]) -> Result<Vec<Vec<u8>>, StoreError> {
    notifications.iter().map(encode).collect()
}

/// Each record under a fresh sequence number.
pub(super) fn numbered(
    db: &sled::Db,
    records: Vec<Vec<u8>>,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    records
        .into_iter()
        .map(|r| Ok((db.generate_id()?, r)))
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
    /// Notifications not yet delivered, oldest first: at most `limit` of them, from sequence
    /// number `from` on (the next batch starts after the last one's last number), so a long
    /// outbox is never loaded whole.
    ///
    /// A record that cannot be read is moved to the `outbox_unreadable` tree and logged, so one
    /// bad record cannot block every delivery after it; it stays there for inspection.
    pub async fn pending(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Notification)>, StoreError> {
        self.blocking(move |store| {
            let mut out = Vec::new();
            for kv in store.outbox.range(from.to_be_bytes()..) {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = kv?;
                match read_record(&k, &v) {
                    Ok(item) => out.push(item),
                    Err(e) => {
                        tracing::error!(error = %e, "unreadable outbox record set aside");
                        store.unreadable.insert(&k, v)?;
                        store.outbox.remove(&k)?;
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// How many notifications wait, and when the oldest readable one was made (for the metrics
    /// and the readiness probe; a read of the store, so it also says the store answers).
    pub async fn outbox_stats(&self) -> Result<(usize, Option<DateTime<Utc>>), StoreError> {
        self.blocking(move |store| {
            let depth = store.outbox.len();
            let oldest = store
                .outbox
                .iter()
                .find_map(|kv| kv.ok().and_then(|(k, v)| read_record(&k, &v).ok()))
                .map(|(_, n)| n.created);
            Ok((depth, oldest))
        })
        .await
    }

    /// Marks a notification delivered. Durable when it returns.
    pub async fn ack(&self, seq: u64) -> Result<(), StoreError> {
        self.durably(move |store| {
            store.outbox.remove(seq.to_be_bytes())?;
            Ok(())
        })
        .await
    }
}

/// One outbox record: its sequence number and notification.
fn read_record(key: &[u8], value: &[u8]) -> Result<(u64, Notification), StoreError> {
    let seq = <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt {
            key: format!("outbox {key:?}"),
            reason: "not a sequence number",
        })?;
    Ok((seq, decode(value, "outbox")?))
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
        let pending = store.pending(0, usize::MAX).await.expect("pending");
        assert_eq!(pending, vec![(2, good)]);
        assert_eq!(store.unreadable.len(), 1);
        assert_eq!(
            store.pending(0, usize::MAX).await.expect("pending").len(),
            1
        );
    }
}
