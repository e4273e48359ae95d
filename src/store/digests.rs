//! Per feed channel, the last day whose digest was queued (in the watcher's tree, under
//! `digest:<conversation key>`), written in one transaction with the digest itself.

use chrono::NaiveDate;
use sled::Transactional;

use super::outbox::{enqueue, numbered, outbox_records};
use super::{Store, StoreError};
use crate::domain::{Conversation, Notification};

const PREFIX: &str = "digest:";

fn key(conversation: &Conversation) -> String {
    format!("{PREFIX}{}", conversation.key())
}

fn day_from(raw: &[u8]) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&String::from_utf8_lossy(raw), "%Y-%m-%d").ok()
}

impl Store {
    /// The last day whose digest was queued for `conversation` (or noted as its start).
    pub fn digest_day(&self, conversation: &Conversation) -> Result<Option<NaiveDate>, StoreError> {
        Ok(self
            .watcher
            .get(key(conversation).as_bytes())?
            .and_then(|raw| day_from(&raw)))
    }

    /// Records that `conversation` has its digest of `day` and enqueues `digest` (none: a
    /// channel's first day, noted without a message), in one transaction, unless a day as late
    /// was already recorded. Returns whether it recorded. Durable when it returns.
    pub async fn queue_digest(
        &self,
        conversation: &Conversation,
        day: NaiveDate,
        digest: Option<Notification>,
    ) -> Result<bool, StoreError> {
        let key = key(conversation);
        let records = outbox_records(digest.as_slice())?;
        self.durably(move |store| {
            let items = numbered(&store.db, records)?;
            let trees = (&store.watcher, &store.outbox);
            let recorded = trees.transaction(|(watcher, outbox)| {
                let last = watcher.get(key.as_bytes())?.and_then(|raw| day_from(&raw));
                if last.is_some_and(|last| last >= day) {
                    return Ok(false);
                }
                watcher.insert(key.as_bytes(), day.to_string().as_bytes())?;
                enqueue(outbox, &items)?;
                Ok(true)
            })?;
            Ok(recorded)
        })
        .await
    }

    /// Forgets the digest days of conversations not in `feeds` (they stopped following), so a
    /// channel that follows again starts afresh. Returns how many were forgotten.
    pub async fn forget_digests_except(&self, feeds: &[Conversation]) -> Result<usize, StoreError> {
        let keep: Vec<String> = feeds.iter().map(key).collect();
        self.blocking(move |store| {
            let mut gone = 0;
            for k in store.watcher.scan_prefix(PREFIX).keys() {
                let k = k?;
                if !keep.iter().any(|kept| kept.as_bytes() == k.as_ref()) {
                    store.watcher.remove(&k)?;
                    gone += 1;
                }
            }
            Ok(gone)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Digest, Subscription};

    fn digest(day: NaiveDate) -> Notification {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let d = Digest::compute(day, (at, at), "UTC", &Subscription::default(), []);
        Notification::digest(Conversation::discord(5), d, at)
    }

    #[tokio::test]
    async fn a_day_is_queued_once_with_its_record_and_never_for_an_earlier_day() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("opens");
        let here = Conversation::discord(5);
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("day");
        assert!(
            store
                .queue_digest(&here, day(27), None)
                .await
                .expect("noted")
        );
        assert_eq!(store.digest_day(&here).expect("day"), Some(day(27)));
        assert!(store.pending(0, 10).await.expect("outbox").is_empty());

        assert!(
            store
                .queue_digest(&here, day(28), Some(digest(day(28))))
                .await
                .expect("queued")
        );
        assert!(
            !store
                .queue_digest(&here, day(28), Some(digest(day(28))))
                .await
                .expect("again")
        );
        assert!(
            !store
                .queue_digest(&here, day(26), Some(digest(day(26))))
                .await
                .expect("older")
        );
        let pending = store.pending(0, 10).await.expect("outbox");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].1.as_digest().map(|d| d.day), Some(day(28)));

        assert_eq!(
            store
                .forget_digests_except(std::slice::from_ref(&here))
                .await
                .expect("kept"),
            0
        );
        assert_eq!(store.forget_digests_except(&[]).await.expect("forgot"), 1);
        assert_eq!(store.digest_day(&here).expect("day"), None);
    }
}
