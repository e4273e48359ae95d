//! The audit log: who did what, from where, with what outcome, in order.

use super::codec::{decode, encode};
use super::{Store, StoreError};
use crate::domain::AuditEntry;

impl Store {
    /// Appends to the audit log. Durable when it returns.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let entry = encode(entry)?;
        self.durably(move |store| {
            let seq = store.db.generate_id()?;
            store.audit.insert(seq.to_be_bytes(), entry)?;
            Ok(())
        })
        .await
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
