//! Path parameters, named so that the OpenAPI document names and describes each one.

use memory::{SessionId, TenantId, TurnId, UserId};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::http::error::ApiError;

/// `{user_id}`
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct UserPath {
    /// The user whose memory this is: 1 to 128 ASCII letters, digits and `- _ . : @`.
    #[schemars(schema_with = "super::id_schema")]
    user_id: String,
}

impl UserPath {
    pub(crate) fn user(self) -> Result<UserId, ApiError> {
        super::user_id(self.user_id)
    }
}

/// `{user_id}` and `{session_id}`
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct SessionPath {
    /// The user whose memory this is.
    #[schemars(schema_with = "super::id_schema")]
    user_id: String,
    /// The session: 1 to 128 ASCII letters, digits and `- _ . : @`.
    #[schemars(schema_with = "super::id_schema")]
    session_id: String,
}

impl SessionPath {
    pub(crate) fn ids(self) -> Result<(UserId, SessionId), ApiError> {
        Ok((
            super::user_id(self.user_id)?,
            super::session_id(self.session_id)?,
        ))
    }
}

/// `{user_id}` and `{unit_id}`
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct UnitPath {
    /// The user whose memory this is.
    #[schemars(schema_with = "super::id_schema")]
    user_id: String,
    /// The memory unit's number.
    pub(crate) unit_id: i64,
}

impl UnitPath {
    pub(crate) fn ids(self) -> Result<(UserId, i64), ApiError> {
        Ok((super::user_id(self.user_id)?, self.unit_id))
    }
}

/// `{user_id}`, `{session_id}` and `{turn_id}`
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct TurnPath {
    /// The user whose memory this is.
    #[schemars(schema_with = "super::id_schema")]
    user_id: String,
    /// The session.
    #[schemars(schema_with = "super::id_schema")]
    session_id: String,
    /// The turn's number (`turn_id` in a session's turns).
    turn_id: i64,
}

impl TurnPath {
    pub(crate) fn ids(self) -> Result<(UserId, SessionId, TurnId), ApiError> {
        Ok((
            super::user_id(self.user_id)?,
            super::session_id(self.session_id)?,
            TurnId(self.turn_id),
        ))
    }
}

/// `{user_id}` and `{statement_id}`
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct StatementPath {
    /// The user whose persona this is.
    #[schemars(schema_with = "super::id_schema")]
    user_id: String,
    /// The persona statement's number.
    statement_id: i64,
}

impl StatementPath {
    pub(crate) fn ids(self) -> Result<(UserId, i64), ApiError> {
        Ok((super::user_id(self.user_id)?, self.statement_id))
    }
}

/// `{tenant_id}`
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct TenantPath {
    /// The tenant: 1 to 128 ASCII letters, digits and `- _ . : @`.
    #[schemars(schema_with = "super::id_schema")]
    tenant_id: String,
}

impl TenantPath {
    pub(crate) fn tenant(self) -> Result<TenantId, ApiError> {
        Ok(TenantId::new(self.tenant_id)?)
    }
}

/// `{key_id}`
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct KeyPath {
    /// The API key's public id (never its secret).
    pub(crate) key_id: String,
}
