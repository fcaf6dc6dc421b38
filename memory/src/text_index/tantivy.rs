//! The embedded full-text index: tantivy with English stemming, one document per unit.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tantivy::collector::{Count, TopDocs};
use tantivy::directory::error::LockError;
use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{
    DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, SegmentReader, TERMINATED,
    TantivyDocument, TantivyError, Term,
};
use tracing::warn;

use super::{TextIndex, TextQuery};
use crate::store::{IndexedUnit, SessionKey};
use crate::{Granularity, MemoryError, Result, ScoredUnit, UnitId, UserRef};

/// Memory the writer may buffer before it flushes a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
struct Fields {
    unit_id: Field,
    session: Field,
    user: Field,
    granularity: Field,
    time: Field,
    text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("en_stem")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        unit_id: builder.add_u64_field(
            "unit_id",
            NumericOptions::default().set_indexed().set_fast(),
        ),
        session: builder.add_u64_field("session", NumericOptions::default().set_indexed()),
        // `tenant/user` (see `UserRef::key`). Named `owner` since tenants came: an index from
        // before has another schema and is rebuilt from the store at start.
        user: builder.add_text_field("owner", STRING),
        granularity: builder.add_text_field("granularity", STRING),
        time: builder.add_i64_field("time", NumericOptions::default().set_indexed().set_fast()),
        text: builder.add_text_field("text", text_options),
    };
    (builder.build(), fields)
}

/// Opens the index in `dir`, or recreates it empty when it is missing, unreadable or of another
/// schema; an empty index has no applied position, so the caller rebuilds it from the store.
fn open_or_recreate(dir: &Path, schema: &Schema) -> Result<Index> {
    let io = |source| MemoryError::Io {
        path: dir.display().to_string(),
        source,
    };
    if dir.join("meta.json").exists() {
        match Index::open_in_dir(dir) {
            Ok(index) if index.schema() == *schema => match damage(&index) {
                None => return Ok(index),
                Some(damage) => warn!(
                    path = %dir.display(),
                    %damage,
                    "full-text index damaged; rebuilding it from the store"
                ),
            },
            Ok(_) => {
                warn!(path = %dir.display(), "full-text index has another schema; rebuilding it")
            }
            Err(error) => {
                warn!(path = %dir.display(), %error, "full-text index unreadable; rebuilding it")
            }
        }
        std::fs::remove_dir_all(dir).map_err(io)?;
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    Ok(Index::create_in_dir(dir, schema.clone())?)
}

/// What is wrong with the files of an opened index, if anything: a segment file whose checksum
/// fails (a truncated or overwritten file), or a segment that cannot be opened (a missing file).
/// Reads every segment file once.
fn damage(index: &Index) -> Option<String> {
    match index.validate_checksum() {
        Ok(damaged) if damaged.is_empty() => {}
        Ok(damaged) => {
            let mut files: Vec<String> = damaged.iter().map(|f| f.display().to_string()).collect();
            files.sort();
            return Some(format!(
                "segment files fail their checksum: {}",
                files.join(", ")
            ));
        }
        Err(error) => return Some(format!("segment files unreadable: {error}")),
    }
    let segments = match index.searchable_segments() {
        Ok(segments) => segments,
        Err(error) => return Some(error.to_string()),
    };
    segments
        .iter()
        .find_map(|segment| SegmentReader::open(segment).err())
        .map(|error| format!("a segment cannot be opened: {error}"))
}

/// The index's one writer (one indexing thread). Fails if another process holds the index.
fn new_writer(index: &Index, dir: &Path) -> Result<IndexWriter> {
    index
        .writer_with_num_threads(1, WRITER_MEMORY)
        .map_err(|e| match e {
            TantivyError::LockFailure(LockError::LockBusy, _) => MemoryError::DataDirLocked {
                path: dir.display().to_string(),
            },
            other => other.into(),
        })
}

/// What [`TantivyIndex::inventory`] found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextInventory {
    /// No index: the next start builds it from the store.
    Missing,
    /// The index cannot be used as it is (why); the next start rebuilds it from the store.
    Damaged(String),
    /// The index's applied index-log position and the unit of every live document, sorted
    /// (a unit indexed twice appears twice).
    Readable {
        applied: Option<i64>,
        unit_ids: Vec<UnitId>,
    },
}

/// tantivy-backed [`TextIndex`].
pub struct TantivyIndex {
    dir: PathBuf,
    index: Index,
    /// `None` only if reopening the writer failed during [`TextIndex::purge_deleted`].
    writer: Mutex<Option<IndexWriter>>,
    reader: IndexReader,
    fields: Fields,
}

impl std::fmt::Debug for TantivyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivyIndex").finish_non_exhaustive()
    }
}

impl TantivyIndex {
    /// Opens or creates the index in `dir`. Fails if another process holds the index.
    pub fn open(dir: &Path) -> Result<Self> {
        let (schema, fields) = schema();
        let index = open_or_recreate(dir, &schema)?;
        let writer = new_writer(&index, dir)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            dir: dir.to_owned(),
            index,
            writer: Mutex::new(Some(writer)),
            reader,
            fields,
        })
    }

    /// Reads the index in `dir` without taking its writer lock (a running server may hold it)
    /// and without changing anything: what a consistency check compares with the store.
    pub fn inventory(dir: &Path) -> Result<TextInventory> {
        if !dir.join("meta.json").exists() {
            return Ok(TextInventory::Missing);
        }
        let index = match Index::open_in_dir(dir) {
            Ok(index) => index,
            Err(error) => return Ok(TextInventory::Damaged(error.to_string())),
        };
        if index.schema() != schema().0 {
            return Ok(TextInventory::Damaged("another schema".to_owned()));
        }
        if let Some(damage) = damage(&index) {
            return Ok(TextInventory::Damaged(damage));
        }
        let applied = index.load_metas()?.payload.and_then(|p| p.parse().ok());
        let mut unit_ids = Vec::new();
        for segment in index.searchable_segments()? {
            let reader = SegmentReader::open(&segment)?;
            let ids = reader.fast_fields().u64("unit_id")?;
            for doc in reader.doc_ids_alive() {
                if let Some(id) = ids.first(doc) {
                    unit_ids.push(UnitId(id as i64));
                }
            }
        }
        unit_ids.sort_unstable();
        Ok(TextInventory::Readable { applied, unit_ids })
    }

    fn writer(&self) -> Result<MutexGuard<'_, Option<IndexWriter>>> {
        self.writer.lock().map_err(|_| MemoryError::Corrupt {
            reason: "full-text writer lock poisoned by an earlier panic".to_owned(),
        })
    }

    /// Runs `f` with the writer.
    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T>) -> Result<T> {
        let mut slot = self.writer()?;
        let writer = slot.as_mut().ok_or_else(|| MemoryError::Corrupt {
            reason: "the full-text writer could not be reopened after a purge; restart mnemo"
                .to_owned(),
        })?;
        f(writer)
    }

    /// The query's terms, analysed like the indexed text, without repeats.
    fn terms(&self, text: &str) -> Result<Vec<Term>> {
        let mut analyzer = self.index.tokenizer_for_field(self.fields.text)?;
        let mut stream = analyzer.token_stream(text);
        let mut terms: Vec<Term> = Vec::new();
        while stream.advance() {
            let term = Term::from_field_text(self.fields.text, &stream.token().text);
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        Ok(terms)
    }
}

/// BM25 statistics over one user's documents only: how many there are, their total length and
/// how many contain each query term. Scoring with them makes a user's scores independent of
/// every other user's memory, so that no caller can learn from its own scores whether a word
/// occurs in someone else's (index-wide statistics leak exactly that).
struct UserStatistics {
    docs: u64,
    tokens: u64,
    doc_freqs: Vec<(Term, u64)>,
}

impl UserStatistics {
    fn compute(searcher: &Searcher, f: Fields, owner: &Term, terms: &[Term]) -> Result<Self> {
        let (mut docs, mut tokens) = (0u64, 0u64);
        for segment in searcher.segment_readers() {
            let postings = segment
                .inverted_index(f.user)?
                .read_postings(owner, IndexRecordOption::Basic)
                .map_err(|source| MemoryError::Io {
                    path: "full-text index postings".to_owned(),
                    source,
                })?;
            let Some(mut postings) = postings else {
                continue;
            };
            let norms = segment.get_fieldnorms_reader(f.text)?;
            let alive = segment.alive_bitset();
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    docs += 1;
                    tokens += u64::from(norms.fieldnorm(doc));
                }
                doc = postings.advance();
            }
        }
        let mut doc_freqs = Vec::with_capacity(terms.len());
        for term in terms {
            let both = BooleanQuery::intersection(vec![
                Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic)),
                Box::new(TermQuery::new(owner.clone(), IndexRecordOption::Basic)),
            ]);
            doc_freqs.push((term.clone(), searcher.search(&both, &Count)? as u64));
        }
        Ok(Self {
            docs,
            tokens,
            doc_freqs,
        })
    }
}

impl Bm25StatisticsProvider for UserStatistics {
    fn total_num_tokens(&self, _field: Field) -> tantivy::Result<u64> {
        Ok(self.tokens)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        // Filter terms (owner, granularity) are scored as constants; their frequency is unused.
        Ok(self
            .doc_freqs
            .iter()
            .find(|(t, _)| t == term)
            .map_or(0, |(_, n)| *n))
    }
}

/// A filter clause that selects documents without adding to their score.
fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

impl TextIndex for TantivyIndex {
    fn add(&self, units: &[IndexedUnit]) -> Result<()> {
        let f = self.fields;
        self.with_writer(|writer| {
            for unit in units {
                let mut doc = TantivyDocument::default();
                doc.add_u64(f.unit_id, unit.unit_id.0 as u64);
                doc.add_u64(f.session, unit.session_key.0 as u64);
                doc.add_text(f.user, unit.user_id.key());
                doc.add_text(f.granularity, unit.granularity.as_str());
                doc.add_i64(f.time, unit.event_time.0);
                doc.add_text(f.text, &unit.text);
                writer.add_document(doc)?;
            }
            Ok(())
        })
    }

    fn delete_session(&self, session: SessionKey) -> Result<()> {
        let term = Term::from_field_u64(self.fields.session, session.0 as u64);
        self.with_writer(|writer| {
            writer.delete_term(term);
            Ok(())
        })
    }

    fn delete_unit(&self, unit: UnitId) -> Result<()> {
        let term = Term::from_field_u64(self.fields.unit_id, unit.0 as u64);
        self.with_writer(|writer| {
            writer.delete_term(term);
            Ok(())
        })
    }

    fn clear(&self) -> Result<()> {
        self.with_writer(|writer| {
            writer.delete_all_documents()?;
            Ok(())
        })
    }

    fn commit(&self, applied_seq: i64) -> Result<()> {
        self.with_writer(|writer| {
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&applied_seq.to_string());
            prepared.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    fn purge_deleted(&self) -> Result<u64> {
        let mut slot = self.writer()?;
        let holding = || -> Result<Vec<tantivy::index::SegmentId>> {
            Ok(self
                .index
                .searchable_segment_metas()?
                .into_iter()
                .filter(|meta| meta.has_deletes())
                .map(|meta| meta.id())
                .collect())
        };
        let mut segments = holding()?;
        // The merge publishes its segment with the last commit's payload (the applied
        // index-log position), so nothing needs committing afterwards.
        let done = match slot.as_mut() {
            Some(writer) if !segments.is_empty() => writer.merge(&segments).wait().is_ok(),
            Some(_) => true,
            None => false,
        };
        if !done {
            // A background merge holds one of the segments (a segment in a merge cannot be
            // merged again): wait for every merge (this closes the writer), reopen the
            // writer, and rewrite what still holds deleted documents.
            if let Some(writer) = slot.take() {
                writer.wait_merging_threads()?;
            }
            let mut writer = new_writer(&self.index, &self.dir)?;
            segments = holding()?;
            let result = if segments.is_empty() {
                Ok(())
            } else {
                writer.merge(&segments).wait().map(drop)
            };
            *slot = Some(writer);
            result?;
        }
        let writer = slot.as_mut().ok_or_else(|| MemoryError::Corrupt {
            reason: "the full-text writer is gone".to_owned(),
        })?;
        writer.garbage_collect_files().wait()?;
        drop(slot);
        self.reader.reload()?;
        Ok(segments.len() as u64)
    }

    fn applied_seq(&self) -> Result<Option<i64>> {
        let payload = self.index.load_metas()?.payload;
        Ok(payload.and_then(|p| p.parse().ok()))
    }

    fn search(
        &self,
        user: &UserRef,
        query: &TextQuery<'_>,
    ) -> Result<Vec<(Granularity, Vec<ScoredUnit>)>> {
        let f = self.fields;
        let terms = self.terms(query.text)?;
        let mut out = Vec::with_capacity(query.granularities.len());
        if terms.is_empty() || query.k == 0 {
            return Ok(query
                .granularities
                .iter()
                .map(|&g| (g, Vec::new()))
                .collect());
        }
        let user_term = Term::from_field_text(f.user, &user.key());
        let searcher = self.reader.searcher();
        let statistics = UserStatistics::compute(&searcher, f, &user_term, &terms)?;
        let text: Box<dyn Query> = Box::new(BooleanQuery::new(
            terms
                .into_iter()
                .map(|t| {
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs));
                    (Occur::Should, q)
                })
                .collect(),
        ));
        for &g in query.granularities {
            let mut clauses = vec![
                (Occur::Must, text.box_clone()),
                filter(Box::new(TermQuery::new(
                    user_term.clone(),
                    IndexRecordOption::Basic,
                ))),
                filter(Box::new(TermQuery::new(
                    Term::from_field_text(f.granularity, g.as_str()),
                    IndexRecordOption::Basic,
                ))),
            ];
            if !query.time.is_open() {
                let bound = |t: Option<crate::Timestamp>, inclusive: bool| match t {
                    None => Bound::Unbounded,
                    Some(t) if inclusive => Bound::Included(Term::from_field_i64(f.time, t.0)),
                    Some(t) => Bound::Excluded(Term::from_field_i64(f.time, t.0)),
                };
                clauses.push(filter(Box::new(RangeQuery::new(
                    bound(query.time.from, true),
                    bound(query.time.to, false),
                ))));
            }
            if let Some(only) = query.only {
                let ids = only
                    .iter()
                    .map(|u| Term::from_field_u64(f.unit_id, u.0 as u64));
                clauses.push(filter(Box::new(TermSetQuery::new(ids))));
            }
            let top = searcher.search_with_statistics_provider(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(query.k).order_by_score(),
                &statistics,
            )?;
            let mut hits = Vec::with_capacity(top.len());
            for (score, address) in top {
                let ids = searcher
                    .segment_reader(address.segment_ord)
                    .fast_fields()
                    .u64("unit_id")?;
                if let Some(id) = ids.first(address.doc_id) {
                    hits.push(ScoredUnit {
                        unit_id: UnitId(id as i64),
                        score,
                    });
                }
            }
            out.push((g, hits));
        }
        Ok(out)
    }

    fn doc_count(&self) -> Result<u64> {
        Ok(self.reader.searcher().num_docs())
    }
}
