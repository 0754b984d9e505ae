//! Connections the web server holds: at most so many per client address (an
//! IPv6 client by its /64) and in all, each closed when no byte moved either way
//! for a while. Together with hyper's header-read timeout this keeps half-open
//! connections (slowloris) from starving real users. [`Book`] is the pure count;
//! [`LimitAcceptor`] applies it to accepted sockets.

use crate::security::ratelimit::address_key;
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// Counts held slots per key and in all (pure).
#[derive(Debug)]
pub struct Book {
    per_key: usize,
    total: usize,
    held: HashMap<String, usize>,
    all: usize,
}

impl Book {
    pub fn new(per_key: usize, total: usize) -> Book {
        Book {
            per_key,
            total,
            held: HashMap::new(),
            all: 0,
        }
    }

    /// Takes a slot for `key`; `false` when the key or the whole is at its cap.
    pub fn admit(&mut self, key: &str) -> bool {
        let n = self.held.get(key).copied().unwrap_or(0);
        if n >= self.per_key || self.all >= self.total {
            return false;
        }
        self.held.insert(key.to_owned(), n + 1);
        self.all += 1;
        true
    }

    pub fn release(&mut self, key: &str) {
        if let Some(n) = self.held.get_mut(key) {
            *n -= 1;
            self.all -= 1;
            if *n == 0 {
                self.held.remove(key);
            }
        }
    }
}

/// A slot in a shared [`Book`], given back when dropped.
pub struct Slot {
    book: Arc<Mutex<Book>>,
    key: String,
}

impl Slot {
    /// A slot for `key`, or `None` when it is at its cap.
    pub fn take(book: &Arc<Mutex<Book>>, key: String) -> Option<Slot> {
        let admitted = book.lock().unwrap_or_else(|p| p.into_inner()).admit(&key);
        admitted.then(|| Slot {
            book: book.clone(),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.book
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .release(&self.key);
    }
}

/// Connections from one address (or IPv6 /64).
pub const PER_ADDRESS: usize = 64;
/// Connections in all.
pub const TOTAL: usize = 512;
/// A connection on which nothing moved for this long is closed. Live views send
/// a ping well within it.
pub const IDLE: Duration = Duration::from_secs(60);

/// Accepts a socket only when its address has a free slot; the socket keeps the
/// slot until it closes, and is closed when idle.
#[derive(Clone)]
pub struct LimitAcceptor {
    book: Arc<Mutex<Book>>,
    idle: Duration,
}

impl LimitAcceptor {
    pub fn new(per_address: usize, total: usize, idle: Duration) -> LimitAcceptor {
        LimitAcceptor {
            book: Arc::new(Mutex::new(Book::new(per_address, total))),
            idle,
        }
    }
}

impl<S: Send + 'static> axum_server::accept::Accept<TcpStream, S> for LimitAcceptor {
    type Stream = Guarded<TcpStream>;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Self::Stream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let key = match stream.peer_addr() {
            Ok(a) => address_key(a.ip()),
            Err(e) => return std::future::ready(Err(e)),
        };
        std::future::ready(match Slot::take(&self.book, key) {
            Some(slot) => Ok((Guarded::new(stream, slot, self.idle), service)),
            None => {
                tracing::debug!("web: connection refused, too many from one address or in all");
                Err(io::Error::other("connection limit"))
            }
        })
    }
}

/// A socket holding its slot, failing with `TimedOut` once idle too long.
pub struct Guarded<S> {
    inner: S,
    _slot: Slot,
    idle: Duration,
    last: Instant,
    timer: Pin<Box<Sleep>>,
}

impl<S> Guarded<S> {
    fn new(inner: S, slot: Slot, idle: Duration) -> Guarded<S> {
        Guarded {
            inner,
            _slot: slot,
            idle,
            last: Instant::now(),
            timer: Box::pin(tokio::time::sleep(idle)),
        }
    }

    /// Called when the inner socket is not ready: an error once idle too long,
    /// else the timer is armed to wake the task at the idle deadline.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            let deadline = self.last + self.idle;
            if Instant::now() >= deadline {
                return Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "idle connection"));
            }
            if self.timer.deadline() != deadline {
                self.timer.as_mut().reset(deadline);
            }
            ready!(self.timer.as_mut().poll(cx));
        }
    }

    fn moved(&mut self) {
        self.last = Instant::now();
    }
}

use std::future::Future;

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, b) {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    this.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.poll_idle(cx).map(Err),
            r => r,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    this.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_key_and_in_all() {
        let mut b = Book::new(2, 3);
        assert!(b.admit("a") && b.admit("a"));
        assert!(!b.admit("a"), "per key");
        assert!(b.admit("b"));
        assert!(!b.admit("c"), "in all");
        b.release("a");
        assert!(b.admit("c"));
        assert!(!b.admit("a"));
        b.release("b");
        assert!(b.admit("a"));
    }
}
