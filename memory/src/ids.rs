//! Newtype identifiers: client-chosen user and session ids, store-assigned turn and unit ids.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{MemoryError, Result};

/// The longest client-chosen identifier we accept, in bytes.
pub(crate) const MAX_ID_LEN: usize = 128;

fn validate_client_id(what: &'static str, value: &str) -> Result<()> {
    let reason = if value.is_empty() {
        Some("must not be empty".to_owned())
    } else if value.len() > MAX_ID_LEN {
        Some(format!("must be at most {MAX_ID_LEN} bytes"))
    } else if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'))
    {
        Some("may contain only ASCII letters, digits and - _ . : @".to_owned())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(MemoryError::InvalidId { what, reason }),
        None => Ok(()),
    }
}

macro_rules! client_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a client-chosen identifier.
            pub fn new(value: impl Into<String>) -> Result<Self> {
                let value = value.into();
                validate_client_id($what, &value)?;
                Ok(Self(value))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

client_id!(
    /// The person remembered, chosen by the client.
    UserId,
    "user_id"
);
client_id!(
    /// One conversation of a user, chosen by the client or generated at ingest.
    SessionId,
    "session_id"
);
client_id!(
    /// An owner of API keys and of the users they remember; chosen by the operator.
    TenantId,
    "tenant_id"
);

impl TenantId {
    /// The tenant that data from before tenants existed, and every caller when authentication
    /// is off, belong to.
    pub fn default_tenant() -> Self {
        Self("default".to_owned())
    }
}

impl SessionId {
    /// Wraps an id mnemo made itself (`s-` and hex digits), which is valid by construction.
    pub(crate) fn derived(value: String) -> Self {
        debug_assert!(validate_client_id("session_id", &value).is_ok());
        Self(value)
    }
}

/// A user as the store and every index know it: the tenant it belongs to and the client's id.
/// Two tenants may use the same [`UserId`]; their users never meet, because nothing below the
/// access check is keyed by a bare [`UserId`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserRef {
    pub tenant: TenantId,
    pub user: UserId,
}

impl UserRef {
    pub fn new(tenant: TenantId, user: UserId) -> Self {
        Self { tenant, user }
    }

    /// A user of the default tenant.
    pub fn of_default(user: UserId) -> Self {
        Self::new(TenantId::default_tenant(), user)
    }

    /// One string naming the user across tenants, `tenant/user` (`/` is in neither id), for
    /// indexes that filter on a single term.
    pub fn key(&self) -> String {
        format!("{}/{}", self.tenant, self.user)
    }
}

impl fmt::Display for UserRef {
    /// The client's id only: messages shown to a tenant never name it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.user.as_str())
    }
}

macro_rules! store_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

store_id!(
    /// A turn, assigned by the store; never reused.
    TurnId
);
store_id!(
    /// A memory unit, assigned by the store; never reused.
    UnitId
);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, ok: bool) {
        assert_eq!(UserId::new(value).is_ok(), ok, "{value:?}");
    }

    #[test]
    fn client_ids_are_validated() {
        check("conv-26", true);
        check("user@example.com", true);
        check("a.b_c:d", true);
        check("", false);
        check("has space", false);
        check("slash/inside", false);
        check("ünïcode", false);
        check(&"x".repeat(MAX_ID_LEN), true);
        check(&"x".repeat(MAX_ID_LEN + 1), false);
    }
}
