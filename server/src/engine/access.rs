//! Who is calling: the [`Access`] value every `Engine` method takes, and the per-user
//! [`UserPass`] it grants. REST, MCP, the CLI and the harness all pass through these checks, so
//! no front end re-implements them.
//!
//! A caller that may not see a user gets exactly the answer a missing user gets
//! (`user_not_found`), so a key never learns whether another tenant's user exists.

use memory::tenancy::{ApiKey, Scope};
use memory::{Channel, MemoryError, TenantId, UserId, UserRef};

use crate::{Error, Result};

/// Why a caller inside the process may reach every user of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Internal {
    /// `mnemo import`: the operator loads a dataset into the data directory.
    Import,
    /// The evaluation harness, on its own data directory.
    Eval,
    /// The command line opening the data directory itself (`mnemo search`): whoever can read
    /// the files can read the memory.
    Cli,
}

impl Internal {
    fn actor(self) -> &'static str {
        match self {
            Internal::Import => "import",
            Internal::Eval => "eval",
            Internal::Cli => "cli",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    /// The operator's admin key: manages tenants and keys and reads server statistics, but
    /// reads no memory (a tenant key does that).
    Admin,
    /// Authentication is off (allowed on loopback only): every operation, on the default
    /// tenant's users.
    Open,
    /// A tenant's API key.
    Key {
        key_id: String,
        tenant: TenantId,
        scopes: Vec<Scope>,
        users: Option<Vec<UserId>>,
        channels: Option<Vec<Channel>>,
    },
    /// A caller inside the process.
    Internal { tenant: TenantId, why: Internal },
}

/// A caller, as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    caller: Caller,
}

/// Permission to act on one user, with the name the audit log records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPass {
    user: UserRef,
    actor: String,
}

impl UserPass {
    /// The user, within the caller's tenant.
    pub fn user(&self) -> &UserRef {
        &self.user
    }

    /// Who acts, for the audit log: a key id, `anonymous`, or an internal caller's name.
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// Which tenants' keys a caller may manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAuthority {
    /// Any tenant's (the admin key, or authentication off).
    Any,
    /// Its own tenant's only, and only for users it may reach itself.
    Tenant {
        tenant: TenantId,
        users: Option<Vec<UserId>>,
    },
}

fn forbidden(reason: impl Into<String>) -> Error {
    Error::Forbidden {
        reason: reason.into(),
    }
}

impl Access {
    /// The operator's admin key.
    pub(crate) fn admin() -> Self {
        Self {
            caller: Caller::Admin,
        }
    }

    /// Everything allowed, on the default tenant: authentication is off.
    pub(crate) fn open() -> Self {
        Self {
            caller: Caller::Open,
        }
    }

    /// A tenant key that authenticated.
    pub(crate) fn key(key: &ApiKey) -> Self {
        Self {
            caller: Caller::Key {
                key_id: key.key_id.clone(),
                tenant: key.tenant.clone(),
                scopes: key.scopes.clone(),
                users: key.user_ids.clone(),
                channels: key.channels.clone(),
            },
        }
    }

    /// A caller inside the process with full access to one tenant's users, saying why.
    pub fn internal(tenant: TenantId, why: Internal) -> Self {
        Self {
            caller: Caller::Internal { tenant, why },
        }
    }

    /// Whether the caller is inside the process (not limited in rate).
    pub fn is_internal(&self) -> bool {
        matches!(self.caller, Caller::Internal { .. })
    }

    /// Who acts, for the audit log.
    pub fn actor(&self) -> &str {
        match &self.caller {
            Caller::Admin => "admin",
            Caller::Open => "anonymous",
            Caller::Key { key_id, .. } => key_id,
            Caller::Internal { why, .. } => why.actor(),
        }
    }

    /// The tenant whose memory the caller reads or writes with `scope`.
    pub fn tenant(&self, scope: Scope) -> Result<TenantId> {
        match &self.caller {
            Caller::Admin => Err(forbidden(
                "the admin key manages tenants and keys; use a tenant's key to reach memory",
            )),
            Caller::Open => Ok(TenantId::default_tenant()),
            Caller::Key { tenant, scopes, .. } => {
                if scopes.contains(&scope) {
                    Ok(tenant.clone())
                } else {
                    Err(forbidden(format!("this key lacks the {scope} scope")))
                }
            }
            Caller::Internal { tenant, .. } => Ok(tenant.clone()),
        }
    }

    /// Permission to act on `user` with `scope`. A user outside the key's allow-list is
    /// answered as missing.
    pub fn user(&self, user: UserId, scope: Scope) -> Result<UserPass> {
        let tenant = self.tenant(scope)?;
        if !self.may_reach(&user) {
            return Err(Error::Memory(MemoryError::UserNotFound {
                user_id: user.to_string(),
            }));
        }
        Ok(UserPass {
            user: UserRef::new(tenant, user),
            actor: self.actor().to_owned(),
        })
    }

    /// Whether the key's allow-list (if any) names `user`.
    pub fn may_reach(&self, user: &UserId) -> bool {
        match &self.caller {
            Caller::Key {
                users: Some(users), ..
            } => users.contains(user),
            _ => true,
        }
    }

    /// Whether the caller may say its writes come through `channel`.
    pub fn declare(&self, channel: Channel) -> Result<()> {
        match &self.caller {
            Caller::Key {
                channels: Some(allowed),
                ..
            } if !allowed.contains(&channel) => Err(forbidden(format!(
                "this key may not write through the {} channel",
                channel.as_str()
            ))),
            _ => Ok(()),
        }
    }

    /// Creating, listing and deleting tenants, and server statistics: the admin key only.
    pub fn operate(&self) -> Result<()> {
        match &self.caller {
            Caller::Admin | Caller::Open => Ok(()),
            Caller::Key { .. } | Caller::Internal { .. } => {
                Err(forbidden("this needs the server's admin key"))
            }
        }
    }

    /// Whose keys the caller may create, list and revoke.
    pub fn key_authority(&self) -> Result<KeyAuthority> {
        match &self.caller {
            Caller::Admin | Caller::Open => Ok(KeyAuthority::Any),
            Caller::Key {
                tenant,
                scopes,
                users,
                ..
            } if scopes.contains(&Scope::Admin) => Ok(KeyAuthority::Tenant {
                tenant: tenant.clone(),
                users: users.clone(),
            }),
            Caller::Key { .. } => Err(forbidden("this key lacks the admin scope")),
            Caller::Internal { .. } => Err(forbidden("internal callers do not manage keys")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::codes::Code;

    fn key(scopes: &[Scope], users: Option<&[&str]>) -> Access {
        Access::key(&ApiKey {
            key_id: "k1".to_owned(),
            tenant: TenantId::new("acme").unwrap(),
            name: None,
            scopes: scopes.to_vec(),
            user_ids: users.map(|u| u.iter().map(|s| UserId::new(*s).unwrap()).collect()),
            channels: Some(vec![Channel::Chat]),
            secret_hash: [0; 32],
            created_at: memory::Timestamp(0),
            created_by: "admin".to_owned(),
            revoked_at: None,
        })
    }

    fn user(id: &str) -> UserId {
        UserId::new(id).unwrap()
    }

    /// The code a user check answers, or `ok`.
    fn check(access: &Access, id: &str, scope: Scope) -> &'static str {
        match access.user(user(id), scope) {
            Ok(_) => "ok",
            Err(e) => Code::from(&e).name(),
        }
    }

    #[test]
    fn scopes_allow_lists_and_callers_decide_user_access() {
        let reader = key(&[Scope::Read], None);
        assert_eq!(check(&reader, "ann", Scope::Read), "ok");
        assert_eq!(check(&reader, "ann", Scope::Write), "forbidden");
        let listed = key(&[Scope::Read, Scope::Write], Some(&["ann"]));
        assert_eq!(check(&listed, "ann", Scope::Write), "ok");
        assert_eq!(check(&listed, "bob", Scope::Read), "user_not_found");
        assert_eq!(check(&Access::admin(), "ann", Scope::Read), "forbidden");
        assert_eq!(check(&Access::open(), "ann", Scope::Write), "ok");
        let internal = Access::internal(TenantId::default_tenant(), Internal::Import);
        assert_eq!(check(&internal, "ann", Scope::Write), "ok");
    }

    #[test]
    fn a_key_declares_only_its_channels() {
        let k = key(&[Scope::Write], None);
        assert!(k.declare(Channel::Chat).is_ok());
        assert!(k.declare(Channel::Tool).is_err());
        assert!(Access::open().declare(Channel::Tool).is_ok());
    }

    #[test]
    fn a_pass_names_the_callers_tenant_and_actor() {
        let pass = key(&[Scope::Read], None)
            .user(user("ann"), Scope::Read)
            .unwrap();
        assert_eq!(pass.user().tenant.as_str(), "acme");
        assert_eq!(pass.actor(), "k1");
        let open = Access::open().user(user("ann"), Scope::Read).unwrap();
        assert_eq!(open.user().tenant, TenantId::default_tenant());
        assert_eq!(open.actor(), "anonymous");
    }

    #[test]
    fn only_the_admin_operates_and_admin_scoped_keys_manage_their_own_tenant() {
        assert!(Access::admin().operate().is_ok());
        assert!(key(&Scope::ALL, None).operate().is_err());
        assert_eq!(
            Access::admin().key_authority().ok(),
            Some(KeyAuthority::Any)
        );
        assert!(matches!(
            key(&[Scope::Admin], None).key_authority(),
            Ok(KeyAuthority::Tenant { .. })
        ));
        assert!(
            key(&[Scope::Read, Scope::Write], None)
                .key_authority()
                .is_err()
        );
    }
}
