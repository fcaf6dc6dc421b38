//! A person's edits and deletes of statements, with their history and audit.

use super::*;

fn check_edit(edit: &StatementEdit) -> Result<()> {
    if let Some(text) = &edit.text {
        let len = text.trim().chars().count();
        if crate::validate::is_blank(text) {
            return Err(MemoryError::InvalidField {
                field: "text",
                reason: "must not be empty".to_owned(),
            });
        }
        if len > MAX_STATEMENT_CHARS {
            return Err(MemoryError::FieldTooLong {
                field: "text",
                len,
                max: MAX_STATEMENT_CHARS,
            });
        }
    }
    if let Some(c) = edit.confidence
        && !(c > 0.0 && c <= 1.0)
    {
        return Err(MemoryError::InvalidField {
            field: "confidence",
            reason: format!("{c} is not in (0, 1]"),
        });
    }
    Ok(())
}

/// A statement a person may still change: deleted ones are not found.
fn load_live(tx: &Transaction<'_>, user_pk: i64, id: i64) -> Result<Statement> {
    let statement = load_one(tx, user_pk, id)?;
    if statement.status == StatementStatus::Deleted {
        return Err(MemoryError::StatementNotFound { statement_id: id });
    }
    Ok(statement)
}

impl SqliteStore {
    /// A person corrects a statement. Returns it and the sessions whose fact units must be
    /// built again (marked pending). A deleted statement cannot be edited.
    pub fn edit_statement(
        &self,
        user: &UserRef,
        id: i64,
        edit: &StatementEdit,
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<(Statement, Vec<SessionKey>)> {
        check_edit(edit)?;
        self.write(|tx| {
            let user_pk = require_user(tx, user)?;
            let before = load_live(tx, user_pk, id)?;
            let mut s = before.clone();
            if let Some(text) = &edit.text {
                s.text = text.trim().to_owned();
                s.producer = Producer::Edited;
            }
            if let Some(kind) = edit.kind {
                s.kind = kind;
            }
            if let Some(confidence) = edit.confidence {
                s.confidence = confidence;
            }
            if s == before {
                return Ok((s, Vec::new()));
            }
            s.version += 1;
            update(tx, &s, now)?;
            snapshot(tx, &s, now, actor, "edited")?;
            let anchors: BTreeSet<SessionKey> = if s.is_active() {
                anchor_of(tx, id)?.into_iter().collect()
            } else {
                BTreeSet::new()
            };
            mark_pending(tx, &anchors, now)?;
            audit::record(
                tx,
                now,
                actor,
                "edit_statement",
                user,
                None,
                None,
                Some(json!(before)),
                Some(json!(s)),
            )?;
            Ok((s, anchors.into_iter().collect()))
        })
    }

    /// A person deletes a statement: it is kept as history with status `deleted`, and what it
    /// had superseded holds again. Returns it and the sessions whose fact units must be built
    /// again (marked pending).
    pub fn delete_statement(
        &self,
        user: &UserRef,
        id: i64,
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<(Statement, Vec<SessionKey>)> {
        self.write(|tx| {
            let user_pk = require_user(tx, user)?;
            let before = load_live(tx, user_pk, id)?;
            let mut s = before.clone();
            s.status = StatementStatus::Deleted;
            s.version += 1;
            update(tx, &s, now)?;
            snapshot(tx, &s, now, actor, "deleted")?;
            let mut anchors = BTreeSet::new();
            if before.is_active() {
                anchors.extend(anchor_of(tx, id)?);
                tx.prepare_cached(
                    "UPDATE persona_statements SET superseded_by = NULL
                     WHERE superseded_by = ?1 AND status = 'superseded'",
                )?
                .execute([id])?;
                anchors.extend(reactivate_orphans(tx, user_pk, now, actor)?);
            }
            mark_pending(tx, &anchors, now)?;
            audit::record(
                tx,
                now,
                actor,
                "delete_statement",
                user,
                None,
                None,
                Some(json!(before)),
                None,
            )?;
            Ok((s, anchors.into_iter().collect()))
        })
    }
}
