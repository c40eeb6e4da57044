//! Heap allocations per request on the server's hot path.
//!
//! A counting global allocator counts allocations (`alloc`, `alloc_zeroed`
//! and `realloc` calls) made on threads that opted in. Each case runs a
//! `berth::Server` on a current-thread tokio runtime inside its own thread,
//! which opts in, and drives it from a plain blocking `std::net::TcpStream`
//! client on the test thread, whose allocations are not counted. After a
//! warm-up (caches filled, buffers grown), it counts the server thread's
//! allocations over N keep-alive requests and divides.
//!
//! The test counts, it does not time: scheduling on a loaded machine only
//! moves where in the window the server does its per-request work, not how
//! much of it there is. What can vary is small and bounded: work for the
//! request before the window and the last one in it (at most one request's
//! worth, spread over N), the once-a-second refresh of the cached Date.
//!
//! Run `cargo test --test alloc_count -- --nocapture` to see the figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use berth::{Compress, Handler, Request, Response, ServeDir, Server};
use bytes::Bytes;
use http::{HeaderValue, header};

// ---------------------------------------------------------------------------
// The counting allocator.
//
// Counters live in slots so that tests running in parallel (each with its
// own server thread) never count each other's allocations. Slot 0 means
// "not counted"; a server thread takes a fresh slot and stores it in a
// thread-local before it builds its runtime.

const SLOTS: usize = 64;
static COUNTS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    // `const` initialization and no destructor: reading it never allocates
    // and never fails, so it is safe to touch from inside the allocator.
    static SLOT: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    let slot = SLOT.try_with(Cell::get).unwrap_or(0);
    if slot != 0 {
        COUNTS[slot].fetch_add(1, Ordering::Relaxed);
    }
}

/// `System`, plus a count of allocations on opted-in threads.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the counting touches only
// an atomic and a const-initialized thread-local, and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded as received (the caller upholds `alloc`'s contract).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------------------
// The server under test, on its own counted thread.

/// A server running on a counted thread; shut down and joined on drop.
struct CountedServer {
    addr: SocketAddr,
    slot: usize,
    shutdown: Option<berth::ShutdownHandle>,
    thread: Option<thread::JoinHandle<()>>,
}

impl CountedServer {
    fn start<H: Handler>(make_handler: impl FnOnce() -> H + Send + 'static) -> CountedServer {
        let slot = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
        assert!(slot < SLOTS, "more servers than counter slots");
        let (tx, rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name(format!("berth-counted-{slot}"))
            .spawn(move || {
                SLOT.with(|s| s.set(slot));
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let server = Server::try_bind("127.0.0.1:0").expect("bind");
                    let addr = server.local_addrs()[0];
                    tx.send((addr, server.shutdown_handle()))
                        .expect("send addr");
                    server.serve(make_handler()).await.expect("serve");
                });
            })
            .expect("spawn server thread");
        let (addr, shutdown) = rx.recv().expect("server started");
        CountedServer {
            addr,
            slot,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    fn allocations(&self) -> u64 {
        COUNTS[self.slot].load(Ordering::Relaxed)
    }
}

impl Drop for CountedServer {
    fn drop(&mut self) {
        if let Some(handle) = self.shutdown.take() {
            handle.shutdown();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The benchmark server's app (examples/plaintext.rs): `GET /plaintext`
/// answers `Hello, World!`; every other path goes to Compress over a
/// ServeDir with precompressed sidecars and the open-file cache. The cache
/// window is long here (the example uses 1 s) so that a slow run on a
/// loaded machine does not reopen the file inside the counted window.
fn plaintext_app(root: std::path::PathBuf) -> impl Handler {
    let files = Compress::new(
        ServeDir::new(&root)
            .precompressed(true)
            .open_file_cache(Duration::from_secs(3600)),
    );
    move |req: Request| {
        let files = if req.uri().path() == "/plaintext" {
            None
        } else {
            Some(files.call(req))
        };
        async move {
            match files {
                Some(response) => response.await,
                None => plaintext(),
            }
        }
    }
}

fn plaintext() -> Response {
    let mut res = Response::new(Bytes::from_static(b"Hello, World!").into());
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    res
}

/// A docroot with `4k.bin`: 4 KiB of pseudo-random bytes (not compressible,
/// and `application/octet-stream`, as the harness's static-4k file).
fn docroot() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut x: u32 = 0x9e37_79b9;
    let data: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(dir.path().join("4k.bin"), data).expect("write 4k.bin");
    dir
}

// ---------------------------------------------------------------------------
// The client: blocking std sockets, uncounted.

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        // Generous: only a hung server trips it, never a slow one.
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        Client {
            reader: BufReader::with_capacity(64 * 1024, stream.try_clone().expect("clone")),
            writer: stream,
        }
    }

    /// Sends `batch` copies of a GET for `path` in one write, then reads as
    /// many responses, checking each is a `200` with `body_len` bytes.
    fn get(&mut self, path: &str, batch: usize, body_len: usize) {
        let one =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: alloc-count\r\n\r\n");
        self.writer
            .write_all(one.repeat(batch).as_bytes())
            .expect("write request");
        for _ in 0..batch {
            self.read_response(body_len);
        }
    }

    fn read_response(&mut self, body_len: usize) {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        assert!(
            line.starts_with("HTTP/1.1 200 "),
            "unexpected status line {line:?}"
        );
        let mut content_length = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header line");
            if line == "\r\n" {
                break;
            }
            let (name, value) = line.split_once(':').expect("header field");
            if name.eq_ignore_ascii_case("content-length") {
                content_length = Some(value.trim().parse::<usize>().expect("length"));
            }
            assert!(
                !name.eq_ignore_ascii_case("connection") || !value.contains("close"),
                "server closes the connection"
            );
        }
        assert_eq!(content_length, Some(body_len), "Content-Length");
        let mut body = vec![0; body_len];
        self.reader.read_exact(&mut body).expect("body");
    }
}

const WARMUP: usize = 200;
const MEASURED: usize = 2000;

/// Allocations per request on the server for `MEASURED` requests (after
/// `WARMUP`), sent `batch` per write on one keep-alive connection.
fn allocs_per_request(server: &CountedServer, path: &str, batch: usize, body_len: usize) -> f64 {
    let mut client = Client::connect(server.addr);
    for _ in 0..WARMUP.div_ceil(batch) {
        client.get(path, batch, body_len);
    }
    let before = server.allocations();
    let rounds = MEASURED / batch;
    for _ in 0..rounds {
        client.get(path, batch, body_len);
    }
    let after = server.allocations();
    (after - before) as f64 / (rounds * batch) as f64
}

fn check(case: &str, measured: f64, bound: f64) {
    println!("alloc_count: {case}: {measured:.2} allocations/request (bound {bound})");
    assert!(
        measured <= bound,
        "{case}: {measured:.2} allocations per request, more than the bound {bound}"
    );
}

// guard: lower this bound when the hot path gets leaner; the goal is 0.
// Each bound is about one allocation per request above what was measured
// when it was written (noted on the right; identical over repeated runs,
// with and without two CPU-burning processes alongside). The margin absorbs
// rare timing-dependent work (a Date refresh, a pipelined batch split across
// two reads), never a new per-request allocation.
const PLAINTEXT_BOUND: f64 = 7.0; // measured 6.00 (7 before the active phase was awaited inline, 12 before buffers were kept while a returning connection idles on its task, 15 before the write buffer was sized once)
const PIPELINED_BOUND: f64 = 7.0; // measured 6.06 (6.38 before buffers were kept while idle on the task, 8.38 before the response's header map served the next request's head)
const STATIC_4K_BOUND: f64 = 10.0; // measured 9.00 (7 while Compress downcast its inner handler to a ServeDir and served it directly, with no future of ServeDir's own and no extension: the negotiation now goes down in the request's extensions, one allocation, and ServeDir's future is boxed under the layer's, one; 8 before the active phase was awaited inline; 13 before buffers were kept while idle on the task; 15 before the path was borrowed; 20 before Compress handed its negotiation to ServeDir directly; 35 before the small-file cache, the sized write buffer and allocation-free negotiation)
const SERVE_DIR_4K_BOUND: f64 = 7.0; // measured 6.00 (7 before the active phase was awaited inline; 12 before buffers were kept while idle on the task; 14 before the path was borrowed, 27 before)

#[test]
fn plaintext_keep_alive() {
    let root = docroot();
    let path = root.path().to_path_buf();
    let server = CountedServer::start(move || plaintext_app(path));
    let n = allocs_per_request(&server, "/plaintext", 1, 13);
    check("plaintext, keep-alive", n, PLAINTEXT_BOUND);
}

#[test]
fn plaintext_pipelined_16() {
    let root = docroot();
    let path = root.path().to_path_buf();
    let server = CountedServer::start(move || plaintext_app(path));
    let n = allocs_per_request(&server, "/plaintext", 16, 13);
    check("plaintext, 16 pipelined per write", n, PIPELINED_BOUND);
}

#[test]
fn static_4k_benchmark_stack() {
    let root = docroot();
    let path = root.path().to_path_buf();
    let server = CountedServer::start(move || plaintext_app(path));
    let n = allocs_per_request(&server, "/4k.bin", 1, 4096);
    check(
        "static 4 KiB, Compress(ServeDir) as examples/plaintext.rs",
        n,
        STATIC_4K_BOUND,
    );
}

#[test]
fn static_4k_serve_dir() {
    let root = docroot();
    let path = root.path().to_path_buf();
    let server = CountedServer::start(move || {
        ServeDir::new(&path).open_file_cache(Duration::from_secs(3600))
    });
    let n = allocs_per_request(&server, "/4k.bin", 1, 4096);
    check(
        "static 4 KiB, bare ServeDir with open-file cache",
        n,
        SERVE_DIR_4K_BOUND,
    );
}
