//! What hyper answers by itself, before any handler runs, in the API's JSON error shape: a
//! request line over its ~64 KiB cap is an empty `414`, a head over its buffer an empty `431`.
//! Neither can be configured away, so the connection's write side rewrites them: the first
//! bytes of a response that start `HTTP/1.1 414 ` or `HTTP/1.1 431 ` are replaced by the
//! JSON error (hyper closes the connection after either, so nothing else follows).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose bare 414/431 responses become JSON ones.
pub struct JsonHttpErrors<S> {
    inner: S,
    /// A replacement being written, and how much of it is out.
    replacing: Option<(Vec<u8>, usize)>,
    /// A replacement was sent: whatever hyper writes after it is dropped.
    replaced: bool,
}

impl<S> JsonHttpErrors<S> {
    pub fn new(inner: S) -> Self {
        JsonHttpErrors { inner, replacing: None, replaced: false }
    }
}

/// The JSON response for a bare hyper response starting with `head`, if it is one we rewrite.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let (status, reason, message) = if head.starts_with(b"HTTP/1.1 414 ") {
        (414, "URI Too Long", format!("The request URL is longer than {} bytes.", crate::MAX_URL_BYTES))
    } else if head.starts_with(b"HTTP/1.1 431 ") {
        (431, "Request Header Fields Too Large", "The request headers are too large.".to_string())
    } else {
        return None;
    };
    let body = serde_json::json!({ "statusCode": status, "message": message }).to_string();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\n\
             access-control-allow-origin: *\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonHttpErrors<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonHttpErrors<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() && !self.replaced {
            match replacement(buf) {
                Some(r) => self.replacing = Some((r, 0)),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        let this = &mut *self;
        if let Some((bytes, sent)) = &mut this.replacing {
            while *sent < bytes.len() {
                match Pin::new(&mut this.inner).poll_write(cx, &bytes[*sent..]) {
                    Poll::Ready(Ok(n)) => *sent += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            this.replacing = None;
            this.replaced = true;
        }
        // hyper's own bytes of the replaced response: taken, not sent.
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
