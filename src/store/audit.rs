//! The audit log: who did what, from where, with what outcome, in order.

use super::codec::{decode, encode};
use super::{Store, StoreError};
use crate::domain::AuditEntry;

impl Store {
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
