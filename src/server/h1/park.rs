//! Idle keep-alive connections parked without a task.
//!
//! A task per connection costs about 2 KiB while it waits: the connection
//! future, tokio's task cell and its I/O registration, all cache-line
//! aligned. Most keep-alive connections spend most of their life idle, so
//! a plain-TCP connection that stays idle for
//! [`ServerConfig::park_idle_after`](crate::server::ServerConfig::park_idle_after)
//! ends its task and hands its socket here. The parker keeps it in a slab,
//! registered with its own epoll set (mio), which is itself registered with
//! tokio's reactor as one file descriptor. When the socket becomes readable
//! (a request, a FIN, an error) it is deregistered and served by a fresh
//! task, which reads it directly and registers it with tokio only if it has
//! to wait (see [`Tcp`]); when its idle deadline passes first it is closed,
//! exactly as the task would have closed it. A parked connection
//! costs about 100 bytes of user memory.
//!
//! The cost is four `epoll_ctl` calls and a task spawn per park/unpark
//! cycle, paid only by connections idle for longer than the park delay, so
//! busy connections never pay it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use tokio::io::unix::AsyncFd;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::Instant;

use crate::server::metrics::{ConnectionGuard, Metrics};
use crate::server::serve::Shutdown;
use crate::server::tcp::Tcp;

/// What a connection holds for as long as it is open, parked or not
/// (released by dropping it).
#[derive(Debug)]
pub(crate) struct Held {
    /// The connection's slot under the connection cap.
    pub(crate) _permit: OwnedSemaphorePermit,
    /// Holds the connection in the open-connections gauge.
    pub(crate) _open: Option<ConnectionGuard>,
}

/// What a connection keeps while no task runs for it, and brings back to
/// the task that resumes it.
#[derive(Debug)]
pub(crate) struct Idle {
    /// The client (from the socket or a PROXY header).
    pub(crate) peer: SocketAddr,
    /// Requests answered so far (0: the client has not sent one yet).
    pub(crate) served: u64,
    /// When the connection is closed if no request starts.
    pub(crate) deadline: Instant,
    pub(crate) held: Held,
}

struct Entry {
    stream: mio::net::TcpStream,
    idle: Idle,
    generation: u64,
}

#[derive(Default)]
struct Parked {
    slab: Slab<Entry>,
    /// Deadlines, earliest first: (deadline, slab key, generation). An
    /// entry whose slot was since reused (other generation) or emptied is
    /// stale and skipped.
    deadlines: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    generation: u64,
    /// Set once the server stops: nothing more is parked.
    closed: bool,
}

/// The parking lot shared by every connection of one server.
pub(crate) struct Parker {
    registry: mio::Registry,
    parked: Mutex<Parked>,
    /// Wakes the parker's loop when a deadline earlier than every other
    /// one was added.
    earlier: Notify,
    metrics: Option<Arc<Metrics>>,
}

/// The parker's own side: the epoll set it waits on.
pub(crate) struct ParkerPoll {
    poll: Poll,
    ready: AsyncFd<mio::Registry>,
}

impl Parker {
    /// A parker and the poll its loop owns. Must run inside the runtime
    /// (the epoll set is registered with its reactor).
    pub(crate) fn new(metrics: Option<Arc<Metrics>>) -> io::Result<(Arc<Parker>, ParkerPoll)> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        // The epoll descriptor is readable whenever a parked socket has an
        // event: one registration in tokio's reactor stands for all of them.
        //
        // `with_interest` is deprecated because a `T` whose `as_raw_fd` does
        // not own the descriptor could let it be closed while registered (an
        // I/O-safety hole; its replacement is an `unsafe fn`). A `Registry`
        // owns its descriptor (a dup of the poll's) and the `AsyncFd` owns
        // the `Registry`, so here the descriptor lives exactly as long as
        // the registration.
        #[allow(deprecated)]
        let ready =
            AsyncFd::with_interest(poll.registry().try_clone()?, tokio::io::Interest::READABLE)?;
        let parker = Arc::new(Parker {
            registry,
            parked: Mutex::new(Parked::default()),
            earlier: Notify::new(),
            metrics,
        });
        Ok((parker, ParkerPoll { poll, ready }))
    }

    fn lock(&self) -> MutexGuard<'_, Parked> {
        // A panic while holding the lock leaves consistent data (every
        // mutation is a single slab/heap call), so poisoning is ignored.
        self.parked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Parks an idle connection. When it cannot be parked (the server is
    /// stopping, or the socket cannot be registered) it comes back, for
    /// its task to go on serving it.
    pub(crate) fn park(&self, stream: Tcp, idle: Idle) -> Result<(), (Tcp, Idle)> {
        let std = match stream.into_std() {
            Ok(std) => std,
            Err(e) => {
                // Deregistering failed: the socket is unusable.
                tracing::debug!(peer = %idle.peer, "parking failed: {e}");
                return Ok(());
            }
        };
        let mut stream = mio::net::TcpStream::from_std(std);
        let mut parked = self.lock();
        if parked.closed {
            drop(parked);
            return back(stream, idle);
        }
        let key = parked.slab.vacant_key();
        // Registering an already-readable socket reports it at once, so
        // bytes that arrived while it moved here are not missed.
        if let Err(e) = self
            .registry
            .register(&mut stream, Token(key), Interest::READABLE)
        {
            drop(parked);
            tracing::debug!(peer = %idle.peer, "parking failed: {e}");
            return back(stream, idle);
        }
        let deadline = idle.deadline;
        parked.generation += 1;
        let generation = parked.generation;
        let inserted = parked.slab.insert(Entry {
            stream,
            idle,
            generation,
        });
        debug_assert_eq!(inserted, key, "the lock is held since vacant_key");
        let first = parked
            .deadlines
            .peek()
            .is_none_or(|Reverse((earliest, ..))| deadline < *earliest);
        parked.deadlines.push(Reverse((deadline, key, generation)));
        if parked.deadlines.len() > 2 * parked.slab.len() + 64 {
            // Connections that park and resume often leave stale deadlines
            // behind faster than they expire: drop them (amortized O(1)).
            let Parked {
                slab, deadlines, ..
            } = &mut *parked;
            deadlines.retain(|Reverse((_, key, generation))| {
                slab.get(*key).is_some_and(|e| e.generation == *generation)
            });
        }
        drop(parked);
        if let Some(m) = &self.metrics {
            m.connections_parked(1);
        }
        if first {
            self.earlier.notify_one();
        }
        Ok(())
    }

    /// Takes a parked connection out for serving again.
    fn unpark(&self, key: usize) -> Option<(mio::net::TcpStream, Idle)> {
        let mut parked = self.lock();
        let entry = parked.slab.try_remove(key)?;
        drop(parked);
        self.unparked(1);
        let mut stream = entry.stream;
        // Out of the parker's set before the task serves it (and may
        // register it with tokio): its token may be reused meanwhile.
        let _ = self.registry.deregister(&mut stream);
        Some((stream, entry.idle))
    }

    /// Closes the connections whose deadline has passed; returns the next
    /// deadline.
    fn expire(&self, now: Instant) -> Option<Instant> {
        let mut expired = Vec::new();
        let mut parked = self.lock();
        while let Some(&Reverse((deadline, key, generation))) = parked.deadlines.peek() {
            if deadline > now {
                break;
            }
            parked.deadlines.pop();
            if parked
                .slab
                .get(key)
                .is_some_and(|e| e.generation == generation)
            {
                expired.push(parked.slab.remove(key));
            }
        }
        // Stale deadlines left at the top would make the loop wake for
        // nothing; they are dropped when popped.
        let next = parked.deadlines.peek().map(|Reverse((d, ..))| *d);
        drop(parked);
        self.unparked(expired.len());
        // Closing the descriptor removes it from the epoll set.
        drop(expired);
        next
    }

    fn unparked(&self, n: usize) {
        if let Some(m) = &self.metrics
            && n > 0
        {
            m.connections_unparked(n as u64);
        }
    }

    /// Stops parking; returns every parked connection.
    fn close(&self) -> Vec<(mio::net::TcpStream, Idle)> {
        let mut parked = self.lock();
        parked.closed = true;
        parked.deadlines.clear();
        let all: Vec<Entry> = parked.slab.drain().collect();
        drop(parked);
        self.unparked(all.len());
        all.into_iter()
            .map(|mut e| {
                let _ = self.registry.deregister(&mut e.stream);
                (e.stream, e.idle)
            })
            .collect()
    }
}

/// Events taken from the epoll set per `epoll_wait`.
const EVENTS: usize = 256;

/// The parker's loop: resumes connections that became readable (through
/// `resume`, which spawns their task), closes those whose deadline passed,
/// and once `stop` fires resumes every parked connection (so each gets the
/// same last window an idle task gets at shutdown) and ends.
pub(crate) async fn run(
    parker: Arc<Parker>,
    mut own: ParkerPoll,
    mut stop: Shutdown,
    resume: impl Fn(Tcp, Idle),
) {
    let mut events = Events::with_capacity(EVENTS);
    let mut next = None;
    loop {
        let sleep = tokio::time::sleep_until(
            next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)),
        );
        tokio::select! {
            ready = own.ready.readable() => {
                let mut ready = match ready {
                    Ok(ready) => ready,
                    Err(e) => {
                        tracing::error!("parked connections: {e}");
                        break;
                    }
                };
                loop {
                    if let Err(e) = own.poll.poll(&mut events, Some(Duration::ZERO)) {
                        if e.kind() == io::ErrorKind::Interrupted {
                            continue;
                        }
                        tracing::error!("parked connections: {e}");
                        break;
                    }
                    if events.is_empty() {
                        // Drained: wait for the next edge.
                        ready.clear_ready();
                        break;
                    }
                    for event in events.iter() {
                        if let Some((stream, idle)) = parker.unpark(event.token().0) {
                            hand_back(stream, idle, &resume);
                        }
                    }
                }
            }
            _ = sleep => next = parker.expire(Instant::now()),
            _ = parker.earlier.notified() => next = parker.expire(Instant::now()),
            _ = stop.stopped() => break,
        }
    }
    for (stream, idle) in parker.close() {
        hand_back(stream, idle, &resume);
    }
}

/// A connection that could not be parked, back for its task to serve.
fn back(stream: mio::net::TcpStream, idle: Idle) -> Result<(), (Tcp, Idle)> {
    Err((Tcp::raw(stream.into()), idle))
}

/// A parked connection handed back to be served. It is not registered
/// with tokio here: its request has arrived, and the task reads it
/// directly (see [`Tcp`]).
fn hand_back(stream: mio::net::TcpStream, idle: Idle, resume: &impl Fn(Tcp, Idle)) {
    resume(Tcp::raw(stream.into()), idle);
}
