//! Reading the audit log of a user.

use memory::store::{AuditEntry, AuditQuery};
use memory::tenancy::Scope;
use memory::{MemoryError, UserId};

use super::access::Access;
use super::{Engine, blocking};
use crate::Result;

impl Engine {
    /// A page of the audit entries about a user, oldest first. An erased user's log holds the
    /// erase entry; a user never stored answers not found.
    pub async fn audit(
        &self,
        access: &Access,
        user: UserId,
        query: AuditQuery,
    ) -> Result<Vec<AuditEntry>> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || {
            shared
                .store
                .audit_entries(pass.user(), &query)?
                .ok_or_else(|| {
                    MemoryError::UserNotFound {
                        user_id: pass.user().to_string(),
                    }
                    .into()
                })
        })
        .await
    }
}
