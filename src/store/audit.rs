//! The audit log: who did what, from where, with what outcome, in order; the newest
//! `store.audit_keep` entries are kept.

use super::codec::{decode, encode};
use super::{Store, StoreError};
use crate::domain::AuditEntry;

/// Whether writing an audit entry waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk before [`Store::audit`] returns: the entry of a change the bot made (or tried to).
    Flushed,
    /// Written without waiting for the disk (sled writes it within half a second): the entry of
    /// something that changed nothing (a refused interaction, a denied command), so a flood of
    /// those costs no fsync each.
    Unflushed,
}

impl Store {
    /// Appends to the audit log, dropping the oldest entries beyond `audit_keep`.
    pub async fn audit(
        &self,
        entry: &AuditEntry,
        durability: Durability,
    ) -> Result<(), StoreError> {
        let entry = encode(entry)?;
        let append = move |store: &Store| store.append_audit(entry);
        match durability {
            Durability::Flushed => self.durably(append).await,
            Durability::Unflushed => self.blocking(append).await,
        }
    }

    /// Writes one entry and trims the log to `audit_keep` (blocking).
    fn append_audit(&self, entry: Vec<u8>) -> Result<(), StoreError> {
        let mut entries = self
            .audit_entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let seq = self.db.generate_id()?;
        self.audit.insert(seq.to_be_bytes(), entry)?;
        *entries += 1;
        while *entries > self.options.audit_keep {
            if self.audit.pop_min()?.is_none() {
                *entries = 0;
                break;
            }
            *entries -= 1;
        }
        Ok(())
    }

    /// The last `limit` audit entries, oldest first.
    pub async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.blocking(move |store| {
            let mut out: Vec<AuditEntry> = store
                .audit
                .iter()
                .values()
                .rev()
                .take(limit)
                .map(|v| decode(&v?, "audit"))
                .collect::<Result<_, _>>()?;
            out.reverse();
            Ok(out)
        })
        .await
    }
}
