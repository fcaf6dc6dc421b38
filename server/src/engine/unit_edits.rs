//! A person's edits and deletes of units. Each runs on the worker, in order with builds, and
//! the derived indexes follow before the answer: an edited unit is embedded again, indexed
//! again in both channels and associated again.

use memory::store::{Actor, Edge, UnitVersion};
use memory::tenancy::Scope;
use memory::vector_index::VectorEntry;
use memory::{MemoryError, Unit, UnitId, UserId};

use super::access::Access;
use super::association::links;
use super::pipeline::commit_text_index;
use super::{Engine, blocking, check_edit_text, now};
use crate::Result;

impl Engine {
    /// A person corrects a unit's text (any granularity but `fact`, whose statement is what
    /// changes). Answers with the unit as stored, with its new association links.
    pub async fn edit_unit(
        &self,
        access: &Access,
        user: UserId,
        unit: UnitId,
        text: String,
    ) -> Result<(Unit, Vec<(UnitId, f32)>)> {
        let pass = access.user(user, Scope::Write)?;
        check_edit_text(&text, self.config().limits.max_text_chars)?;
        self.on_worker(move |parts| {
            let user = pass.user();
            // Not found (or another user's) before any model time is spent.
            parts.store.get_unit(user, unit)?;
            let Some(before) = parts.store.indexed_units(&[unit])?.pop() else {
                return Err(MemoryError::UnitNotFound { unit_id: unit.0 }.into());
            };
            let embedding = parts
                .embedder
                .embed(&[text.as_str()])?
                .pop()
                .ok_or_else(|| MemoryError::Embedding {
                    reason: "the model returned no vector".to_owned(),
                })?;
            let chosen: Vec<(UnitId, f32)> =
                links(parts, user, before.session_key, &[embedding.as_slice()])?
                    .into_iter()
                    .map(|(_, to, weight)| (to, weight))
                    .collect();
            let edited = parts.store.edit_unit(
                user,
                unit,
                &text,
                &embedding,
                &chosen,
                now(),
                Actor(pass.actor()),
            )?;
            parts.graph.remove_units(user, &[unit])?;
            parts.vectors.upsert(
                user,
                vec![VectorEntry {
                    unit_id: unit,
                    session_key: edited.session_key,
                    granularity: edited.granularity,
                    event_time: edited.event_time,
                    vector: embedding,
                }],
            )?;
            parts.catalog.upsert(user, std::slice::from_ref(&edited))?;
            let edges: Vec<Edge> = chosen
                .iter()
                .map(|&(to, weight)| Edge {
                    from: unit,
                    to,
                    weight,
                })
                .collect();
            parts.graph.add(user, &edges)?;
            parts.text.delete_unit(unit)?;
            parts.text.add(&[edited])?;
            commit_text_index(parts)?;
            Ok((
                parts.store.get_unit(user, unit)?,
                parts.store.unit_links(unit)?,
            ))
        })
        .await
    }

    /// A person deletes a unit: gone from search, both indexes and the association graph,
    /// kept in its history, and not built again from the same turns. Answers with the version
    /// that records the deletion.
    pub async fn delete_unit(
        &self,
        access: &Access,
        user: UserId,
        unit: UnitId,
    ) -> Result<UnitVersion> {
        let pass = access.user(user, Scope::Write)?;
        self.on_worker(move |parts| {
            let user = pass.user();
            parts
                .store
                .delete_unit(user, unit, now(), Actor(pass.actor()))?;
            parts.vectors.remove_units(user, &[unit])?;
            parts.catalog.remove_units(user, &[unit])?;
            parts.graph.remove_units(user, &[unit])?;
            parts.text.delete_unit(unit)?;
            commit_text_index(parts)?;
            let mut history = parts.store.unit_history(user, unit)?;
            history.pop().ok_or_else(|| {
                MemoryError::Corrupt {
                    reason: format!("unit {} was deleted without a history", unit.0),
                }
                .into()
            })
        })
        .await
    }

    /// Every version of a unit, oldest first (a deleted unit's too).
    pub async fn unit_history(
        &self,
        access: &Access,
        user: UserId,
        unit: UnitId,
    ) -> Result<Vec<UnitVersion>> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || Ok(shared.store.unit_history(pass.user(), unit)?)).await
    }
}
