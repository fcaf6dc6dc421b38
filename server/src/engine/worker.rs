//! The background worker: one thread that owns every write to the derived indexes. Jobs arrive
//! through a channel; consecutive build jobs are taken together as one batch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use memory::SessionId;
use memory::embed::Embedder;
use memory::store::{Actor, DeleteCounts, SessionKey};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

use super::access::UserPass;
use super::pipeline::{BuildOutcome, Parts, build_sessions, commit_text_index, forget_session};
use super::{Shared, now};
use crate::{Error, Result};

/// How often a session that keeps gaining turns mid-build is rebuilt within one batch.
const STALE_RETRIES: usize = 3;

/// The most build rounds one job runs (stale retries and persona refreshes together).
const MAX_ROUNDS: usize = 8;

/// Work for the worker.
pub(crate) enum Job {
    /// Build a pending session's units; `done` hears the outcome.
    Build {
        session: SessionKey,
        done: Option<oneshot::Sender<Result<BuildOutcome>>>,
    },
    /// Delete a session everywhere.
    Delete {
        pass: UserPass,
        session_id: SessionId,
        done: oneshot::Sender<Result<DeleteCounts>>,
    },
    /// Answer once every job sent before has finished.
    Flush { done: oneshot::Sender<()> },
    /// Run this on the worker thread, in order with the other jobs (persona edits, which
    /// rebuild the sessions they touch). It reports through its own channel.
    Exec(Box<dyn FnOnce(&Parts<'_>) + Send>),
    /// Stop after the current job.
    Stop,
}

/// Handle to the worker thread.
pub(crate) struct Worker {
    tx: mpsc::UnboundedSender<Job>,
    stopping: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Worker {
    /// Starts the worker thread with builds of `pending` sessions queued first, so that they
    /// are built in batches of `max_batch` like any burst of ingests.
    pub(crate) fn start(
        shared: Arc<Shared>,
        embedder: Arc<dyn Embedder>,
        max_batch: usize,
        pending: Vec<SessionKey>,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        for session in pending {
            tx.send(Job::Build {
                session,
                done: None,
            })
            .map_err(|_| Error::WorkerStopped)?;
        }
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopping);
        let thread = std::thread::Builder::new()
            .name("mnemo-worker".to_owned())
            .spawn(move || run(rx, &shared, embedder.as_ref(), &flag, max_batch.max(1)))
            .map_err(|e| Error::Task {
                reason: format!("cannot start the worker thread: {e}"),
            })?;
        Ok(Self {
            tx,
            stopping,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a job.
    pub(crate) fn submit(&self, job: Job) -> Result<()> {
        self.tx.send(job).map_err(|_| Error::WorkerStopped)
    }

    /// Stops the worker after its current job and waits for it. Queued builds stay pending in
    /// the store and run at the next start.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.tx.send(Job::Stop);
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread
            && thread.join().is_err()
        {
            error!("the worker thread panicked");
        }
    }
}

type Waiter = Option<oneshot::Sender<Result<BuildOutcome>>>;

fn run(
    mut rx: mpsc::UnboundedReceiver<Job>,
    shared: &Shared,
    embedder: &dyn Embedder,
    stopping: &AtomicBool,
    max_batch: usize,
) {
    let parts = shared.parts(embedder);
    let mut carried: Option<Job> = None;
    loop {
        let job = match carried.take() {
            Some(job) => job,
            None => match rx.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        match job {
            Job::Stop => break,
            Job::Flush { done } => {
                let _ = done.send(());
            }
            Job::Exec(task) => task(&parts),
            Job::Delete {
                pass,
                session_id,
                done,
            } => {
                let _ = done.send(delete(&parts, &pass, &session_id));
            }
            Job::Build { session, done } => {
                let mut batch: Vec<(SessionKey, Waiter)> = vec![(session, done)];
                while batch.len() < max_batch {
                    match rx.try_recv() {
                        Ok(Job::Build { session, done }) => batch.push((session, done)),
                        Ok(other) => {
                            carried = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                build_batch(&parts, batch);
            }
        }
    }
    info!("worker stopped");
}

fn build_batch(parts: &Parts<'_>, batch: Vec<(SessionKey, Waiter)>) {
    let mut keys: Vec<SessionKey> = Vec::with_capacity(batch.len());
    for (key, _) in &batch {
        if !keys.contains(key) {
            keys.push(*key);
        }
    }
    let results = build_settled(parts, keys);
    for (key, waiter) in batch {
        let Some(waiter) = waiter else { continue };
        let result = match results.get(&key) {
            Some(Ok(outcome)) => Ok(outcome.clone()),
            Some(Err(e)) => Err(Error::Build {
                reason: e.to_string(),
            }),
            None => Err(Error::Build {
                reason: "the session was not built".to_owned(),
            }),
        };
        let _ = waiter.send(result);
    }
}

/// Builds these sessions, again while they change under the build (stale) and then the
/// sessions whose fact units a persona merge changed. Returns each session's last outcome.
pub(crate) fn build_settled(
    parts: &Parts<'_>,
    keys: Vec<SessionKey>,
) -> HashMap<SessionKey, Result<BuildOutcome>> {
    let mut results: HashMap<SessionKey, Result<BuildOutcome>> = HashMap::new();
    let mut todo = keys;
    let mut stale_rounds = 0;
    let mut rounds = 0;
    while !todo.is_empty() && stale_rounds < STALE_RETRIES && rounds < MAX_ROUNDS {
        rounds += 1;
        let batch = build_sessions(parts, &todo, now());
        let mut next: Vec<SessionKey> = Vec::new();
        let mut any_stale = false;
        for (key, outcome) in batch.outcomes {
            match outcome {
                Ok(BuildOutcome::Stale) => {
                    any_stale = true;
                    next.push(key);
                    results.insert(key, Ok(BuildOutcome::Stale));
                }
                other => {
                    if let Err(e) = &other {
                        error!(session = key.0, error = %e, "building a session failed; it stays pending");
                    }
                    results.insert(key, other);
                }
            }
        }
        // A rebuilt session's merge is a no-op, so refreshes do not cascade for long.
        for key in batch.refresh {
            if !next.contains(&key) {
                next.push(key);
            }
        }
        stale_rounds += usize::from(any_stale);
        todo = next;
    }
    for key in todo {
        warn!(
            session = key.0,
            "session kept changing while it was built; it stays pending"
        );
    }
    results
}

fn delete(parts: &Parts<'_>, pass: &UserPass, session_id: &SessionId) -> Result<DeleteCounts> {
    let (key, counts, refresh) =
        parts
            .store
            .delete_session(pass.user(), session_id, now(), Actor(pass.actor()))?;
    forget_session(parts, pass.user(), key)?;
    if !refresh.is_empty() {
        // Statements the session anchored now live in another session's fact units.
        build_settled(parts, refresh);
    }
    if let Err(e) = commit_text_index(parts) {
        // The delete is durable in the store and its log entry replays at the next start.
        warn!(error = %e, "full-text index commit failed after a delete; it catches up at the next start");
    }
    Ok(counts)
}
