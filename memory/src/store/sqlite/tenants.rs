//! Tenants and their API keys: created, listed, revoked. Keys are stored with a hash of their
//! secret only.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::tenancy::{ApiKey, Scope, Tenant, TenantDeleted};
use crate::{Channel, MemoryError, Result, TenantId, Timestamp, UserId};

fn tenant_exists(conn: &Connection, tenant: &TenantId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM tenants WHERE tenant_id = ?1")?
        .query_row([tenant.as_str()], |_| Ok(()))
        .optional()?
        .is_some())
}

fn require_tenant(conn: &Connection, tenant: &TenantId) -> Result<()> {
    if tenant_exists(conn, tenant)? {
        Ok(())
    } else {
        Err(MemoryError::TenantNotFound {
            tenant_id: tenant.to_string(),
        })
    }
}

const KEY_COLUMNS: &str = "key_id, tenant, name, scopes, user_ids, secret_hash, created_at,
    created_by, revoked_at, channels";

/// A key row before its ids and scopes are checked.
struct RawKey {
    key_id: String,
    tenant: String,
    name: Option<String>,
    scopes: String,
    user_ids: Option<String>,
    secret_hash: Vec<u8>,
    created_at: i64,
    created_by: String,
    revoked_at: Option<i64>,
    channels: Option<String>,
}

fn raw_key(r: &Row<'_>) -> rusqlite::Result<RawKey> {
    Ok(RawKey {
        key_id: r.get(0)?,
        tenant: r.get(1)?,
        name: r.get(2)?,
        scopes: r.get(3)?,
        user_ids: r.get(4)?,
        secret_hash: r.get(5)?,
        created_at: r.get(6)?,
        created_by: r.get(7)?,
        revoked_at: r.get(8)?,
        channels: r.get(9)?,
    })
}

fn corrupt(what: impl std::fmt::Display) -> MemoryError {
    MemoryError::Corrupt {
        reason: format!("stored API key has {what}"),
    }
}

fn finish_key(raw: RawKey) -> Result<ApiKey> {
    let scopes = raw
        .scopes
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Scope>().map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    let user_ids = match raw.user_ids {
        None => None,
        Some(json) => {
            let ids: Vec<String> = serde_json::from_str(&json).map_err(corrupt)?;
            Some(
                ids.into_iter()
                    .map(UserId::new)
                    .collect::<Result<Vec<_>>>()?,
            )
        }
    };
    let channels = raw
        .channels
        .map(|list| {
            list.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Channel::from_stored(s).ok_or_else(|| corrupt(format!("channel {s:?}"))))
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    let secret_hash: [u8; 32] = raw
        .secret_hash
        .try_into()
        .map_err(|_| corrupt("a secret hash of the wrong length"))?;
    Ok(ApiKey {
        key_id: raw.key_id,
        tenant: TenantId::new(raw.tenant)?,
        name: raw.name,
        scopes,
        user_ids,
        channels,
        secret_hash,
        created_at: Timestamp(raw.created_at),
        created_by: raw.created_by,
        revoked_at: raw.revoked_at.map(Timestamp),
    })
}

impl SqliteStore {
    /// Creates a tenant.
    pub fn create_tenant(
        &self,
        tenant: &TenantId,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<Tenant> {
        self.write(|tx| {
            if tenant_exists(tx, tenant)? {
                return Err(MemoryError::TenantExists {
                    tenant_id: tenant.to_string(),
                });
            }
            tx.prepare_cached(
                "INSERT INTO tenants (tenant_id, name, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![tenant.as_str(), name, now.0])?;
            Ok(Tenant {
                tenant_id: tenant.clone(),
                name: name.map(str::to_owned),
                created_at: now,
            })
        })
    }

    /// Every tenant, in id order.
    pub fn list_tenants(&self) -> Result<Vec<Tenant>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT tenant_id, name, created_at FROM tenants ORDER BY tenant_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, name, at) = row?;
                out.push(Tenant {
                    tenant_id: TenantId::new(id)?,
                    name,
                    created_at: Timestamp(at),
                });
            }
            Ok(out)
        })
    }

    /// Deletes a tenant that has no stored session, with its keys and its (empty) users. The
    /// default tenant is never deleted: data from before tenants, and callers when
    /// authentication is off, belong to it.
    pub fn delete_tenant(&self, tenant: &TenantId) -> Result<TenantDeleted> {
        if *tenant == TenantId::default_tenant() {
            return Err(MemoryError::InvalidField {
                field: "tenant_id",
                reason: "the default tenant cannot be deleted".to_owned(),
            });
        }
        self.write(|tx| {
            require_tenant(tx, tenant)?;
            let sessions: i64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_pk
                     WHERE u.tenant = ?1",
                )?
                .query_row([tenant.as_str()], |r| r.get(0))?;
            if sessions > 0 {
                return Err(MemoryError::TenantNotEmpty {
                    tenant_id: tenant.to_string(),
                    sessions: sessions as u64,
                });
            }
            let keys = tx
                .prepare_cached("DELETE FROM api_keys WHERE tenant = ?1")?
                .execute([tenant.as_str()])? as u64;
            let users = tx
                .prepare_cached("DELETE FROM users WHERE tenant = ?1")?
                .execute([tenant.as_str()])? as u64;
            tx.prepare_cached("DELETE FROM tenants WHERE tenant_id = ?1")?
                .execute([tenant.as_str()])?;
            Ok(TenantDeleted { keys, users })
        })
    }

    /// Stores a new key. Its tenant must exist.
    pub fn insert_key(&self, key: &ApiKey) -> Result<()> {
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        let user_ids = key
            .user_ids
            .as_ref()
            .map(|ids| serde_json::Value::from(ids.iter().map(|u| u.as_str()).collect::<Vec<_>>()))
            .map(|v| v.to_string());
        self.write(|tx| {
            require_tenant(tx, &key.tenant)?;
            tx.prepare_cached(&format!(
                "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))?
            .execute(params![
                key.key_id,
                key.tenant.as_str(),
                key.name,
                scopes.join(","),
                user_ids,
                key.secret_hash.as_slice(),
                key.created_at.0,
                key.created_by,
                key.revoked_at.map(|t| t.0),
                key.channels.as_ref().map(|list| {
                    list.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
                }),
            ])?;
            Ok(())
        })
    }

    /// Keys, of one tenant or of all, revoked ones included, oldest first.
    pub fn list_keys(&self, tenant: Option<&TenantId>) -> Result<Vec<ApiKey>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE ?1 IS NULL OR tenant = ?1
                 ORDER BY created_at, key_id"
            ))?;
            let rows = stmt.query_map([tenant.map(TenantId::as_str)], raw_key)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(finish_key(row?)?);
            }
            Ok(out)
        })
    }

    /// Revokes a key (of `tenant`, when given); revoking a revoked key changes nothing.
    pub fn revoke_key(
        &self,
        key_id: &str,
        tenant: Option<&TenantId>,
        now: Timestamp,
    ) -> Result<ApiKey> {
        self.write(|tx| {
            let found = tx
                .prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys
                     WHERE key_id = ?1 AND (?2 IS NULL OR tenant = ?2)"
                ))?
                .query_row(params![key_id, tenant.map(TenantId::as_str)], raw_key)
                .optional()?;
            let Some(raw) = found else {
                return Err(MemoryError::KeyNotFound {
                    key_id: key_id.to_owned(),
                });
            };
            let mut key = finish_key(raw)?;
            if key.revoked_at.is_none() {
                tx.prepare_cached("UPDATE api_keys SET revoked_at = ?2 WHERE key_id = ?1")?
                    .execute(params![key_id, now.0])?;
                key.revoked_at = Some(now);
            }
            Ok(key)
        })
    }
}
