//! Admission of connections: at most `server.max_connections` open in all and
//! `server.max_connections_per_ip` from one address. A connection over either limit is answered
//! 503 `overloaded` with `Retry-After` and closed at once, so that one client holding many idle
//! connections can neither exhaust the process's file descriptors nor lock other clients out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

use super::codes::Code;
use super::error::body;
use crate::ServerConfig;

/// Seconds a refused client is told to wait.
const RETRY_AFTER_SECS: u64 = 1;
/// How long a refusal may take to write and to let the client finish sending.
const REFUSAL_TIME: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// The count of open connections, shared by the accept loop and every connection's permit.
#[derive(Debug)]
pub(super) struct Admission {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Open>,
}

/// Held by an admitted connection; gives its place back when dropped.
#[derive(Debug)]
pub(super) struct Permit {
    admission: Arc<Admission>,
    ip: IpAddr,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    Total,
    PerIp,
}

impl Admission {
    pub(super) fn new(limits: &ServerConfig) -> Arc<Self> {
        Arc::new(Self {
            max_total: limits.max_connections,
            max_per_ip: limits.max_connections_per_ip,
            open: Mutex::new(Open::default()),
        })
    }

    /// Admits a connection from `ip`, or says which limit it is over.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            return Err(Refusal::Total);
        }
        let from_ip = open.by_ip.entry(ip).or_default();
        if *from_ip >= self.max_per_ip {
            return Err(Refusal::PerIp);
        }
        *from_ip += 1;
        open.total += 1;
        Ok(Permit {
            admission: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self
            .admission
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.by_ip.remove(&self.ip);
            }
        }
    }
}

/// The whole HTTP/1.1 answer to a refused connection.
fn refusal_bytes(refusal: Refusal) -> Vec<u8> {
    let message = match refusal {
        Refusal::Total => "the server has as many open connections as it accepts; retry shortly",
        Refusal::PerIp => {
            "this address has as many open connections as the server accepts from one address; \
             close idle ones or retry shortly"
        }
    };
    let json = body(Code::Overloaded, message).to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: {RETRY_AFTER_SECS}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    )
    .into_bytes()
}

/// Answers a refused connection and closes it, within a bounded time. What the client had
/// sent is read and dropped, so that closing does not reset the connection before the client
/// has read the answer.
pub(super) async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    let answer = refusal_bytes(refusal);
    let finished = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(&answer).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
    if let Ok(Err(e)) = finished {
        debug!(error = %e, "answering a refused connection failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_in_all_and_per_address_and_free_places_on_drop() {
        let limits = ServerConfig {
            max_connections: 3,
            max_connections_per_ip: 2,
            ..ServerConfig::default()
        };
        let admission = Admission::new(&limits);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let first = admission.admit(a).unwrap();
        let _second = admission.admit(a).unwrap();
        assert_eq!(admission.admit(a).unwrap_err(), Refusal::PerIp);
        let _third = admission.admit(b).unwrap();
        assert_eq!(admission.admit(b).unwrap_err(), Refusal::Total);
        drop(first);
        let _again = admission.admit(a).unwrap();
        assert!(admission.open.lock().unwrap().by_ip.len() == 2);
    }

    #[test]
    fn a_refusal_is_a_complete_json_answer() {
        let bytes = String::from_utf8(refusal_bytes(Refusal::PerIp)).unwrap();
        let (head, json) = bytes.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", json.len())));
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(value["error"]["code"], "overloaded");
    }
}
