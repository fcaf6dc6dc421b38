//! Association edges between units (written with a session's units), read back to load the
//! graph index at start.

use rusqlite::params;

use super::SqliteStore;
use crate::store::Edge;
use crate::{Result, UnitId, UserRef};

impl SqliteStore {
    /// Every edge with its user, in batches (to load the graph index).
    pub fn for_each_edge(
        &self,
        batch: usize,
        mut f: impl FnMut(Vec<(UserRef, Edge)>) -> Result<()>,
    ) -> Result<()> {
        let mut after = (0i64, 0i64);
        loop {
            let rows = self.read(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT u.tenant, u.user_id, e.src, e.dst, e.weight FROM unit_edges e
                     JOIN units n ON n.id = e.src JOIN users u ON u.id = n.user_pk
                     WHERE (e.src, e.dst) > (?1, ?2) ORDER BY e.src, e.dst LIMIT ?3",
                )?;
                let rows = stmt.query_map(params![after.0, after.1, batch as i64], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, f64>(4)?,
                    ))
                })?;
                let mut out = Vec::new();
                for row in rows {
                    let (tenant, user, src, dst, weight) = row?;
                    out.push((
                        super::user_ref(tenant, user)?,
                        Edge {
                            from: UnitId(src),
                            to: UnitId(dst),
                            weight: weight as f32,
                        },
                    ));
                }
                Ok(out)
            })?;
            let Some((_, last)) = rows.last() else {
                return Ok(());
            };
            after = (last.from.0, last.to.0);
            f(rows)?;
        }
    }

    /// The units a unit is associated with, in either direction, strongest first.
    pub fn unit_links(&self, unit: UnitId) -> Result<Vec<(UnitId, f32)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT dst, weight FROM unit_edges WHERE src = ?1
                 UNION SELECT src, weight FROM unit_edges WHERE dst = ?1
                 ORDER BY 2 DESC, 1",
            )?;
            let rows = stmt.query_map([unit.0], |r| {
                Ok((UnitId(r.get::<_, i64>(0)?), r.get::<_, f64>(1)? as f32))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Edges in all (for health and tests).
    pub fn edge_count(&self) -> Result<u64> {
        self.read(|conn| {
            Ok(conn.query_row("SELECT COUNT(*) FROM unit_edges", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
        })
    }
}
