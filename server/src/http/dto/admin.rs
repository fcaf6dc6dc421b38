//! Wire types of the admin endpoints: tenants, keys and server statistics.

use memory::tenancy::{ApiKey, Scope, Tenant, TenantDeleted};
use memory::{Channel, TenantId, UserId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::{CreatedKey, Health, NewKey};
use crate::http::error::ApiError;

/// The body of `POST /v1/admin/tenants`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantIn {
    #[schemars(schema_with = "super::id_schema")]
    tenant_id: String,
    #[serde(default)]
    name: Option<String>,
}

impl TenantIn {
    pub(crate) fn into_parts(self) -> Result<(TenantId, Option<String>), ApiError> {
        Ok((TenantId::new(self.tenant_id)?, self.name))
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TenantOut {
    tenant_id: String,
    name: Option<String>,
    created_at: String,
}

impl From<Tenant> for TenantOut {
    fn from(t: Tenant) -> Self {
        Self {
            tenant_id: t.tenant_id.to_string(),
            name: t.name,
            created_at: t.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TenantListOut {
    tenants: Vec<TenantOut>,
}

impl From<Vec<Tenant>> for TenantListOut {
    fn from(tenants: Vec<Tenant>) -> Self {
        Self {
            tenants: tenants.into_iter().map(TenantOut::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TenantDeletedOut {
    tenant_id: String,
    keys: u64,
    users: u64,
}

impl TenantDeletedOut {
    pub(crate) fn new(tenant: &TenantId, deleted: TenantDeleted) -> Self {
        Self {
            tenant_id: tenant.to_string(),
            keys: deleted.keys,
            users: deleted.users,
        }
    }
}

/// The body of `POST /v1/admin/keys`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyIn {
    #[serde(default)]
    #[schemars(schema_with = "super::optional_id_schema")]
    tenant_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[schemars(length(min = 1))]
    scopes: Vec<Scope>,
    #[serde(default)]
    #[schemars(schema_with = "super::optional_ids_schema")]
    user_ids: Option<Vec<String>>,
    #[serde(default)]
    channels: Option<Vec<Channel>>,
}

impl KeyIn {
    pub(crate) fn into_new_key(self) -> Result<NewKey, ApiError> {
        Ok(NewKey {
            tenant: self.tenant_id.map(TenantId::new).transpose()?,
            name: self.name,
            scopes: self.scopes,
            user_ids: self
                .user_ids
                .map(|ids| ids.into_iter().map(UserId::new).collect())
                .transpose()?,
            channels: self.channels,
        })
    }
}

/// Query of `GET /v1/admin/keys`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyQuery {
    #[serde(default)]
    #[schemars(schema_with = "super::id_schema")]
    tenant_id: Option<String>,
}

impl KeyQuery {
    pub(crate) fn tenant(self) -> Result<Option<TenantId>, ApiError> {
        Ok(self.tenant_id.map(TenantId::new).transpose()?)
    }
}

/// A key as listed: never its secret.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct KeyOut {
    key_id: String,
    tenant_id: String,
    name: Option<String>,
    scopes: Vec<Scope>,
    user_ids: Option<Vec<String>>,
    channels: Option<Vec<Channel>>,
    created_at: String,
    created_by: String,
    revoked_at: Option<String>,
}

impl From<ApiKey> for KeyOut {
    fn from(k: ApiKey) -> Self {
        Self {
            key_id: k.key_id,
            tenant_id: k.tenant.to_string(),
            name: k.name,
            scopes: k.scopes,
            user_ids: k
                .user_ids
                .map(|ids| ids.into_iter().map(|u| u.to_string()).collect()),
            channels: k.channels,
            created_at: k.created_at.to_rfc3339(),
            created_by: k.created_by,
            revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// A new key with its token, shown this once.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CreatedKeyOut {
    #[serde(flatten)]
    key: KeyOut,
    /// Send as `Authorization: Bearer <token>`. Not stored; cannot be shown again.
    token: String,
}

impl From<CreatedKey> for CreatedKeyOut {
    fn from(c: CreatedKey) -> Self {
        Self {
            key: c.key.into(),
            token: c.token,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct KeyListOut {
    keys: Vec<KeyOut>,
}

impl From<Vec<ApiKey>> for KeyListOut {
    fn from(keys: Vec<ApiKey>) -> Self {
        Self {
            keys: keys.into_iter().map(KeyOut::from).collect(),
        }
    }
}

/// Server statistics for operators.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct StatsOut {
    version: &'static str,
    users: usize,
    vectors: usize,
    text_documents: u64,
    pending_sessions: usize,
    /// The language model's use, when one is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    llm: Option<LlmOut>,
}

/// What the language model did since the start.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct LlmOut {
    pub(crate) model: String,
    /// Sessions whose summary, keywords and facts the model built.
    pub(crate) sessions: u64,
    /// Malformed or off-schema replies asked again.
    pub(crate) retries: u64,
    /// Sessions built extractively after the model failed.
    pub(crate) fallbacks: u64,
    pub(crate) calls: u64,
    pub(crate) failed_calls: u64,
    pub(crate) prompt_tokens: u64,
    pub(crate) completion_tokens: u64,
}

impl StatsOut {
    pub(crate) fn new(h: Health, llm: Option<LlmOut>) -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION"),
            users: h.users,
            vectors: h.vectors,
            text_documents: h.text_documents,
            pending_sessions: h.pending_sessions,
            llm,
        }
    }
}
