//! Connection limits on a real socket: one address holding many idle connections does not lock
//! other clients out, the server's total is capped with a coded `503 overloaded`, and a client
//! that never finishes a request head (or idles on a keep-alive connection) is disconnected.
//! With the deterministic stand-in embedder: nothing here is about ranking.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde_json::Value;
use tests::{Served, config, open_hashed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Bounds every wait on the server, so that a server that never answers fails the test.
const PATIENCE: Duration = Duration::from_secs(30);

async fn serve(
    max_connections: usize,
    per_ip: usize,
    header_timeout_secs: u64,
) -> (Served, SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.server.max_connections = max_connections;
    config.server.max_connections_per_ip = per_ip;
    config.server.header_timeout_secs = header_timeout_secs;
    let served = Served::start(open_hashed(config, dir.path())).await;
    let addr: SocketAddr = served.base.trim_start_matches("http://").parse().unwrap();
    (served, addr, dir)
}

/// A connection to the server from the loopback address `from` (Linux routes all of
/// 127.0.0.0/8 to loopback, so each is a distinct client address).
async fn connect_from(from: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::from(from), 0)).unwrap();
    socket.connect(server).await.unwrap()
}

/// Sends one request on a new connection from `from` and reads the whole answer: its status
/// and JSON body.
async fn get_health(from: [u8; 4], server: SocketAddr) -> (u16, String, Value) {
    let mut stream = connect_from(from, server).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: mnemo\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (
        status,
        head.to_lowercase(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn idle_connections_from_one_address_do_not_lock_other_clients_out() {
    let (served, server, _dir) = serve(6, 3, 60).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(connect_from([127, 0, 0, 1], server).await);
    }
    // The flooding address is refused with a coded answer ...
    let (status, head, body) = get_health([127, 0, 0, 1], server).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    assert!(head.contains("retry-after: 1"), "{head}");
    // ... while another address is served.
    let (status, _, body) = get_health([127, 0, 0, 2], server).await;
    assert_eq!(status, 200, "{body}");

    // The total is capped too: three more from a second address fill it.
    for _ in 0..3 {
        idle.push(connect_from([127, 0, 0, 2], server).await);
    }
    let (status, _, body) = get_health([127, 0, 0, 3], server).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("overloaded"))
    );

    // A closed connection frees its place once the server has seen it close (it may take the
    // server a moment: asked again until then, within bounds).
    drop(idle.pop());
    let mut attempts = 0;
    let status = loop {
        let (status, _, _) = get_health([127, 0, 0, 3], server).await;
        attempts += 1;
        if status == 200 || attempts == 500 {
            break status;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(status, 200, "after {attempts} attempts");
    drop(idle);
    served.stop().await;
}

/// Well above the 1 s header timeout these tests configure, well below hyper's own default of
/// 30 s: a connection closed within it was closed by the configured timeout.
const HEADER_PATIENCE: Duration = Duration::from_secs(10);

/// Reads until the server closes the connection; fails if it does not within
/// [`HEADER_PATIENCE`].
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    tokio::time::timeout(HEADER_PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .ok();
    answer
}

#[tokio::test]
async fn slow_request_heads_and_idle_keep_alive_connections_are_closed() {
    let (served, server, _dir) = serve(64, 64, 1).await;

    // Connected, and nothing sent.
    let mut silent = connect_from([127, 0, 0, 1], server).await;
    closed_by_server(&mut silent).await;

    // Half a head, never finished (slowloris).
    let mut slow = connect_from([127, 0, 0, 1], server).await;
    slow.write_all(b"GET /health HTTP/1.1\r\nhost: mnemo\r\n")
        .await
        .unwrap();
    closed_by_server(&mut slow).await;

    // One whole request answered, then the keep-alive connection left idle.
    let mut kept = connect_from([127, 0, 0, 1], server).await;
    kept.write_all(b"GET /health HTTP/1.1\r\nhost: mnemo\r\n\r\n")
        .await
        .unwrap();
    let answer = String::from_utf8(closed_by_server(&mut kept).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    served.stop().await;
}
