//! Tenants and keys through the engine: created, listed, deleted and revoked by the callers
//! allowed to (the admin key for tenants; the admin key or a tenant's `admin`-scoped key for
//! that tenant's keys), and server statistics for operators.

use std::time::Duration;

use memory::tenancy::{ApiKey, Scope, Tenant, TenantDeleted};
use memory::{Channel, MemoryError, TenantId, UserId};

use super::access::{Access, KeyAuthority};
use super::keys::{hash, new_credentials, token};
use super::{Engine, Health, blocking, now};
use crate::{Error, Result};

/// A key to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The tenant; a tenant's own admin key may leave it out.
    pub tenant: Option<TenantId>,
    pub name: Option<String>,
    pub scopes: Vec<Scope>,
    /// The only users the key may reach; `None` for all of the tenant's.
    pub user_ids: Option<Vec<UserId>>,
    /// The only channels the key may declare; `None` for any.
    pub channels: Option<Vec<Channel>>,
}

/// A created key with its token, which is shown this once and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub token: String,
}

/// The longest key or tenant name accepted.
const MAX_NAME_CHARS: usize = 200;
/// The most user ids one key may be limited to.
const MAX_KEY_USERS: usize = 1_000;

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        field,
        reason: reason.into(),
    }
}

fn check_name(name: Option<&str>) -> Result<()> {
    match name {
        Some(n) if n.chars().count() > MAX_NAME_CHARS => Err(invalid(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        )),
        Some(n) if memory::validate::forbidden_in_name(n).is_some() => Err(invalid(
            "name",
            "must not contain control or bidirectional-override characters",
        )),
        _ => Ok(()),
    }
}

/// The tenant a new key belongs to, and its checked scopes and users, as `authority` allows.
fn settle_key(authority: &KeyAuthority, new: NewKey) -> Result<(TenantId, NewKey)> {
    if new.scopes.is_empty() {
        return Err(invalid("scopes", "name at least one scope"));
    }
    if let Some(users) = &new.user_ids
        && (users.is_empty() || users.len() > MAX_KEY_USERS)
    {
        return Err(invalid(
            "user_ids",
            format!("name between 1 and {MAX_KEY_USERS} users, or leave it out"),
        ));
    }
    check_name(new.name.as_deref())?;
    let tenant = match (authority, &new.tenant) {
        (KeyAuthority::Any, Some(t)) => t.clone(),
        (KeyAuthority::Any, None) => return Err(invalid("tenant_id", "name the key's tenant")),
        (KeyAuthority::Tenant { tenant, users }, asked) => {
            if asked.as_ref().is_some_and(|a| a != tenant) {
                // Another tenant is answered as missing, whether it exists or not.
                return Err(Error::Memory(MemoryError::TenantNotFound {
                    tenant_id: asked.as_ref().map(ToString::to_string).unwrap_or_default(),
                }));
            }
            // A key limited to some users creates keys limited to those users at most.
            if let Some(allowed) = users {
                let within = new
                    .user_ids
                    .as_ref()
                    .is_some_and(|asked| asked.iter().all(|u| allowed.contains(u)));
                if !within {
                    return Err(Error::Forbidden {
                        reason: "this key may create keys only for the users it may reach"
                            .to_owned(),
                    });
                }
            }
            tenant.clone()
        }
    };
    let mut scopes = new.scopes;
    scopes.sort_unstable();
    scopes.dedup();
    let mut channels = new.channels;
    if let Some(list) = &mut channels {
        if list.is_empty() {
            return Err(invalid(
                "channels",
                "name at least one channel, or leave it out",
            ));
        }
        list.sort_unstable();
        list.dedup();
    }
    let mut user_ids = new.user_ids;
    if let Some(users) = &mut user_ids {
        users.sort_unstable();
        users.dedup();
    }
    Ok((
        tenant,
        NewKey {
            tenant: None,
            name: new.name,
            scopes,
            user_ids,
            channels,
        },
    ))
}

impl Engine {
    /// The caller a bearer token stands for; with authentication off, every caller is open.
    pub fn authenticate(&self, token: Option<&str>) -> Result<Access> {
        match self.inner.config.auth.mode {
            crate::AuthMode::Off => Ok(Access::open()),
            crate::AuthMode::Keys => self.inner.keys.authenticate(token),
        }
    }

    /// Creates a tenant.
    pub async fn create_tenant(
        &self,
        access: &Access,
        tenant: TenantId,
        name: Option<String>,
    ) -> Result<Tenant> {
        access.operate()?;
        check_name(name.as_deref())?;
        let shared = self.shared();
        blocking(move || {
            Ok(shared
                .store
                .create_tenant(&tenant, name.as_deref(), now())?)
        })
        .await
    }

    /// Every tenant.
    pub async fn tenants(&self, access: &Access) -> Result<Vec<Tenant>> {
        access.operate()?;
        let shared = self.shared();
        blocking(move || Ok(shared.store.list_tenants()?)).await
    }

    /// Deletes a tenant without stored sessions, with its keys (which stop working at once).
    pub async fn delete_tenant(&self, access: &Access, tenant: TenantId) -> Result<TenantDeleted> {
        access.operate()?;
        let shared = self.shared();
        let gone = tenant.clone();
        let deleted = blocking(move || Ok(shared.store.delete_tenant(&gone)?)).await?;
        self.inner.keys.remove(|k| k.tenant == tenant);
        Ok(deleted)
    }

    /// Creates a key; its token is in the answer and nowhere else.
    pub async fn create_key(&self, access: &Access, new: NewKey) -> Result<CreatedKey> {
        let (tenant, new) = settle_key(&access.key_authority()?, new)?;
        let (key_id, secret) = new_credentials()?;
        let key = ApiKey {
            key_id: key_id.clone(),
            tenant,
            name: new.name,
            scopes: new.scopes,
            user_ids: new.user_ids,
            channels: new.channels,
            secret_hash: hash(&secret),
            created_at: now(),
            created_by: access.actor().to_owned(),
            revoked_at: None,
        };
        let shared = self.shared();
        let stored = key.clone();
        blocking(move || Ok(shared.store.insert_key(&stored)?)).await?;
        self.inner.keys.insert(key.clone());
        Ok(CreatedKey {
            key,
            token: token(&key_id, &secret),
        })
    }

    /// Keys the caller may manage (of one tenant, when given), revoked ones included.
    pub async fn keys(&self, access: &Access, tenant: Option<TenantId>) -> Result<Vec<ApiKey>> {
        let filter = match access.key_authority()? {
            KeyAuthority::Any => tenant,
            KeyAuthority::Tenant { tenant: own, .. } => {
                if tenant.as_ref().is_some_and(|t| *t != own) {
                    return Ok(Vec::new());
                }
                Some(own)
            }
        };
        let shared = self.shared();
        blocking(move || Ok(shared.store.list_keys(filter.as_ref())?)).await
    }

    /// Revokes a key the caller may manage; the next request with it fails.
    pub async fn revoke_key(&self, access: &Access, key_id: String) -> Result<ApiKey> {
        let tenant = match access.key_authority()? {
            KeyAuthority::Any => None,
            KeyAuthority::Tenant { tenant, .. } => Some(tenant),
        };
        let shared = self.shared();
        let id = key_id.clone();
        let key =
            blocking(move || Ok(shared.store.revoke_key(&id, tenant.as_ref(), now())?)).await?;
        self.inner.keys.remove(|k| k.key_id == key_id);
        Ok(key)
    }

    /// Sizes of the stores, for operators.
    pub async fn stats(&self, access: &Access) -> Result<Health> {
        access.operate()?;
        self.health().await
    }

    /// Every measurement in the Prometheus text format, for operators.
    pub async fn prometheus_text(&self, access: &Access) -> Result<String> {
        access.operate()?;
        let health = self.health().await?;
        let metrics = &self.inner.shared.metrics;
        let p = metrics.prometheus();
        let m = metrics.snapshot();
        for (name, v) in [
            ("mnemo_sessions_built_total", m.sessions_built),
            ("mnemo_build_failures_total", m.build_failures),
            ("mnemo_units_built_total", m.units_built),
            ("mnemo_texts_embedded_total", m.texts_embedded),
            ("mnemo_association_edges_total", m.edges),
            ("mnemo_searches_total", m.searches),
            ("mnemo_llm_sessions_total", m.llm_sessions),
            ("mnemo_llm_retries_total", m.llm_retries),
            ("mnemo_llm_fallbacks_total", m.llm_fallbacks),
        ] {
            p.total(name, &[], v);
        }
        if let Some((_, usage)) = self.llm_usage() {
            p.total("mnemo_llm_calls_total", &[], usage.calls);
            p.total("mnemo_llm_failed_calls_total", &[], usage.failures);
            p.total(
                "mnemo_llm_tokens_total",
                &[("kind", "prompt".into())],
                usage.prompt_tokens,
            );
            p.total(
                "mnemo_llm_tokens_total",
                &[("kind", "completion".into())],
                usage.completion_tokens,
            );
        }
        p.gauge("mnemo_pending_sessions", health.pending_sessions as f64);
        p.gauge("mnemo_users", health.users as f64);
        p.gauge("mnemo_vectors", health.vectors as f64);
        p.gauge("mnemo_text_documents", health.text_documents as f64);
        Ok(p.render())
    }

    /// Records one answered request (the HTTP layer calls this for every request).
    pub fn record_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.inner
            .shared
            .metrics
            .request(method, route, status, took);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::codes::Code;

    fn new(tenant: Option<&str>, users: Option<&[&str]>) -> NewKey {
        NewKey {
            tenant: tenant.map(|t| TenantId::new(t).unwrap()),
            name: None,
            scopes: vec![Scope::Write, Scope::Read, Scope::Read],
            user_ids: users.map(|u| u.iter().map(|s| UserId::new(*s).unwrap()).collect()),
            channels: None,
        }
    }

    fn own(users: Option<&[&str]>) -> KeyAuthority {
        KeyAuthority::Tenant {
            tenant: TenantId::new("acme").unwrap(),
            users: users.map(|u| u.iter().map(|s| UserId::new(*s).unwrap()).collect()),
        }
    }

    /// The code settling a key answers, or the tenant it lands in.
    fn check(authority: &KeyAuthority, key: NewKey) -> String {
        match settle_key(authority, key) {
            Ok((tenant, _)) => tenant.to_string(),
            Err(e) => Code::from(&e).name().to_owned(),
        }
    }

    #[test]
    fn keys_land_in_the_tenant_their_creator_may_manage() {
        assert_eq!(check(&KeyAuthority::Any, new(Some("beta"), None)), "beta");
        assert_eq!(check(&KeyAuthority::Any, new(None, None)), "invalid_field");
        assert_eq!(check(&own(None), new(None, None)), "acme");
        assert_eq!(check(&own(None), new(Some("acme"), None)), "acme");
        assert_eq!(
            check(&own(None), new(Some("beta"), None)),
            "tenant_not_found"
        );
        assert_eq!(check(&own(Some(&["ann"])), new(None, None)), "forbidden");
        assert_eq!(
            check(&own(Some(&["ann"])), new(None, Some(&["ann", "bob"]))),
            "forbidden"
        );
        assert_eq!(
            check(&own(Some(&["ann"])), new(None, Some(&["ann"]))),
            "acme"
        );
        let mut none = new(None, None);
        none.scopes.clear();
        assert_eq!(check(&own(None), none), "invalid_field");
    }

    #[test]
    fn scopes_are_sorted_without_repeats() {
        let (_, key) = settle_key(&own(None), new(None, None)).unwrap();
        assert_eq!(key.scopes, vec![Scope::Read, Scope::Write]);
    }
}
