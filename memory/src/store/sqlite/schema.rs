//! The SQLite schema and its forward-only migrations, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

use crate::Result;

/// Each entry moves the schema from version `i` to `i + 1`. Append only; never edit one that shipped.
/// The schema version this mnemo writes.
pub(super) const VERSION: usize = MIGRATIONS.len();

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_pk     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    title       TEXT,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (user_pk, session_id)
);
CREATE INDEX sessions_status ON sessions(status);

CREATE TABLE turns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_pk  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    speaker     TEXT NOT NULL,
    role        TEXT NOT NULL,
    text        TEXT NOT NULL,
    timestamp   INTEGER,
    external_id TEXT,
    caption     TEXT,
    metadata    TEXT,
    UNIQUE (session_pk, position)
);

-- Units carry version and producer so that edits and history need no rewrite of this table.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_pk     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_pk  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    granularity TEXT NOT NULL,
    ordinal     INTEGER NOT NULL,
    text        TEXT NOT NULL,
    event_time  INTEGER NOT NULL,
    producer    TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    embedding   BLOB NOT NULL
);
CREATE INDEX units_session ON units(session_pk, granularity, ordinal);
CREATE INDEX units_user ON units(user_pk, granularity);

-- Provenance: the turns each unit covers.
CREATE TABLE unit_turns (
    unit_id     INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    turn_id     INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    PRIMARY KEY (unit_id, turn_id)
) WITHOUT ROWID;
CREATE INDEX unit_turns_turn ON unit_turns(turn_id);

-- Changes the full-text index has still to apply; its commits record the last applied seq.
CREATE TABLE index_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    op          TEXT NOT NULL,
    target      INTEGER NOT NULL
);

-- The distinct terms of each built session: a user's document frequencies for keyword scoring.
-- Rows go with their session, so the frequencies stay right after deletes without bookkeeping.
CREATE TABLE session_terms (
    user_pk     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    term        TEXT NOT NULL,
    session_pk  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    PRIMARY KEY (user_pk, term, session_pk)
) WITHOUT ROWID;
CREATE INDEX session_terms_session ON session_terms(session_pk);

-- Every mutation, with who did it and what changed. Kept as text: it outlives what it describes.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    session_id  TEXT,
    unit_id     INTEGER,
    before      TEXT,
    after       TEXT
);
CREATE INDEX audit_user ON audit_log(user_id, id);
"#,
    r#"
-- Associations between units of a user (MemGAS), undirected, stored once from the newer unit.
-- They go with either end's unit.
CREATE TABLE unit_edges (
    src         INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    dst         INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    weight      REAL NOT NULL,
    PRIMARY KEY (src, dst)
) WITHOUT ROWID;
CREATE INDEX unit_edges_dst ON unit_edges(dst);
"#,
    r#"
-- Persona statements about each speaker of a user. A statement is anchored to one session (where
-- it was first read): that session's `fact` units are its anchored active statements.
CREATE TABLE persona_statements (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_pk       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    anchor_pk     INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    speaker       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    slot          TEXT NOT NULL,
    value         TEXT NOT NULL,
    text          TEXT NOT NULL,
    confidence    REAL NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    status        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    superseded_by INTEGER REFERENCES persona_statements(id) ON DELETE SET NULL,
    evidence      INTEGER NOT NULL,
    producer      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX persona_user ON persona_statements(user_pk, speaker);
CREATE INDEX persona_anchor ON persona_statements(anchor_pk);

-- Provenance: the turns supporting each statement. They go with their session.
CREATE TABLE statement_turns (
    statement_id  INTEGER NOT NULL REFERENCES persona_statements(id) ON DELETE CASCADE,
    turn_id       INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    PRIMARY KEY (statement_id, turn_id)
) WITHOUT ROWID;
CREATE INDEX statement_turns_turn ON statement_turns(turn_id);

-- Every version of every statement, as JSON: nothing is overwritten silently.
CREATE TABLE statement_history (
    statement_id  INTEGER NOT NULL REFERENCES persona_statements(id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    snapshot      TEXT NOT NULL,
    PRIMARY KEY (statement_id, version)
);
"#,
    r#"
-- Tenants own users and API keys. Users stored before tenants existed belong to `default`.
CREATE TABLE tenants (
    tenant_id   TEXT PRIMARY KEY,
    name        TEXT,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO tenants (tenant_id, name, created_at) VALUES ('default', NULL, 0);

-- Users are unique per tenant: two tenants may remember users with the same id. The table is
-- rebuilt (SQLite cannot drop a UNIQUE constraint); row ids are kept, so references hold.
CREATE TABLE users_v4 (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants(tenant_id),
    user_id     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant, user_id)
);
INSERT INTO users_v4 (id, tenant, user_id, created_at)
    SELECT id, 'default', user_id, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_v4 RENAME TO users;

ALTER TABLE audit_log ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
DROP INDEX audit_user;
CREATE INDEX audit_user ON audit_log(tenant, user_id, id);

-- API keys of tenants. Only a hash of the secret is kept; `user_ids` (a JSON array) limits a
-- key to those users, NULL means every user of the tenant.
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants(tenant_id),
    name        TEXT,
    scopes      TEXT NOT NULL,
    user_ids    TEXT,
    secret_hash BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX api_keys_tenant ON api_keys(tenant);
"#,
    r#"
-- Who wrote each turn (a key id, or an internal writer) and the channel it came through.
-- Turns from before were written by someone unrecorded.
ALTER TABLE turns ADD COLUMN writer TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE turns ADD COLUMN channel TEXT NOT NULL DEFAULT 'chat';
-- The channels a key may declare (a comma-separated list), NULL for any.
ALTER TABLE api_keys ADD COLUMN channels TEXT;
"#,
    r#"
-- The versions of units a person changed, so that no text is overwritten silently. They go with
-- their session, not with the unit: a deleted unit keeps its history until its session goes.
CREATE TABLE unit_history (
    unit_id     INTEGER NOT NULL,
    session_pk  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    producer    TEXT NOT NULL,
    text        TEXT NOT NULL,
    PRIMARY KEY (unit_id, version)
);
CREATE INDEX unit_history_session ON unit_history(session_pk);

-- A person's edit or delete of a unit, by where the unit sits in its session (granularity and
-- first covered turn), so that rebuilding the session keeps the edit and does not bring a
-- deleted unit back.
CREATE TABLE unit_overrides (
    session_pk  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    granularity TEXT NOT NULL,
    first_turn  INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    unit_id     INTEGER NOT NULL,
    action      TEXT NOT NULL,
    PRIMARY KEY (session_pk, granularity, first_turn)
) WITHOUT ROWID;
CREATE INDEX unit_overrides_turn ON unit_overrides(first_turn);
"#,
];

/// Brings the database to the newest schema version.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if current > MIGRATIONS.len() {
        return Err(crate::MemoryError::Corrupt {
            reason: format!(
                "database schema version {current} is newer than this mnemo knows ({})",
                MIGRATIONS.len()
            ),
        });
    }
    if current == MIGRATIONS.len() {
        return Ok(());
    }
    // Rebuilding a table that others reference needs foreign keys off (SQLite's documented
    // procedure); each migration checks them itself before it commits.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let migrated = apply(conn, current, MIGRATIONS.len());
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrated
}

fn apply(conn: &mut Connection, current: usize, target: usize) -> Result<()> {
    for (version, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let broken: i64 =
            tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            return Err(crate::MemoryError::Corrupt {
                reason: format!(
                    "migration to schema version {} left {broken} broken references",
                    version + 1
                ),
            });
        }
        tx.pragma_update(None, "user_version", (version + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn data_from_before_tenants_opens_under_the_default_tenant() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        // A database as version 3 left it: one user with a session, a unit, an audit entry.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        apply(&mut conn, 0, 3).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, user_id, created_at) VALUES (7, 'ann', 1);
             INSERT INTO sessions (id, user_pk, session_id, started_at, status, created_at,
                 updated_at) VALUES (3, 7, 's1', 1, 'ready', 1, 1);
             INSERT INTO units (user_pk, session_pk, granularity, ordinal, text, event_time,
                 producer, created_at, updated_at, embedding)
                 VALUES (7, 3, 'turn', 0, 'hi', 1, 'verbatim', 1, 1, x'00');
             INSERT INTO audit_log (at, actor, action, user_id) VALUES (1, 'api', 'x', 'ann');",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        let tenant: String = conn
            .query_row("SELECT tenant FROM users WHERE id = 7", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tenant, "default");
        assert_eq!(
            count(&conn, "SELECT COUNT(*) FROM units WHERE user_pk = 7"),
            1
        );
        assert_eq!(
            count(
                &conn,
                "SELECT COUNT(*) FROM audit_log WHERE tenant = 'default'"
            ),
            1
        );
        assert_eq!(
            count(&conn, "SELECT COUNT(*) FROM pragma_foreign_key_check"),
            0
        );
        // Foreign keys are on again, and still cascade from the rebuilt table.
        let on: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(on, 1);
        conn.execute("DELETE FROM users WHERE id = 7", []).unwrap();
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM units"), 0);
        // Another tenant may now hold a user of the same id.
        conn.execute_batch(
            "INSERT INTO tenants (tenant_id, created_at) VALUES ('acme', 2);
             INSERT INTO users (tenant, user_id, created_at) VALUES ('default', 'bo', 2);
             INSERT INTO users (tenant, user_id, created_at) VALUES ('acme', 'bo', 2);",
        )
        .unwrap();
    }
}
