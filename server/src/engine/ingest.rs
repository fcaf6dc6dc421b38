//! The write path: storing a session or appended turns durably, queueing its build, and
//! waiting for it.

use std::time::Duration;

use tracing::warn;

use super::*;

/// What a refused writer is told to wait before retrying.
const OVERLOADED_RETRY: Duration = Duration::from_secs(1);

/// What an ingest or append did.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestReport {
    pub receipt: IngestReceipt,
    /// `Ready` once every unit is built (always, when the caller waited and building worked).
    pub status: SessionStatus,
    /// Units per granularity, once ready.
    pub units: BTreeMap<Granularity, usize>,
}

/// A durably stored session whose units may still be building.
#[derive(Debug)]
pub struct PendingIngest {
    engine: Engine,
    receipt: IngestReceipt,
    outcome: Option<oneshot::Receiver<Result<BuildOutcome>>>,
}

impl PendingIngest {
    /// What the store did with the session.
    pub fn receipt(&self) -> &IngestReceipt {
        &self.receipt
    }

    /// Waits until the session's units are built.
    pub async fn wait(mut self) -> Result<IngestReport> {
        let built = match self.outcome.take() {
            None => None,
            Some(heard) => Some(heard.await.map_err(|_| Error::WorkerStopped)??),
        };
        self.report(built).await
    }

    /// Waits until the session's units are built, or for `limit` at most: then, as when the
    /// build failed (the worker tries it again), the report says the session is stored and
    /// still pending.
    pub async fn wait_at_most(mut self, limit: Duration) -> Result<IngestReport> {
        let built = match self.outcome.take() {
            None => None,
            Some(heard) => match tokio::time::timeout(limit, heard).await {
                Ok(heard) => match heard.map_err(|_| Error::WorkerStopped)? {
                    Ok(built) => Some(built),
                    // Stored, and the worker tries again: the session is pending, not lost.
                    Err(Error::Build { reason }) => {
                        warn!(%reason, "a session's build failed; it stays pending and is retried");
                        None
                    }
                    Err(other) => return Err(other),
                },
                Err(_) => None,
            },
        };
        self.report(built).await
    }

    async fn report(self, built: Option<BuildOutcome>) -> Result<IngestReport> {
        let ready = match built {
            Some(BuildOutcome::Built(_) | BuildOutcome::AlreadyReady) => true,
            Some(BuildOutcome::Deleted | BuildOutcome::Stale) => false,
            None => self.receipt.status == SessionStatus::Ready,
        };
        let (status, units) = if ready {
            let shared = self.engine.shared();
            let key = self.receipt.session_key;
            let units = blocking(move || Ok(shared.store.unit_counts(key)?)).await?;
            (SessionStatus::Ready, units)
        } else {
            (SessionStatus::Pending, BTreeMap::new())
        };
        Ok(IngestReport {
            receipt: self.receipt,
            status,
            units,
        })
    }
}

impl Engine {
    /// Stores a session durably and queues its build; the returned handle waits for the build.
    /// Sessions submitted one after another are built in that order. A draft without a start
    /// time starts now, and one without an id gets the id derived from its content.
    pub async fn submit(
        &self,
        access: &Access,
        user: UserId,
        session: impl Into<SessionDraft>,
        channel: Channel,
    ) -> Result<PendingIngest> {
        let pass = access.user(user, Scope::Write)?;
        access.declare(channel)?;
        self.inner.rates.check(access, rate::Class::Ingest)?;
        self.check_room()?;
        let shared = self.shared();
        let limits = self.inner.config.limits.clone();
        let now = now();
        let session = session.into().complete(now);
        let receipt = blocking(move || {
            Ok(shared.store.ingest_session(
                pass.user(),
                &session,
                &limits,
                TurnWrite {
                    now,
                    actor: Actor(pass.actor()),
                    channel,
                },
            )?)
        })
        .await?;
        self.queue_build(receipt)
    }

    /// Stores a session durably and has its units built; with `wait`, returns once they are.
    pub async fn ingest(
        &self,
        access: &Access,
        user: UserId,
        session: impl Into<SessionDraft>,
        channel: Channel,
        wait: bool,
    ) -> Result<IngestReport> {
        let pending = self.submit(access, user, session, channel).await?;
        if wait {
            pending.wait_at_most(self.wait_limit()).await
        } else {
            pending.report(None).await
        }
    }

    /// Appends turns to a stored session and has its units rebuilt.
    pub async fn append(
        &self,
        access: &Access,
        user: UserId,
        session_id: SessionId,
        turns: Vec<NewTurn>,
        channel: Channel,
        wait: bool,
    ) -> Result<IngestReport> {
        let pass = access.user(user, Scope::Write)?;
        access.declare(channel)?;
        self.inner.rates.check(access, rate::Class::Ingest)?;
        self.check_room()?;
        let shared = self.shared();
        let limits = self.inner.config.limits.clone();
        let receipt = blocking(move || {
            Ok(shared.store.append_turns(
                pass.user(),
                &session_id,
                &turns,
                &limits,
                TurnWrite {
                    now: now(),
                    actor: Actor(pass.actor()),
                    channel,
                },
            )?)
        })
        .await?;
        let pending = self.queue_build(receipt)?;
        if wait {
            pending.wait_at_most(self.wait_limit()).await
        } else {
            pending.report(None).await
        }
    }

    /// Refuses new writes while as many sessions wait to be built as the queue holds: nothing
    /// is stored, and the caller is told when to retry.
    fn check_room(&self) -> Result<()> {
        let queued = self.inner.worker.queued();
        if queued >= self.inner.config.worker.max_queued_sessions {
            return Err(Error::Overloaded {
                queued,
                retry_after: OVERLOADED_RETRY,
            });
        }
        Ok(())
    }

    /// How long an ingest with `wait` waits for its build: most of the request timeout, so
    /// that the answer (stored, still building) comes before the timeout would.
    pub(super) fn wait_limit(&self) -> Duration {
        let timeout = Duration::from_secs(self.inner.config.server.request_timeout_secs);
        timeout.mul_f64(0.9)
    }

    fn queue_build(&self, receipt: IngestReceipt) -> Result<PendingIngest> {
        let mut outcome = None;
        if receipt.status == SessionStatus::Pending {
            let (done, heard) = oneshot::channel();
            self.inner.worker.submit(Job::Build {
                session: receipt.session_key,
                done: Some(done),
            })?;
            outcome = Some(heard);
        }
        Ok(PendingIngest {
            engine: self.clone(),
            receipt,
            outcome,
        })
    }
}
