//! The unit catalog: each unit's place in its conversation (session, turn span, speaker, time),
//! kept in memory so that retrieval can relate units structurally (a turn's neighbours, the
//! session a unit belongs to) without a database round trip. Loaded from the record store.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::build::{mentions_time, only_asks};
use crate::store::{IndexedUnit, SessionKey};
use crate::{Granularity, MemoryError, Result, Timestamp, UnitId, UserRef};

/// Where a unit sits in its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitMeta {
    pub unit_id: UnitId,
    pub granularity: Granularity,
    pub session_key: SessionKey,
    pub first_position: u32,
    pub last_position: u32,
    /// The speaker, for a turn unit.
    pub speaker: Option<String>,
    pub event_time: Timestamp,
    /// A turn that only asks (see [`crate::build::only_asks`]).
    pub only_asks: bool,
    /// A turn that says when something happened (see [`crate::build::mentions_time`]).
    pub mentions_time: bool,
}

impl From<&IndexedUnit> for UnitMeta {
    fn from(u: &IndexedUnit) -> Self {
        // A turn's text without its speaker's name.
        let turn_body = (u.granularity == Granularity::Turn).then(|| {
            let speaker = u.speaker.as_deref().unwrap_or_default().trim();
            u.text
                .strip_prefix(speaker)
                .and_then(|t| t.strip_prefix(": "))
                .unwrap_or(&u.text)
        });
        Self {
            unit_id: u.unit_id,
            granularity: u.granularity,
            session_key: u.session_key,
            first_position: u.first_position,
            last_position: u.last_position,
            speaker: u.speaker.clone(),
            event_time: u.event_time,
            only_asks: turn_body.is_some_and(only_asks),
            mentions_time: turn_body.is_some_and(mentions_time),
        }
    }
}

/// One user's units.
#[derive(Debug, Default)]
pub struct UserCatalog {
    units: HashMap<UnitId, UnitMeta>,
    /// Turn units by session and position.
    turns: HashMap<(SessionKey, u32), UnitId>,
}

impl UserCatalog {
    /// A unit's metadata.
    pub fn get(&self, unit: UnitId) -> Option<&UnitMeta> {
        self.units.get(&unit)
    }

    /// The turn unit at a position of a session.
    pub fn turn_at(&self, session: SessionKey, position: u32) -> Option<UnitId> {
        self.turns.get(&(session, position)).copied()
    }

    /// Every unit.
    pub fn units(&self) -> impl Iterator<Item = &UnitMeta> {
        self.units.values()
    }

    /// The distinct speakers of the user's turns.
    pub fn speakers(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .units
            .values()
            .filter_map(|u| u.speaker.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Every user's catalog.
#[derive(Debug, Default)]
pub struct Catalog {
    users: RwLock<HashMap<UserRef, UserCatalog>>,
}

fn poisoned() -> MemoryError {
    MemoryError::Corrupt {
        reason: "catalog lock poisoned by an earlier panic".to_owned(),
    }
}

impl Catalog {
    /// Adds or replaces units.
    pub fn upsert(&self, user: &UserRef, units: &[IndexedUnit]) -> Result<()> {
        let mut users = self.users.write().map_err(|_| poisoned())?;
        let catalog = users.entry(user.clone()).or_default();
        for u in units {
            if u.granularity == Granularity::Turn {
                catalog
                    .turns
                    .insert((u.session_key, u.first_position), u.unit_id);
            }
            catalog.units.insert(u.unit_id, UnitMeta::from(u));
        }
        Ok(())
    }

    /// Removes a session's units, returning their ids.
    pub fn remove_session(&self, user: &UserRef, session: SessionKey) -> Result<Vec<UnitId>> {
        let mut users = self.users.write().map_err(|_| poisoned())?;
        let Some(catalog) = users.get_mut(user) else {
            return Ok(Vec::new());
        };
        let gone: Vec<UnitId> = catalog
            .units
            .values()
            .filter(|u| u.session_key == session)
            .map(|u| u.unit_id)
            .collect();
        for id in &gone {
            catalog.units.remove(id);
        }
        catalog.turns.retain(|(s, _), _| *s != session);
        if catalog.units.is_empty() {
            users.remove(user);
        }
        Ok(gone)
    }

    /// Removes these units.
    pub fn remove_units(&self, user: &UserRef, units: &[UnitId]) -> Result<()> {
        let mut users = self.users.write().map_err(|_| poisoned())?;
        let Some(catalog) = users.get_mut(user) else {
            return Ok(());
        };
        for id in units {
            catalog.units.remove(id);
        }
        catalog.turns.retain(|_, id| !units.contains(id));
        if catalog.units.is_empty() {
            users.remove(user);
        }
        Ok(())
    }

    /// The users with at least one unit.
    pub fn users(&self) -> Result<Vec<UserRef>> {
        let users = self.users.read().map_err(|_| poisoned())?;
        Ok(users.keys().cloned().collect())
    }

    /// Runs `f` with a user's catalog (empty when the user has none).
    pub fn with_user<T>(&self, user: &UserRef, f: impl FnOnce(&UserCatalog) -> T) -> Result<T> {
        let users = self.users.read().map_err(|_| poisoned())?;
        let empty = UserCatalog::default();
        Ok(f(users.get(user).unwrap_or(&empty)))
    }
}
