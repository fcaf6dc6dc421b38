//! Tenants and their API keys as stored: who may call mnemo, on whose data, with what scopes.
//! Deciding whether a caller may do something is the server's access check; this is the data.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Channel, TenantId, Timestamp, UserId};

/// What a tenant key may do. A closed set; each operation needs one scope.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read memory: sessions, units, search, persona.
    Read,
    /// Change memory: store and append sessions, delete them, edit persona statements.
    Write,
    /// Manage the tenant's own API keys.
    Admin,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// The scope's name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?}"))
    }
}

/// A tenant: an owner of users and keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: TenantId,
    pub name: Option<String>,
    pub created_at: Timestamp,
}

/// An API key of a tenant, as stored: never its secret, only the secret's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The public part of the key, sent inside the token and recorded as the audit actor.
    pub key_id: String,
    pub tenant: TenantId,
    pub name: Option<String>,
    /// Sorted, without repeats.
    pub scopes: Vec<Scope>,
    /// The only users the key may reach; `None` for every user of the tenant.
    pub user_ids: Option<Vec<UserId>>,
    /// The only channels the key may declare its writes come through; `None` for any.
    pub channels: Option<Vec<Channel>>,
    pub secret_hash: [u8; 32],
    pub created_at: Timestamp,
    /// Who created it: `admin` or another key's id.
    pub created_by: String,
    pub revoked_at: Option<Timestamp>,
}

/// What deleting a tenant removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantDeleted {
    /// Its keys, revoked and removed.
    pub keys: u64,
    /// Its users, which had no sessions left.
    pub users: u64,
}
