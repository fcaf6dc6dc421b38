//! The background worker: one thread that owns every write to the derived indexes. Jobs arrive
//! through a channel; consecutive build jobs are taken together as one batch. A session with
//! many texts to embed is embedded a slice at a time, one slice after every other job, so that
//! one large import never holds the sessions queued behind it for long.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use memory::SessionId;
use memory::embed::Embedder;
use memory::store::{DeleteCounts, SessionKey};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

use super::Shared;
use super::access::UserPass;
use super::pipeline::{BuildOutcome, Parts, embed_texts, texts_to_embed};
use super::settle::{build_settled, build_settled_with, delete};
use crate::{Error, Result};

/// How often a failed build is tried again before the session is left pending until a build
/// works again or the next start; the wait doubles each time from `worker.retry_backoff_ms`.
const MAX_RETRIES: u32 = 5;

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
    /// Build a session whose build failed, once more (`attempt` counts from 1).
    Retry { session: SessionKey, attempt: u32 },
    /// Answer once every job sent before has finished (builds being retried included).
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
    /// Build jobs submitted and not finished.
    queued: Arc<AtomicUsize>,
}

/// How the worker batches and slices builds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// The most sessions built together.
    pub(crate) max_batch: usize,
    /// A session with more texts than this to embed is embedded this many at a time.
    pub(crate) slice_texts: usize,
    /// The wait before a failed build's first retry.
    pub(crate) retry_backoff: Duration,
    /// The worker thread's nice value.
    pub(crate) nice: i32,
}

/// Lowers the calling thread's priority to `nice` (on Linux a nice value belongs to a thread),
/// so that searches get the CPU first; building still has every cycle they leave. A system that
/// refuses only costs the preference, so a refusal is logged, not fatal.
fn lower_priority(nice: i32) {
    if nice == 0 {
        return;
    }
    let me = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(me), nice) {
        warn!(nice, error = %e, "cannot lower the worker's priority; building competes with searches");
    }
}

impl Worker {
    /// Starts the worker thread with builds of `pending` sessions queued first, so that they
    /// are built in batches like any burst of ingests.
    pub(crate) fn start(
        shared: Arc<Shared>,
        embedder: Arc<dyn Embedder>,
        settings: Settings,
        pending: Vec<SessionKey>,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(pending.len()));
        for session in pending {
            tx.send(Job::Build {
                session,
                done: None,
            })
            .map_err(|_| Error::WorkerStopped)?;
        }
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopping);
        let count = Arc::clone(&queued);
        let settings = Settings {
            max_batch: settings.max_batch.max(1),
            slice_texts: settings.slice_texts.max(1),
            ..settings
        };
        let requeue = tx.clone();
        let thread = std::thread::Builder::new()
            .name("mnemo-worker".to_owned())
            .spawn(move || {
                lower_priority(settings.nice);
                let parts = shared.parts(embedder.as_ref());
                Loop {
                    rx,
                    parts: &parts,
                    stopping: &flag,
                    settings,
                    queued: &count,
                    requeue,
                    retrying: 0,
                    given_up: Vec::new(),
                    deferred: VecDeque::new(),
                    embedded: HashMap::new(),
                    flushes: Vec::new(),
                    carried: None,
                }
                .run();
            })
            .map_err(|e| Error::Task {
                reason: format!("cannot start the worker thread: {e}"),
            })?;
        Ok(Self {
            tx,
            stopping,
            thread: Mutex::new(Some(thread)),
            queued,
        })
    }

    /// Queues a job.
    pub(crate) fn submit(&self, job: Job) -> Result<()> {
        let build = matches!(job, Job::Build { .. });
        if build {
            self.queued.fetch_add(1, Ordering::SeqCst);
        }
        self.tx.send(job).map_err(|_| {
            if build {
                self.queued.fetch_sub(1, Ordering::SeqCst);
            }
            Error::WorkerStopped
        })
    }

    /// Build jobs submitted and not finished.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
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

/// A large session being embedded a slice at a time, with everyone waiting for it.
struct Deferred {
    key: SessionKey,
    waiters: Vec<Waiter>,
}

/// The worker thread's state.
struct Loop<'a> {
    rx: mpsc::UnboundedReceiver<Job>,
    parts: &'a Parts<'a>,
    stopping: &'a AtomicBool,
    settings: Settings,
    queued: &'a AtomicUsize,
    /// The worker's own queue, for retries.
    requeue: mpsc::UnboundedSender<Job>,
    /// Failed builds waiting for their retry.
    retrying: usize,
    /// Sessions whose retries all failed; tried again after the next build that works.
    given_up: Vec<SessionKey>,
    /// Large sessions, oldest first; one slice of the first is embedded after every job.
    deferred: VecDeque<Deferred>,
    /// The vectors embedded so far of each deferred session's texts.
    embedded: HashMap<SessionKey, HashMap<String, Vec<f32>>>,
    /// Flushes waiting for the deferred sessions queued before them.
    flushes: Vec<oneshot::Sender<()>>,
    /// A job taken while gathering a batch, to run next.
    carried: Option<Job>,
}

impl Loop<'_> {
    fn run(mut self) {
        loop {
            let job = match self.carried.take() {
                Some(job) => Some(job),
                // Nothing to slice: wait for work.
                None if self.deferred.is_empty() => match self.rx.blocking_recv() {
                    Some(job) => Some(job),
                    None => break,
                },
                // A large session is being sliced: take a job only if one is waiting.
                None => self.rx.try_recv().ok(),
            };
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
            match job {
                Some(Job::Stop) => break,
                Some(job) => self.handle(job),
                None => {}
            }
            // One slice of the oldest large session after every job: sessions queued behind
            // a large one wait for at most a slice, not for the whole of it.
            if let Some(deferred) = self.deferred.pop_front() {
                self.advance(deferred);
            }
            if self.deferred.is_empty() && self.retrying == 0 {
                for done in self.flushes.drain(..) {
                    let _ = done.send(());
                }
            }
        }
        info!("worker stopped");
    }

    fn handle(&mut self, job: Job) {
        match job {
            Job::Stop => {}
            Job::Retry { session, attempt } => {
                self.retrying -= 1;
                info!(
                    session = session.0,
                    attempt, "building a session again after a failure"
                );
                let results = build_settled(self.parts, vec![session]);
                self.finish_attempt(session, vec![None], &results, attempt);
            }
            Job::Flush { done } => {
                if self.deferred.is_empty() && self.retrying == 0 {
                    let _ = done.send(());
                } else {
                    self.flushes.push(done);
                }
            }
            Job::Exec(task) => task(self.parts),
            Job::Delete {
                pass,
                session_id,
                done,
            } => {
                let _ = done.send(delete(self.parts, &pass, &session_id));
            }
            Job::Build { session, done } => {
                let mut batch: Vec<(SessionKey, Waiter)> = vec![(session, done)];
                while batch.len() < self.settings.max_batch {
                    match self.rx.try_recv() {
                        Ok(Job::Build { session, done }) => batch.push((session, done)),
                        Ok(other) => {
                            self.carried = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                self.build_batch(batch);
            }
        }
    }

    /// Builds the batch's small sessions now and defers its large ones.
    fn build_batch(&mut self, batch: Vec<(SessionKey, Waiter)>) {
        let mut waiting: Vec<(SessionKey, Vec<Waiter>)> = Vec::new();
        for (key, waiter) in batch {
            match waiting.iter_mut().find(|(k, _)| *k == key) {
                Some((_, waiters)) => waiters.push(waiter),
                None => waiting.push((key, vec![waiter])),
            }
        }
        let mut now: Vec<(SessionKey, Vec<Waiter>)> = Vec::new();
        for (key, waiters) in waiting {
            if let Some(d) = self.deferred.iter_mut().find(|d| d.key == key) {
                d.waiters.extend(waiters);
                continue;
            }
            let none = HashMap::new();
            let have = self.embedded.get(&key).unwrap_or(&none);
            match texts_to_embed(self.parts, key, have) {
                Ok(missing) if missing.len() > self.settings.slice_texts => {
                    info!(
                        session = key.0,
                        texts = missing.len(),
                        "large session: embedded in slices between other builds"
                    );
                    self.deferred.push_back(Deferred { key, waiters });
                }
                // Errors are met again, and reported, by the build.
                _ => now.push((key, waiters)),
            }
        }
        if now.is_empty() {
            return;
        }
        let keys = now.iter().map(|(k, _)| *k).collect();
        let results = build_settled_with(self.parts, keys, HashMap::new());
        for (key, waiters) in now {
            self.finish(key, waiters, &results);
        }
    }

    /// Embeds the next slice of a large session's texts, and builds it once every text has
    /// its vector; until then it goes back to the end of the line.
    fn advance(&mut self, deferred: Deferred) {
        let key = deferred.key;
        let have = self.embedded.entry(key).or_default();
        let sliced = texts_to_embed(self.parts, key, have).and_then(|missing| {
            let n = missing.len().min(self.settings.slice_texts);
            embed_texts(self.parts, &missing[..n], have)?;
            Ok(missing.len() - n)
        });
        match sliced {
            Ok(0) => {
                let embedded = self.embedded.remove(&key).unwrap_or_default();
                let results = build_settled_with(self.parts, vec![key], embedded);
                self.finish(key, deferred.waiters, &results);
            }
            Ok(_) => self.deferred.push_back(deferred),
            Err(e) => {
                error!(session = key.0, error = %e, "embedding a session failed; it stays pending");
                self.embedded.remove(&key);
                let mut results = HashMap::new();
                results.insert(key, Err(e));
                self.finish(key, deferred.waiters, &results);
            }
        }
    }

    /// Tells everyone waiting for `key` how its first build went.
    fn finish(
        &mut self,
        key: SessionKey,
        waiters: Vec<Waiter>,
        results: &HashMap<SessionKey, Result<BuildOutcome>>,
    ) {
        self.finish_attempt(key, waiters, results, 0);
    }

    /// Tells everyone waiting for `key` how this attempt went, and when it failed, has the
    /// session built again after a wait that doubles with each attempt. The session stays
    /// pending in the store meanwhile (and after the last attempt, until the next start).
    fn finish_attempt(
        &mut self,
        key: SessionKey,
        waiters: Vec<Waiter>,
        results: &HashMap<SessionKey, Result<BuildOutcome>>,
        attempt: u32,
    ) {
        match results.get(&key) {
            Some(Err(_)) if attempt < MAX_RETRIES => self.schedule_retry(key, attempt + 1),
            Some(Err(_)) => {
                error!(
                    session = key.0,
                    attempts = attempt + 1,
                    "building a session keeps failing; it stays pending until a build works \
                     again or the next start"
                );
                self.given_up.push(key);
            }
            // Whatever kept the sessions given up on from building (a full disk, a model
            // that was down) may be over: try them again.
            Some(Ok(BuildOutcome::Built(_))) => {
                for key in std::mem::take(&mut self.given_up) {
                    self.schedule_retry(key, 1);
                }
            }
            _ => {}
        }
        self.queued.fetch_sub(waiters.len(), Ordering::SeqCst);
        for waiter in waiters.into_iter().flatten() {
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
}

impl Loop<'_> {
    /// Queues `Retry` for `key` after the backoff of `attempt`, counted as waiting to be built.
    fn schedule_retry(&mut self, key: SessionKey, attempt: u32) {
        let wait = self.settings.retry_backoff * 2u32.saturating_pow(attempt - 1);
        self.retrying += 1;
        self.queued.fetch_add(1, Ordering::SeqCst);
        let queue = self.requeue.clone();
        let spawned = std::thread::Builder::new()
            .name("mnemo-retry".to_owned())
            .spawn(move || {
                std::thread::sleep(wait);
                // A stopped worker leaves the session pending for the next start.
                let _ = queue.send(Job::Retry {
                    session: key,
                    attempt,
                });
            });
        if let Err(e) = spawned {
            self.retrying -= 1;
            self.queued.fetch_sub(1, Ordering::SeqCst);
            error!(session = key.0, error = %e, "cannot schedule a retry; the session stays pending");
        }
    }
}
