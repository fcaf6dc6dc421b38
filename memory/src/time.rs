//! Timestamps: milliseconds since the Unix epoch in UTC, shown as RFC 3339.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::{MemoryError, Result};

/// English month names, January first.
pub const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A point in time, in milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses an RFC 3339 timestamp such as `2023-05-08T13:56:00Z`.
    pub fn parse_rfc3339(value: &str) -> Result<Self> {
        DateTime::parse_from_rfc3339(value)
            .map(|t| Self(t.with_timezone(&Utc).timestamp_millis()))
            .map_err(|e| MemoryError::InvalidTimestamp {
                value: value.to_owned(),
                reason: format!("expected RFC 3339 such as 2023-05-08T13:56:00Z ({e})"),
            })
    }

    /// Wraps a chrono UTC time.
    pub fn from_datetime(t: DateTime<Utc>) -> Self {
        Self(t.timestamp_millis())
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// RFC 3339 with second precision when the time has no milliseconds.
    pub fn to_rfc3339(self) -> String {
        match DateTime::<Utc>::from_timestamp_millis(self.0) {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            None => self.0.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = Timestamp::parse_rfc3339("2023-05-08T13:56:00Z").unwrap_or(Timestamp(0));
        assert_eq!(t.to_rfc3339(), "2023-05-08T13:56:00Z");
        let offset = Timestamp::parse_rfc3339("2023-05-08T15:56:00+02:00").unwrap_or(Timestamp(0));
        assert_eq!(offset, t);
        assert!(Timestamp::parse_rfc3339("8 May 2023").is_err());
    }
}
