//! Rate limits per caller: a token bucket (GCRA, from the `governor` crate) per key, one for
//! ingest and one for search, checked below HTTP with the access check. Internal callers
//! (import, the harness, the command line) are not limited.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};

use super::access::Access;
use crate::{Error, Result};

/// Requests a key may make, per class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Sessions stored or appended per minute, per key.
    pub ingest_per_minute: u32,
    /// Ingests a key may make at once before the per-minute rate applies.
    pub ingest_burst: u32,
    /// Searches per minute, per key.
    pub search_per_minute: u32,
    /// Searches a key may make at once before the per-minute rate applies.
    pub search_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ingest_per_minute: 600,
            ingest_burst: 60,
            search_per_minute: 6_000,
            search_burst: 200,
        }
    }
}

impl RateLimitConfig {
    /// Checks that every rate and burst is at least 1.
    pub fn check(&self) -> std::result::Result<(), String> {
        let all = [
            self.ingest_per_minute,
            self.ingest_burst,
            self.search_per_minute,
            self.search_burst,
        ];
        if all.contains(&0) {
            return Err("rates and bursts must be at least 1 (set enabled = false instead)".into());
        }
        Ok(())
    }
}

/// Which bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Ingest,
    Search,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

/// The buckets of every caller.
pub(crate) struct RateLimits {
    ingest: Option<DefaultKeyedRateLimiter<String>>,
    search: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("enabled", &self.ingest.is_some())
            .finish()
    }
}

impl RateLimits {
    pub(crate) fn new(config: &RateLimitConfig) -> Self {
        let limiter = |per_minute, burst| {
            config
                .enabled
                .then(|| governor::RateLimiter::keyed(quota(per_minute, burst)))
        };
        Self {
            ingest: limiter(config.ingest_per_minute, config.ingest_burst),
            search: limiter(config.search_per_minute, config.search_burst),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request of `class` from the caller's bucket, or says how long to wait.
    pub(crate) fn check(&self, access: &Access, class: Class) -> Result<()> {
        if access.is_internal() {
            return Ok(());
        }
        let limiter = match class {
            Class::Ingest => &self.ingest,
            Class::Search => &self.search,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        match limiter.check_key(&access.actor().to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(Error::RateLimited {
                    retry_after: wait.max(Duration::from_millis(1)),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use memory::TenantId;

    use super::*;
    use crate::engine::access::Internal;

    #[test]
    fn a_caller_past_its_burst_waits_and_others_do_not() {
        let config = RateLimitConfig {
            search_per_minute: 1,
            search_burst: 2,
            ..RateLimitConfig::default()
        };
        let limits = RateLimits::new(&config);
        let open = Access::open();
        assert!(limits.check(&open, Class::Search).is_ok());
        assert!(limits.check(&open, Class::Search).is_ok());
        match limits.check(&open, Class::Search) {
            Err(Error::RateLimited { retry_after }) => {
                assert!(retry_after > Duration::from_secs(1), "{retry_after:?}")
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        // Ingest has its own bucket; internal callers have none.
        assert!(limits.check(&open, Class::Ingest).is_ok());
        let import = Access::internal(TenantId::default_tenant(), Internal::Import);
        for _ in 0..10 {
            assert!(limits.check(&import, Class::Search).is_ok());
        }
        let off = RateLimits::new(&RateLimitConfig {
            enabled: false,
            ..config
        });
        for _ in 0..10 {
            assert!(off.check(&open, Class::Search).is_ok());
        }
    }
}
