//! Persona through the engine: statements with their provenance and a rendered summary, and a
//! person's edits and deletes. Those run on the worker, in order with every other write, and
//! rebuild the sessions whose `fact` units show the statements before they answer, so a search
//! right after an edit sees it.

use std::collections::HashMap;

use super::access::Access;
use super::settle::build_settled;
use super::{Engine, blocking, now};
use crate::Result;
use memory::persona::{Statement, StatementEdit, StatementVersion};
use memory::store::{Actor, SessionKey, SqliteStore, StatementTurn};
use memory::tenancy::Scope;
use memory::{Channel, TurnId, UserId};

/// Which statements a persona read returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonaFilter {
    /// Only this speaker's statements.
    pub speaker: Option<String>,
    /// Only statements with a provenance turn this writer (a key id, `import`, ...) wrote.
    pub writer: Option<String>,
    /// Only statements with a provenance turn that came through this channel (with `writer`,
    /// the same turn must match both).
    pub channel: Option<Channel>,
    /// Also superseded and deleted statements.
    pub history: bool,
}

impl PersonaFilter {
    fn admits(&self, turn: &StatementTurn) -> bool {
        self.writer
            .as_ref()
            .is_none_or(|w| *w == turn.source.writer)
            && self.channel.is_none_or(|c| c == turn.source.channel)
    }
}

/// A user's persona as readers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    /// Statements by id: the active ones, or with `history` every one.
    pub statements: Vec<Statement>,
    /// The provenance turns of those statements.
    pub turns: HashMap<TurnId, StatementTurn>,
    /// A short paragraph per speaker from the active statements.
    pub summary: String,
}

/// One statement with its provenance turns, their session and speaker included.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementView {
    pub statement: Statement,
    pub turns: HashMap<TurnId, StatementTurn>,
}

/// A statement with every version of it, oldest first, and the provenance turns of all.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementHistory {
    pub statement: Statement,
    pub versions: Vec<StatementVersion>,
    pub turns: HashMap<TurnId, StatementTurn>,
}

/// The provenance turns of these statements that still exist, by id.
fn turns_of<'a>(
    store: &SqliteStore,
    statements: impl Iterator<Item = &'a Statement>,
) -> memory::Result<HashMap<TurnId, StatementTurn>> {
    let mut ids: Vec<TurnId> = statements.flat_map(|s| s.turns.iter().copied()).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(store
        .statement_turns(&ids)?
        .into_iter()
        .map(|t| (t.turn_id, t))
        .collect())
}

impl Engine {
    /// A user's persona statements, optionally of one speaker, and their summary.
    pub async fn persona(
        &self,
        access: &Access,
        user: UserId,
        filter: PersonaFilter,
    ) -> Result<Persona> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || {
            let mut statements =
                shared
                    .store
                    .statements(pass.user(), filter.speaker.as_deref(), filter.history)?;
            let turns = turns_of(&shared.store, statements.iter())?;
            if filter.writer.is_some() || filter.channel.is_some() {
                statements.retain(|s| {
                    s.turns
                        .iter()
                        .any(|t| turns.get(t).is_some_and(|t| filter.admits(t)))
                });
            }
            let active: Vec<Statement> = statements
                .iter()
                .filter(|s| s.is_active())
                .cloned()
                .collect();
            let summary = persona::render_summary(&active, filter.speaker.as_deref());
            Ok(Persona {
                statements,
                turns,
                summary,
            })
        })
        .await
    }

    /// One statement, whatever its status, with every version of it, oldest first.
    pub async fn statement_history(
        &self,
        access: &Access,
        user: UserId,
        id: i64,
    ) -> Result<StatementHistory> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || {
            let statement = shared.store.statement(pass.user(), id)?;
            let versions = shared.store.statement_history(pass.user(), id)?;
            let turns = turns_of(
                &shared.store,
                std::iter::once(&statement).chain(versions.iter().map(|v| &v.statement)),
            )?;
            Ok(StatementHistory {
                statement,
                versions,
                turns,
            })
        })
        .await
    }

    /// A person corrects a statement; its fact unit is rebuilt before this returns.
    pub async fn edit_statement(
        &self,
        access: &Access,
        user: UserId,
        id: i64,
        edit: StatementEdit,
    ) -> Result<StatementView> {
        let pass = access.user(user, Scope::Write)?;
        self.change_statement(move |store| {
            store.edit_statement(pass.user(), id, &edit, now(), Actor(pass.actor()))
        })
        .await
    }

    /// A person deletes a statement (kept as history); its fact unit goes, and whatever it had
    /// superseded holds again, before this returns.
    pub async fn delete_statement(
        &self,
        access: &Access,
        user: UserId,
        id: i64,
    ) -> Result<StatementView> {
        let pass = access.user(user, Scope::Write)?;
        self.change_statement(move |store| {
            store.delete_statement(pass.user(), id, now(), Actor(pass.actor()))
        })
        .await
    }

    /// Applies a person's change to a statement on the worker, then rebuilds the sessions
    /// whose fact units it changed.
    async fn change_statement(
        &self,
        change: impl FnOnce(&SqliteStore) -> memory::Result<(Statement, Vec<SessionKey>)>
        + Send
        + 'static,
    ) -> Result<StatementView> {
        self.on_worker(move |parts| {
            let (statement, refresh) = change(parts.store)?;
            build_settled(parts, refresh);
            let turns = turns_of(parts.store, std::iter::once(&statement))?;
            Ok(StatementView { statement, turns })
        })
        .await
    }
}
