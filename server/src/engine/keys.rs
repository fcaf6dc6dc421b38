//! API keys: the token format, the in-memory ring of active keys, and authentication, which
//! turns a presented token into an [`Access`].
//!
//! A token is `mnemo_<key id>_<secret>`: the key id (64 random bits, hex) finds the key, the
//! secret (256 random bits, hex) proves it. Only the secret's SHA-256 is stored, and compared
//! in constant time. Revoking a key removes it from the ring, so the next request fails.

use std::collections::HashMap;
use std::sync::RwLock;

use memory::tenancy::ApiKey;
use sha2::{Digest, Sha256};

use super::access::Access;
use crate::{Error, Result};

const PREFIX: &str = "mnemo_";
const KEY_ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// Random bytes from the operating system, as lowercase hex.
pub(super) fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Task {
        reason: format!("no randomness from the operating system: {e}"),
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A fresh key id and its secret.
pub(super) fn new_credentials() -> Result<(String, String)> {
    Ok((random_hex(KEY_ID_BYTES)?, random_hex(SECRET_BYTES)?))
}

/// The token a client sends for a key.
pub(super) fn token(key_id: &str, secret: &str) -> String {
    format!("{PREFIX}{key_id}_{secret}")
}

pub(super) fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Equality whose time does not depend on where the inputs differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unauthenticated() -> Error {
    // One message for every failure: a caller learns nothing about which part was wrong.
    Error::Unauthenticated {
        reason: "a valid API key is required (Authorization: Bearer <key>)".to_owned(),
    }
}

/// The active keys by id, and the admin key's hash.
#[derive(Debug, Default)]
pub(crate) struct KeyRing {
    admin: Option<[u8; 32]>,
    keys: RwLock<HashMap<String, ApiKey>>,
}

impl KeyRing {
    /// A ring of the active keys among `keys`.
    pub(crate) fn new(admin_key: Option<&str>, keys: Vec<ApiKey>) -> Self {
        let active = keys
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| (k.key_id.clone(), k))
            .collect();
        Self {
            admin: admin_key.map(hash),
            keys: RwLock::new(active),
        }
    }

    /// Adds a new key.
    pub(crate) fn insert(&self, key: ApiKey) {
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(key.key_id.clone(), key);
        }
    }

    /// Removes keys: the next request with them fails.
    pub(crate) fn remove(&self, mut gone: impl FnMut(&ApiKey) -> bool) {
        if let Ok(mut keys) = self.keys.write() {
            keys.retain(|_, k| !gone(k));
        }
    }

    /// The caller a bearer token stands for.
    pub(crate) fn authenticate(&self, token: Option<&str>) -> Result<Access> {
        let token = token.ok_or_else(unauthenticated)?;
        let presented = hash(token);
        if let Some(admin) = &self.admin
            && same(admin, &presented)
        {
            return Ok(Access::admin());
        }
        let (key_id, secret) = token
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .ok_or_else(unauthenticated)?;
        let keys = self.keys.read().map_err(|_| unauthenticated())?;
        let key = keys.get(key_id).ok_or_else(unauthenticated)?;
        if same(&key.secret_hash, &hash(secret)) {
            Ok(Access::key(key))
        } else {
            Err(unauthenticated())
        }
    }
}

#[cfg(test)]
mod tests {
    use memory::tenancy::Scope;
    use memory::{TenantId, Timestamp};

    use super::*;

    fn stored(key_id: &str, secret: &str) -> ApiKey {
        ApiKey {
            key_id: key_id.to_owned(),
            tenant: TenantId::new("acme").unwrap(),
            name: None,
            scopes: vec![Scope::Read],
            user_ids: None,
            channels: None,
            secret_hash: hash(secret),
            created_at: Timestamp(0),
            created_by: "admin".to_owned(),
            revoked_at: None,
        }
    }

    #[test]
    fn tokens_authenticate_until_their_key_is_removed() {
        let (id, secret) = new_credentials().unwrap();
        assert_eq!(id.len(), 16);
        assert_eq!(secret.len(), 64);
        let admin = "a".repeat(40);
        let ring = KeyRing::new(Some(&admin), vec![stored(&id, &secret)]);
        let access = ring.authenticate(Some(&token(&id, &secret))).unwrap();
        assert_eq!(access.actor(), id);
        assert_eq!(ring.authenticate(Some(&admin)).unwrap(), Access::admin());
        for bad in [
            None,
            Some(""),
            Some("mnemo_"),
            Some("Bearer x"),
            Some(&token(&id, "0")),
            Some(&token("ffff", &secret)),
        ] {
            assert!(ring.authenticate(bad).is_err(), "{bad:?}");
        }
        ring.remove(|k| k.key_id == id);
        assert!(ring.authenticate(Some(&token(&id, &secret))).is_err());
    }

    #[test]
    fn revoked_keys_never_enter_the_ring() {
        let mut key = stored("k", "s");
        key.revoked_at = Some(Timestamp(1));
        let ring = KeyRing::new(None, vec![key]);
        assert!(ring.authenticate(Some(&token("k", "s"))).is_err());
    }
}
