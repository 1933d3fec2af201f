//! The socket hyper serves: bytes already read from it put back in front (a pipelined
//! request behind a detached poll), and hyper's own answers to requests it cannot
//! parse given an `ErrorDetail` body.
//!
//! hyper answers a request line or header block it cannot parse before the
//! application sees the request: 400 (malformed), 414 (the URI is longer than it
//! parses) or 431 (header fields too large or too many), each with an empty body and
//! `connection: close`. Every error a client of a Taler service sees carries an
//! `ErrorDetail`, so that head is replaced, as it is written, by the same head with
//! one.

use std::{
    io::IoSlice,
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use poem::http::StatusCode;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};

use crate::taler::{ApiError, ErrorCode};

pub struct Rewound {
    stream: TcpStream,
    prefix: Bytes,
    /// An error answer with its body, written in place of hyper's (see the module
    /// comment), and how much of it is out.
    replaced: Option<(Vec<u8>, usize)>,
}

impl Rewound {
    pub fn new(stream: TcpStream, prefix: Bytes) -> Rewound {
        Rewound {
            stream,
            prefix,
            replaced: None,
        }
    }

    /// The socket and what was put back in front of it and not read yet.
    pub fn into_parts(self) -> (TcpStream, Bytes) {
        (self.stream, self.prefix)
    }

    /// Writes what is left of a replaced answer; ready once all of it is out.
    fn poll_replaced(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while let Some((answer, written)) = &mut self.replaced {
            if *written == answer.len() {
                self.replaced = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.stream).poll_write(cx, &answer[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `head` as written if it is one of hyper's bodiless error answers: the
    /// answer with an `ErrorDetail` goes out instead, and hyper is told all of `head`
    /// was written.
    fn replace(&mut self, cx: &mut Context<'_>, head: &[u8]) -> Option<std::io::Result<usize>> {
        let answer = with_error_detail(head)?;
        self.replaced = Some((answer, 0));
        match self.poll_replaced(cx) {
            Poll::Ready(Err(e)) => Some(Err(e)),
            // The rest goes out with the flush hyper does next.
            _ => Some(Ok(head.len())),
        }
    }
}

/// hyper's bodiless error head, with an `ErrorDetail` body; `None` for anything else.
fn with_error_detail(head: &[u8]) -> Option<Vec<u8>> {
    // Every write of every answer passes here: the cheap test first.
    const STATUSES: [&[u8]; 3] = [b"HTTP/1.1 400 ", b"HTTP/1.1 414 ", b"HTTP/1.1 431 "];
    if head.len() > 512 || !STATUSES.iter().any(|s| head.starts_with(s)) {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    // The whole head, and nothing after it: hyper writes its error answers in one piece.
    if !text.ends_with("\r\n\r\n") || text.matches("\r\n\r\n").count() != 1 {
        return None;
    }
    let (status, code, hint) = match text.get(..13)? {
        "HTTP/1.1 400 " => (
            StatusCode::BAD_REQUEST,
            ErrorCode::GenericHttpHeadersMalformed,
            "the request is not well-formed HTTP/1.1",
        ),
        "HTTP/1.1 414 " => (
            StatusCode::URI_TOO_LONG,
            ErrorCode::GenericUriTooLong,
            "the URI is longer than the longest URI this server parses",
        ),
        "HTTP/1.1 431 " => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::GenericHttpHeadersMalformed,
            "the request's header fields are too large or too many",
        ),
        _ => return None,
    };
    let lower = text.to_ascii_lowercase();
    let empty = "\r\ncontent-length: 0\r\n";
    if !lower.contains(empty) || !lower.contains("\r\nconnection: close\r\n") {
        return None;
    }
    let body = ApiError::with_status(status, code, hint).body();
    let at = lower.find(empty)?;
    let mut answer = Vec::with_capacity(head.len() + 64 + body.len());
    answer.extend_from_slice(&head[..at]);
    answer.extend_from_slice(
        format!(
            "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        )
        .as_bytes(),
    );
    answer.extend_from_slice(&head[at + empty.len()..]);
    answer.extend_from_slice(&body);
    Some(answer)
}

impl AsyncRead for Rewound {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewound {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        ready!(self.poll_replaced(cx))?;
        if let Some(done) = self.replace(cx, buf) {
            return Poll::Ready(done);
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        ready!(self.poll_replaced(cx))?;
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(done) = self.replace(cx, first)
        {
            return Poll::Ready(done);
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.poll_replaced(cx))?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.poll_replaced(cx))?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_error_heads_get_an_error_detail() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
                     content-length: 0\r\ndate: Fri, 04 Dec 2026 16:33:49 GMT\r\n\r\n";
        let answer = String::from_utf8(with_error_detail(head).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "));
        assert!(head.contains("\r\ncontent-type: application/json\r\n"));
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
        assert!(head.contains("\r\ndate: "));
        let detail: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(detail["code"], 23);
        let uri = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        let answer = String::from_utf8(with_error_detail(uri).unwrap()).unwrap();
        assert!(answer.ends_with(
            r#""code":31,"hint":"the URI is longer than the longest URI this server parses"}"#
        ));
    }

    #[test]
    fn other_answers_pass_as_they_are() {
        for head in [
            &b"HTTP/1.1 204 No Content\r\ndate: x\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n",
            b"{\"code\":23}",
        ] {
            assert_eq!(with_error_detail(head), None);
        }
    }
}
