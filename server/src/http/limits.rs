//! Limits on a request's head (target length, header count and size), and JSON bodies for the
//! answers hyper itself gives when it cannot parse a request head.
//!
//! Two layers, because hyper answers some requests before any of our code runs:
//! - [`check_head`], a middleware, answers 414 `uri_too_long` and 431 `headers_too_large` with
//!   the configured limits. `serve` gives hyper limits a little above them, so that a request
//!   just over a limit reaches this middleware.
//! - [`ErrorBodies`] wraps each connection's byte stream. When hyper cannot parse a request
//!   head at all (a garbage request line, or a head beyond its own buffer or header count), it
//!   writes a bare `400`, `414` or `431` with `content-length: 0` and closes the connection.
//!   The wrapper recognises such a head on its way out and gives it the API's JSON error body.
//!   None of our own answers is a bodiless 400, 414 or 431, so nothing else is touched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::codes::Code;
use super::error::{ApiError, body};
use crate::ServerConfig;

/// Answers requests whose head is over the configured limits.
pub(super) async fn check_head(
    State(limits): State<ServerConfig>,
    req: Request,
    next: Next,
) -> Response {
    if let Err(e) = head_within(&limits, &req) {
        return e.into_response();
    }
    next.run(req).await
}

fn head_within(limits: &ServerConfig, req: &Request) -> Result<(), ApiError> {
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let checks = [
        (
            Code::UriTooLong,
            "bytes of path and query",
            req.uri().path_and_query().map_or(0, |p| p.as_str().len()),
            limits.max_uri_bytes,
        ),
        (
            Code::HeadersTooLarge,
            "headers",
            headers.len(),
            limits.max_headers,
        ),
        (
            Code::HeadersTooLarge,
            "bytes of header names and values",
            header_bytes,
            limits.max_header_bytes,
        ),
    ];
    for (code, what, got, limit) in checks {
        if got > limit {
            return Err(ApiError::new(
                code,
                format!("{what}: {got}, the limit is {limit}"),
            ));
        }
    }
    Ok(())
}

/// A connection's byte stream that gives hyper's bodiless parse-error answers a JSON body.
#[derive(Debug)]
pub(crate) struct ErrorBodies<S> {
    inner: S,
    /// A rewritten answer, and how much of it is written.
    pending: Vec<u8>,
    written: usize,
}

impl<S> ErrorBodies<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> ErrorBodies<S> {
    /// Writes what is left of a rewritten answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ErrorBodies<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ErrorBodies<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        let Some(answer) = with_json_body(buf) else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        this.pending = answer;
        // The caller's bytes are taken in full; the answer replacing them is written now or
        // by the next write, flush or shutdown.
        if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// hyper's answer to an unparsable head, with a JSON error body; `None` for anything else.
fn with_json_body(written: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(written).ok()?;
    // A whole head and nothing after it.
    if head.find("\r\n\r\n")? + 4 != head.len() {
        return None;
    }
    let (code, message) = match head.strip_prefix("HTTP/1.1 ")?.get(..4)? {
        "400 " => (Code::BadRequest, "the request head could not be parsed"),
        "414 " => (Code::UriTooLong, "the request target is too long"),
        "431 " => (
            Code::HeadersTooLarge,
            "the request head is larger than the server reads",
        ),
        _ => return None,
    };
    let mut lines: Vec<&str> = head.trim_end_matches("\r\n").split("\r\n").collect();
    let empty = lines
        .iter()
        .position(|l| l.eq_ignore_ascii_case("content-length: 0"))?;
    lines.remove(empty);
    let body = body(code, message).to_string();
    let mut answer = lines.join("\r\n");
    answer.push_str(&format!(
        "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(written: &str, expected: Option<&str>) {
        let got =
            with_json_body(written.as_bytes()).map(|a| String::from_utf8_lossy(&a).into_owned());
        assert_eq!(got.as_deref(), expected, "{written:?}");
    }

    #[test]
    fn only_bodiless_parse_error_heads_get_a_body() {
        let date = "date: Tue, 02 Dec 2025 00:00:00 GMT";
        check(
            &format!(
                "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n{date}\r\n\r\n"
            ),
            Some(&format!(
                "HTTP/1.1 431 Request Header Fields Too Large\r\n{date}\r\ncontent-type: application/json\r\ncontent-length: 99\r\n\r\n{}",
                r#"{"error":{"code":"headers_too_large","message":"the request head is larger than the server reads"}}"#
            )),
        );
        // Our own answers carry a body, and other statuses are left alone.
        check(
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            None,
        );
        check(
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n",
            None,
        );
        check("HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n", None);
        check("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n", None);
    }
}
