//! HTTP/2 attacks, played frame by frame with the raw client `h2wire`
//! against berth in-process: rapid reset (CVE-2023-44487), server-side
//! reset floods (CVE-2019-9514, MadeYouReset), the CONTINUATION flood
//! (2024), PING, SETTINGS, PRIORITY, empty- and tiny-DATA floods (2019), a
//! client that never opens its window, one that opens streams faster than
//! it reads, a request body that stops arriving, oversized header lists and
//! an HPACK bomb, too many streams and invalid frames; and, the other way,
//! frames and traffic the defences must let through.
//!
//! In each: the attacking connection is ended (GOAWAY with a fitting code,
//! or closed) where RFC 9113 allows it, long before the attack is over;
//! what it costs the server stays bounded; and other clients, on HTTP/2 and
//! HTTP/1.1, are served normally meanwhile or afterwards.
//!
//! No sleeps: every wait is for a socket event (a frame, a write the server
//! stopped taking, the server's hang-up) or a handler's signal, with a
//! deadline.

#[path = "support/h2wire.rs"]
mod h2wire;
mod support;

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use berth::{Request, Response, ServerConfig};
use h2wire::{
    Conn, Frame, Kind, continuation, data, error, flag, goaway_error_code, goaway_last_stream_id,
    headers, ping, request_block, rst_error_code, rst_stream, setting, settings, window_update,
};
use support::{Client, HELLO_TXT, echo, get, start_serve_dir, start_with};

/// Longest wait for anything that should happen at once.
const WAIT: Duration = Duration::from_secs(5);

/// An attacker's write that makes no progress for this long means the
/// server stopped reading its connection.
const STALL: Duration = Duration::from_millis(300);

/// The largest flow-control window (RFC 9113 §6.9.1).
const MAX_WINDOW: u32 = (1 << 31) - 1;

/// Set in the environment of a test run in a process of its own.
const OWN_PROCESS: &str = "BERTH_HTTP2_FLOODS_OWN_PROCESS";

/// Timeouts short enough that the server gives up on a stalled or idle
/// attacker within a test: HTTP/2 idle 500 ms, write 1 s.
fn attack_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.timeouts.write = Duration::from_secs(1);
    config.http2.idle_timeout = Duration::from_millis(500);
    config
}

/// Another client is served normally: `GET /hello.txt` on a new HTTP/2
/// connection and on a new HTTP/1.1 one, answered 200 with `body`.
fn others_served(addr: SocketAddr, body: &[u8]) {
    let mut h2 = Conn::handshake(addr);
    let id = h2.get("/hello.txt");
    let res = h2
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("another HTTP/2 client not served: {e}"));
    assert_eq!(res.status, 200, "another HTTP/2 client: {res:?}");
    assert_eq!(res.body, body, "another HTTP/2 client's body");
    let mut h1 = Client::connect(addr);
    let res = h1.request(get("/hello.txt"));
    assert_eq!(res.status, 200, "another HTTP/1.1 client: {res:?}");
    assert_eq!(res.body, body, "another HTTP/1.1 client's body");
}

/// How a flood ended.
#[derive(Debug, PartialEq, Eq)]
enum Flood {
    /// Every batch was written, or the flood went on for [`FLOOD_TIME`].
    Sent,
    /// A write made no progress within the socket's write timeout: the
    /// server stopped reading.
    Stalled,
    /// The server closed or reset the connection.
    Ended(io::ErrorKind),
}

/// Longest a flood goes on: a server still reading it by then never will
/// stop.
const FLOOD_TIME: Duration = Duration::from_secs(10);

/// Writes up to `batches` batches without reading anything, for at most
/// [`FLOOD_TIME`]; returns how many were written entirely, and how the
/// flood ended. [`attacker`] sets the short write timeout that tells a
/// stall.
fn flood(
    conn: &mut Conn,
    batches: usize,
    mut batch: impl FnMut(usize) -> Vec<u8>,
) -> (usize, Flood) {
    let deadline = Instant::now() + FLOOD_TIME;
    for i in 0..batches {
        if Instant::now() >= deadline {
            return (i, Flood::Sent);
        }
        if let Err(e) = conn.try_send(&batch(i)) {
            let end = match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Flood::Stalled,
                kind => Flood::Ended(kind),
            };
            return (i, end);
        }
    }
    (batches, Flood::Sent)
}

/// A new HTTP/2 connection whose writes give up after [`STALL`].
fn attacker(addr: SocketAddr, params: &[(u16, u32)]) -> Conn {
    let conn = Conn::handshake_with(addr, params);
    conn.stream
        .set_write_timeout(Some(STALL))
        .expect("set_write_timeout");
    conn
}

/// True when the server closes or resets `stream` within `limit`. Waits
/// for the hang-up itself, reading and writing nothing: reading would let
/// a server that stopped writing to this client go on.
fn hung_up_within(stream: &TcpStream, limit: Duration) -> bool {
    use mio::{Events, Interest, Poll, Token};
    let mut poll = Poll::new().expect("epoll");
    let mut sock = mio::net::TcpStream::from_std(stream.try_clone().expect("dup"));
    poll.registry()
        .register(&mut sock, Token(0), Interest::READABLE | Interest::WRITABLE)
        .expect("register");
    let deadline = Instant::now() + limit;
    let mut events = Events::with_capacity(4);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        match poll.poll(&mut events, Some(left)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("epoll_wait: {e}"),
        }
        if events
            .iter()
            .any(|e| e.is_error() || e.is_read_closed() || e.is_write_closed())
        {
            return true;
        }
    }
}

/// Runs `body` in a process of its own: this test binary running only the
/// test `name`. A test that measures the process's memory sees no other
/// test's (another test's panic alone maps and parses this binary's debug
/// info: some 100 MB).
fn in_own_process(name: &str, body: impl FnOnce()) {
    if std::env::var_os(OWN_PROCESS).is_some() {
        return body();
    }
    let exe = std::env::current_exe().expect("current_exe");
    let child = std::process::Command::new(exe)
        .args([name, "--exact", "--test-threads=1"])
        .env(OWN_PROCESS, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the test binary");
    let pid = rustix::process::Pid::from_child(&child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(out) => out.expect("wait for the test binary"),
        Err(_) => {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            panic!("{name} in its own process: no result within 30 s");
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in its own process: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The process's resident memory, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// The first GOAWAY within [`WAIT`] (frames before it are dropped); panics
/// with `what` when the connection ends or the wait times out first.
fn expect_goaway(conn: &mut Conn, what: &str) -> Frame {
    match conn.read_until(|f| f.kind == Kind::Goaway, WAIT) {
        Ok(Some(f)) => f,
        Ok(None) => panic!("{what}: connection closed without GOAWAY"),
        Err(e) => panic!("{what}: no GOAWAY: {e}"),
    }
}

fn code_name(code: Option<u32>) -> &'static str {
    code.map_or("none", error::name)
}

/// Floods `pair(id)` for thousands of new streams (batches of 500, 40,000
/// streams planned) without reading, and checks the connection is ended
/// with GOAWAY (one of `codes`) having processed at most a tenth of them.
fn stream_flood(addr: SocketAddr, what: &str, codes: &[u32], pair: impl Fn(u32) -> Vec<u8>) {
    let mut attacker = attacker(addr, &[]);
    const PER_BATCH: u32 = 500;
    const BATCHES: usize = 80;
    let mut next_id = 1u32;
    let (sent, end) = flood(&mut attacker, BATCHES, |_| {
        let mut out = Vec::new();
        for _ in 0..PER_BATCH {
            out.extend(pair(next_id));
            next_id += 2;
        }
        out
    });
    let goaway = expect_goaway(&mut attacker, what);
    let code = goaway_error_code(&goaway);
    assert!(
        code.is_some_and(|c| codes.contains(&c)),
        "{what} answered {} ({goaway:?}); flood: {sent} batches, {end:?}",
        code_name(code)
    );
    let last = goaway_last_stream_id(&goaway).expect("GOAWAY's last stream id");
    let planned = 2 * PER_BATCH * BATCHES as u32;
    assert!(
        last < planned / 10,
        "{what}: the server processed streams up to {last} of {planned} before its GOAWAY"
    );
    assert!(
        attacker.closed_within(WAIT),
        "{what}: connection not closed after GOAWAY"
    );
}

// ---- rapid reset ----

/// Rapid reset (CVE-2023-44487): HEADERS + RST_STREAM(CANCEL) for new
/// streams, thousands of pairs written in big batches without reading. The
/// client never has a stream open, so the concurrent-stream limit never
/// bites, yet the server starts a request for each. Guards against a
/// server that keeps taking such pairs: it must answer GOAWAY
/// (ENHANCE_YOUR_CALM) having processed a small part of them.
#[test]
fn rapid_reset_flood_gets_enhance_your_calm() {
    let server = start_serve_dir(attack_config());
    let block = request_block("GET", "http", "localhost", "/hello.txt", &[]);
    stream_flood(
        server.addr,
        "rapid reset",
        &[error::ENHANCE_YOUR_CALM],
        |id| {
            [
                headers(id, flag::END_STREAM | flag::END_HEADERS, &block),
                rst_stream(id, error::CANCEL),
            ]
            .concat()
        },
    );
    others_served(server.addr, HELLO_TXT.as_bytes());
}

/// Sends `()` when dropped: tells the test a handler future was dropped
/// (its stream was cancelled).
struct DropNotice(mpsc::Sender<()>);

impl Drop for DropNotice {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Rapid reset against berth's own rule (`resets_too_many`), not the `h2`
/// crate's (which only counts streams reset before the server accepted
/// them): each stream is reset only once its handler runs. Up to twice
/// the stream limit of cancelled streams is what a browser may do and
/// keeps the connection; beyond it, with most streams cancelled, the
/// connection gets GOAWAY(ENHANCE_YOUR_CALM). Guards against a client
/// that paces its resets to slip under the crate's limit.
#[test]
fn rapid_reset_of_accepted_streams_hits_berths_own_limit() {
    let (started_tx, started) = mpsc::channel::<()>();
    let (dropped_tx, dropped) = mpsc::channel::<()>();
    let handler = move |req: Request| {
        let started_tx = started_tx.clone();
        let dropped_tx = dropped_tx.clone();
        async move {
            if req.uri().path() == "/hello.txt" {
                return berth::response::text(HELLO_TXT);
            }
            let _notice = DropNotice(dropped_tx);
            let _ = started_tx.send(());
            std::future::pending::<Response>().await
        }
    };
    let mut config = attack_config();
    config.http2.max_concurrent_streams = 100;
    config.http2.idle_timeout = Duration::from_secs(10);
    let server = start_with(config, handler);
    let mut attacker = attacker(server.addr, &[]);
    // Berth's limit: more than 2 x 100 cancelled streams, more than half
    // of all. Rounds of 100 streams opened, then all cancelled.
    const ROUND: usize = 100;
    let open_round = |conn: &mut Conn| -> Vec<u32> {
        let mut out = Vec::new();
        let ids: Vec<u32> = (0..ROUND).map(|_| conn.open_stream()).collect();
        for &id in &ids {
            let block = request_block("GET", "http", "localhost", "/hang", &[]);
            out.extend(headers(id, flag::END_STREAM | flag::END_HEADERS, &block));
        }
        conn.send(&out);
        ids
    };
    for round in 1..=3 {
        let ids = open_round(&mut attacker);
        for i in 0..ROUND {
            started
                .recv_timeout(WAIT)
                .unwrap_or_else(|_| panic!("round {round}: only {i} handlers started"));
        }
        let resets: Vec<u8> = ids
            .iter()
            .flat_map(|&id| rst_stream(id, error::CANCEL))
            .collect();
        attacker.send(&resets);
        for i in 0..ROUND {
            dropped
                .recv_timeout(WAIT)
                .unwrap_or_else(|_| panic!("round {round}: only {i} handlers cancelled"));
        }
        if round == 2 {
            // 200 cancelled streams of 200: within the rule.
            assert!(
                attacker.ping_ok(WAIT),
                "connection ended after 200 cancelled streams"
            );
        }
    }
    // 300 cancelled streams of 300: the next stream accepted trips the rule.
    open_round(&mut attacker);
    let goaway = expect_goaway(&mut attacker, "paced rapid reset");
    let code = goaway_error_code(&goaway);
    assert_eq!(
        code,
        Some(error::ENHANCE_YOUR_CALM),
        "paced rapid reset answered {}",
        code_name(code)
    );
    assert!(
        attacker.closed_within(WAIT),
        "connection not closed after GOAWAY"
    );
    others_served(server.addr, HELLO_TXT.as_bytes());
}

// ---- CONTINUATION flood ----

/// A CONTINUATION frame adding one field of 4 KB to the header list.
fn fill_continuation(stream_id: u32, n: usize) -> Vec<u8> {
    let mut fragment = Vec::new();
    h2wire::hpack_literal(
        &mut fragment,
        format!("x-fill-{n}").as_bytes(),
        &[b'a'; 4000],
    );
    continuation(stream_id, 0, &fragment)
}

/// Waits for the GOAWAY that ends an unfinished header block, and for the
/// close after it.
fn expect_header_block_cut(conn: &mut Conn, what: &str) {
    let goaway = expect_goaway(conn, what);
    let code = goaway_error_code(&goaway);
    assert!(
        matches!(
            code,
            Some(error::ENHANCE_YOUR_CALM | error::COMPRESSION_ERROR | error::PROTOCOL_ERROR)
        ),
        "{what}: answered {} ({goaway:?})",
        code_name(code)
    );
    assert!(conn.closed_within(WAIT), "{what}: connection not closed");
}

/// The CONTINUATION flood (2024): a HEADERS without END_HEADERS, then
/// CONTINUATION frames that never end it, each adding a 4 KB field. The
/// server cannot act on the header block until it ends, so one that keeps
/// buffering or decoding it grows without bound. Guards against that: once
/// the header list is past `max_head_bytes` (16 KiB) the connection is
/// ended (GOAWAY) without waiting for more (8 frames, 32 KB, then silence);
/// and a 40 MB flood is cut off after its first few frames.
#[test]
fn continuation_flood_with_growing_header_list_is_cut_off() {
    let server = start_serve_dir(attack_config());
    let block = request_block("GET", "http", "localhost", "/hello.txt", &[]);

    let mut over = attacker(server.addr, &[]);
    let mut frames = headers(1, flag::END_STREAM, &block);
    for n in 0..8 {
        frames.extend(fill_continuation(1, n));
    }
    over.send(&frames);
    expect_header_block_cut(&mut over, "header list of 32 KB, unfinished");

    let mut attacker = attacker(server.addr, &[]);
    attacker.send(&headers(1, flag::END_STREAM, &block));
    const BATCHES: usize = 1000;
    let mut n = 0;
    let (sent, end) = flood(&mut attacker, BATCHES, |_| {
        let mut out = Vec::new();
        for _ in 0..10 {
            out.extend(fill_continuation(1, n));
            n += 1;
        }
        out
    });
    assert!(
        sent < BATCHES,
        "all 40 MB of CONTINUATION written: the server kept reading ({end:?})"
    );
    expect_header_block_cut(&mut attacker, "CONTINUATION flood");
    others_served(server.addr, HELLO_TXT.as_bytes());
}

/// The CONTINUATION flood with empty fragments: the header list never
/// grows, so a size limit alone never fires; only a limit on the number of
/// frames does. Guards against a server that takes them forever: 1000
/// empty frames (no header block within berth's 16 KiB limit needs them)
/// end the connection without more; a flood of 4 million is cut off.
#[test]
fn continuation_flood_with_empty_fragments_is_cut_off() {
    let server = start_serve_dir(attack_config());
    let block = request_block("GET", "http", "localhost", "/hello.txt", &[]);

    let mut over = attacker(server.addr, &[]);
    let mut frames = headers(1, flag::END_STREAM, &block);
    frames.extend(continuation(1, 0, &[]).repeat(1000));
    over.send(&frames);
    expect_header_block_cut(&mut over, "1000 empty CONTINUATION frames, unfinished");

    let mut attacker = attacker(server.addr, &[]);
    attacker.send(&headers(1, flag::END_STREAM, &block));
    const BATCHES: usize = 400;
    let batch = continuation(1, 0, &[]).repeat(10_000);
    let (sent, end) = flood(&mut attacker, BATCHES, |_| batch.clone());
    assert!(
        sent < BATCHES,
        "all 4M empty CONTINUATION frames written: the server kept reading ({end:?})"
    );
    expect_header_block_cut(&mut attacker, "empty CONTINUATION flood");
    others_served(server.addr, HELLO_TXT.as_bytes());
}

// ---- control-frame floods ----

/// `/hello.txt` answered at once; any other request never answered (its
/// stream stays open until the client or the connection ends it).
async fn hello_or_hang(req: Request) -> Response {
    if req.uri().path() == "/hello.txt" {
        return berth::response::text(HELLO_TXT);
    }
    std::future::pending::<Response>().await
}

/// A control-frame flood: `frame` written over and over, the answers never
/// read. The server owes an answer to each (PING ACK, SETTINGS ACK); one
/// that queues them all grows without bound. It must stop reading instead
/// (the `h2` crate keeps one answer pending), then drop the connection
/// (no stream open for `http2.idle_timeout`, or, with `stream_open`, no
/// write progress for `timeouts.write`), and serve others meanwhile.
fn control_flood(frame: &[u8], stream_open: bool, what: &str) {
    let server = start_with(attack_config(), hello_or_hang);
    let mut attacker = attacker(server.addr, &[]);
    if stream_open {
        // Not idle: only the write timeout can end this connection.
        attacker.get("/hang");
    }
    // 1000 frames a batch, until the server stops reading.
    let batch = frame.repeat(1000);
    let (sent, end) = flood(&mut attacker, usize::MAX, |_| batch.clone());
    assert_ne!(
        end,
        Flood::Sent,
        "{what}: the server read {sent}k frames in {FLOOD_TIME:?} from a client that reads \
         none of its answers"
    );
    let stalled_at = Instant::now();
    // The flooding connection is stuck; others are served meanwhile.
    others_served(server.addr, HELLO_TXT.as_bytes());
    assert!(
        hung_up_within(&attacker.stream, WAIT),
        "{what}: the flooding connection ({sent}k frames, {end:?}) still open {:?} after it \
         stalled",
        stalled_at.elapsed()
    );
    others_served(server.addr, HELLO_TXT.as_bytes());
}

/// PING flood (CVE-2019-9512) on an idle connection: 17 bytes in, 17
/// bytes of PING ACK owed.
#[test]
fn ping_flood_on_an_idle_connection_is_bounded_and_dropped() {
    control_flood(&ping(*b"floodpin"), false, "PING flood");
}

/// PING flood with a stream open, so the idle timeout does not apply: the
/// write timeout must end it.
#[test]
fn ping_flood_with_a_stream_open_is_dropped_after_the_write_timeout() {
    control_flood(&ping(*b"floodpin"), true, "PING flood, stream open");
}

/// SETTINGS flood (CVE-2019-9515): each SETTINGS owes a SETTINGS ACK.
#[test]
fn settings_flood_is_bounded_and_dropped() {
    let frame = settings(&[
        (setting::MAX_CONCURRENT_STREAMS, 100),
        (setting::INITIAL_WINDOW_SIZE, 65_535),
    ]);
    control_flood(&frame, false, "SETTINGS flood");
}

/// SETTINGS flood with a stream open (each SETTINGS_INITIAL_WINDOW_SIZE
/// also touches every open stream's window).
#[test]
fn settings_flood_with_a_stream_open_is_dropped_after_the_write_timeout() {
    let frame = settings(&[
        (setting::MAX_CONCURRENT_STREAMS, 100),
        (setting::INITIAL_WINDOW_SIZE, 65_535),
    ]);
    control_flood(&frame, true, "SETTINGS flood, stream open");
}

// ---- DATA floods ----

/// Empty DATA frames (CVE-2019-9518) on an open POST stream to a handler
/// that reads its body: each costs the server a wake-up and yields
/// nothing. Guards against a server that takes them forever: GOAWAY
/// (ENHANCE_YOUR_CALM), the `h2` crate's empty-frame limit.
#[test]
fn empty_data_frame_flood_gets_enhance_your_calm() {
    let server = start_with(attack_config(), echo);
    let mut attacker = attacker(server.addr, &[]);
    let block = request_block("POST", "http", "localhost", "/upload", &[]);
    attacker.send(&headers(1, flag::END_HEADERS, &block));
    // 2M empty frames, 18 MB: more than the socket buffers hold.
    const BATCHES: usize = 2000;
    let batch = data(1, 0, &[]).repeat(1000);
    let (sent, end) = flood(&mut attacker, BATCHES, |_| batch.clone());
    assert!(
        sent < BATCHES,
        "all 2M empty DATA frames written: the server kept reading ({end:?})"
    );
    let goaway = expect_goaway(&mut attacker, "empty DATA flood");
    let code = goaway_error_code(&goaway);
    assert_eq!(
        code,
        Some(error::ENHANCE_YOUR_CALM),
        "empty DATA flood ({sent}k frames, {end:?}) answered {}",
        code_name(code)
    );
    assert!(attacker.closed_within(WAIT), "connection not closed");
    others_served(server.addr, b"");
}

/// One-byte DATA frames to a handler that never reads its body: flow
/// control allows a window's worth of bytes (1 MiB), but as a million
/// frames, each held by the server with its bookkeeping. Guards against
/// that overhead: the `h2` crate's DATA frame budget answers GOAWAY
/// (ENHANCE_YOUR_CALM) long before the window is used up.
#[test]
fn tiny_data_frames_to_a_handler_that_does_not_read_get_enhance_your_calm() {
    let server = start_with(attack_config(), hello_or_hang);
    let mut attacker = attacker(server.addr, &[]);
    let block = request_block("POST", "http", "localhost", "/never-read", &[]);
    attacker.send(&headers(1, flag::END_HEADERS, &block));
    // 1M frames (10 MB), 1,000,000 bytes of DATA: within the 1 MiB window.
    const BATCHES: usize = 1000;
    let batch = data(1, 0, b"x").repeat(1000);
    let (sent, end) = flood(&mut attacker, BATCHES, |_| batch.clone());
    assert!(
        sent < BATCHES,
        "all 1M one-byte DATA frames written: the server kept reading ({end:?})"
    );
    let goaway = expect_goaway(&mut attacker, "tiny DATA flood");
    let code = goaway_error_code(&goaway);
    assert_eq!(
        code,
        Some(error::ENHANCE_YOUR_CALM),
        "tiny DATA flood ({sent}k frames, {end:?}) answered {}",
        code_name(code)
    );
    assert!(attacker.closed_within(WAIT), "connection not closed");
    others_served(server.addr, HELLO_TXT.as_bytes());
}

/// The reset flood (CVE-2019-9514) and MadeYouReset (CVE-2025-8671): the
/// client makes the *server* reset stream after stream, thousands written
/// without reading: requests malformed after the stream is open (a
/// connection-specific field, RFC 9113 §8.2.2: a stream error), or a
/// WINDOW_UPDATE of 0 on each new stream (a stream error, §6.9, which the
/// server may make a connection error). Each costs the server a stream and
/// a RST_STREAM to queue, and none counts as the client's reset. Guards
/// against a server that takes them forever: GOAWAY (ENHANCE_YOUR_CALM, or
/// PROTOCOL_ERROR for the first error made a connection error) having
/// processed a small part of them.
#[test]
fn server_side_reset_floods_are_cut_off() {
    let server = start_with(attack_config(), hello_or_hang);
    let both = flag::END_STREAM | flag::END_HEADERS;
    let malformed = request_block(
        "GET",
        "http",
        "localhost",
        "/hang",
        &[("connection", "close")],
    );
    stream_flood(
        server.addr,
        "malformed-request flood",
        &[error::ENHANCE_YOUR_CALM],
        |id| headers(id, both, &malformed),
    );
    let block = request_block("GET", "http", "localhost", "/hang", &[]);
    stream_flood(
        server.addr,
        "WINDOW_UPDATE-of-0 flood",
        &[error::ENHANCE_YOUR_CALM, error::PROTOCOL_ERROR],
        |id| [headers(id, both, &block), window_update(id, 0)].concat(),
    );
    others_served(server.addr, HELLO_TXT.as_bytes());
}

/// A PRIORITY flood (CVE-2019-9513, "resource loop"): PRIORITY frames for
/// ever new streams, each depending on the one before. They owe no answer
/// and open no stream, so neither a pending answer nor the stream limit
/// stops them. Guards against a connection kept alive (and a priority tree
/// grown) by them: the connection has no stream open, so the idle timeout
/// ends it while the flood goes on.
#[test]
fn priority_flood_does_not_keep_a_connection_alive() {
    let server = start_serve_dir(attack_config());
    let mut attacker = attacker(server.addr, &[]);
    let mut next_id = 1u32;
    let (sent, end) = flood(&mut attacker, usize::MAX, |_| {
        let mut out = Vec::new();
        for _ in 0..1000 {
            let prio = h2wire::Priority {
                dependency: next_id.saturating_sub(2),
                exclusive: true,
                weight: 255,
            };
            out.extend(h2wire::priority(next_id, prio));
            next_id = (next_id + 2) % (1 << 31);
        }
        out
    });
    assert!(
        matches!(end, Flood::Ended(_)),
        "PRIORITY flood ({sent}k frames) still going on after {FLOOD_TIME:?}: {end:?}"
    );
    others_served(server.addr, HELLO_TXT.as_bytes());
}

// ---- slow clients ----

/// Slow POST (R.U.D.Y.) over HTTP/2: a request body that stops arriving.
/// HTTP/1.1 bounds each pause in a body by `timeouts.body_read` (the
/// handler's read fails, echo answers 408: tests/timeouts.rs
/// `stalled_body_read_by_handler_closes_the_connection`). On HTTP/2 the
/// stream is open, so the connection is neither idle nor stalled on
/// writes: without that timeout the handler waits forever, and a client
/// holds `max_concurrent_streams` handlers per connection for free. Guards
/// against that: within the body timeout and a margin, the stream is
/// answered (408), reset, or the connection ended.
#[test]
fn request_body_that_stops_arriving_is_timed_out() {
    let mut config = attack_config();
    config.timeouts.body_read = Duration::from_millis(500);
    let server = start_with(config, echo);
    let mut conn = Conn::handshake(server.addr);
    let id = conn.open_stream();
    let block = request_block("POST", "http", "localhost", "/upload", &[]);
    conn.send(&headers(id, flag::END_HEADERS, &block));
    conn.send(&data(id, 0, b"the start of a body that never ends"));
    let started = Instant::now();
    let limit = Duration::from_millis(500) + Duration::from_secs(2);
    let answer = conn.read_until(
        |f| {
            f.kind == Kind::Goaway
                || (f.stream_id == id && matches!(f.kind, Kind::Headers | Kind::RstStream))
        },
        limit,
    );
    match answer {
        Ok(Some(f)) if f.kind == Kind::Headers => {
            assert_eq!(conn.status(id), Some(408), "stalled body answered {f:?}")
        }
        // Reset, or the connection ended (as HTTP/1.1 closes it): either
        // frees the handler.
        Ok(Some(_)) => {}
        other => panic!(
            "stalled request body: nothing on its stream {:?} after the body stopped: {other:?}",
            started.elapsed()
        ),
    }
    others_served(server.addr, b"");
}

// ---- clients that do not read ----

/// A client that never opens its window (SETTINGS_INITIAL_WINDOW_SIZE=0,
/// no WINDOW_UPDATE) asks for /big.bin on 100 streams. Guards against a
/// server that reads the file ahead of flow control (100 MiB held for a
/// client that takes none of it) and against one that waits forever: each
/// stream must be reset (CANCEL) after `timeouts.write`, no DATA sent, and
/// the connection left usable, with another client served meanwhile.
#[test]
fn zero_window_client_costs_nothing_and_its_streams_are_cancelled() {
    in_own_process(
        "zero_window_client_costs_nothing_and_its_streams_are_cancelled",
        zero_window_client,
    );
}

fn zero_window_client() {
    let mut config = ServerConfig::default();
    config.timeouts.write = Duration::from_millis(500);
    let server = start_serve_dir(config);
    others_served(server.addr, HELLO_TXT.as_bytes());
    let before = rss_kib();
    let mut attacker = attacker(server.addr, &[(setting::INITIAL_WINDOW_SIZE, 0)]);
    const STREAMS: usize = 100;
    let ids: Vec<u32> = (0..STREAMS).map(|_| attacker.open_stream()).collect();
    let gets: Vec<u8> = ids
        .iter()
        .flat_map(|&id| h2wire::get(id, "/big.bin"))
        .collect();
    attacker.send(&gets);

    let deadline = Instant::now() + WAIT;
    let mut heads = 0;
    let mut data_bytes = 0;
    let mut resets = Vec::new();
    let mut measured = None;
    while resets.len() < STREAMS {
        let left = deadline.saturating_duration_since(Instant::now());
        let f = match attacker.read_frame(left) {
            Ok(Some(f)) => f,
            other => panic!(
                "{heads} heads, {} resets of {STREAMS}, then {other:?}",
                resets.len()
            ),
        };
        match f.kind {
            Kind::Headers => heads += 1,
            Kind::Data => data_bytes += f.payload.len(),
            Kind::RstStream => resets.push(rst_error_code(&f)),
            Kind::Goaway => panic!("GOAWAY before every stream was cancelled: {f:?}"),
            _ => {}
        }
        if heads == STREAMS && measured.is_none() {
            // Every stream has its response head out and waits for window:
            // what the server holds for them now is what it would hold.
            measured = Some(rss_kib());
            others_served(server.addr, HELLO_TXT.as_bytes());
        }
    }
    assert_eq!(heads, STREAMS, "response heads");
    assert_eq!(data_bytes, 0, "DATA sent beyond a zero window");
    assert!(
        resets.iter().all(|&c| c == Some(error::CANCEL)),
        "streams reset with {:?}",
        resets.iter().map(|&c| code_name(c)).collect::<Vec<_>>()
    );
    let grown = measured.expect("RSS measured").saturating_sub(before);
    assert!(
        grown < 32 * 1024,
        "RSS grew by {grown} KiB for {STREAMS} streams of a client that reads nothing"
    );
    // The connection is still usable: once the client opens its window, a
    // new stream is served.
    assert!(attacker.ping_ok(WAIT), "connection dead after the resets");
    attacker.send(&settings(&[(setting::INITIAL_WINDOW_SIZE, 65_535)]));
    let id = attacker.get("/hello.txt");
    let res = attacker
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("same connection, window opened: {e}"));
    assert_eq!(res.status, 200);
    assert_eq!(res.body, HELLO_TXT.as_bytes());
}

/// A client that grants the largest windows (2^31-1, stream and
/// connection), opens 500 GETs of /big.bin at once and never reads. Guards
/// against a server that buffers every response it may send (flow control
/// allows 500 MiB): beyond `max_concurrent_streams` (128) streams are
/// refused (checked in `streams_beyond_max_concurrent_streams_are_refused`),
/// and the response bytes held for the 128 are capped by
/// `http2.max_buffered_bytes` (1 MiB), so the process grows by far less
/// than 128 x 1 MiB; the connection is dropped after `timeouts.write`; and
/// another client is served meanwhile.
#[test]
fn client_that_opens_streams_and_never_reads_is_bounded_and_dropped() {
    in_own_process(
        "client_that_opens_streams_and_never_reads_is_bounded_and_dropped",
        opens_streams_never_reads,
    );
}

fn opens_streams_never_reads() {
    // A write timeout long enough that the server cannot drop the client
    // before the client's own writes stall (what the test waits for).
    let mut config = attack_config();
    config.timeouts.write = Duration::from_secs(2);
    let server = start_serve_dir(config);
    others_served(server.addr, HELLO_TXT.as_bytes());
    let before = rss_kib();
    let mut attacker = attacker(server.addr, &[(setting::INITIAL_WINDOW_SIZE, MAX_WINDOW)]);
    let mut out = window_update(0, MAX_WINDOW - h2wire::DEFAULT_WINDOW);
    for _ in 0..500 {
        let id = attacker.open_stream();
        out.extend(h2wire::get(id, "/big.bin"));
    }
    attacker.send(&out);
    // PINGs until the server stops reading: it is then as stuck as it
    // gets, with whatever it buffered for this client.
    let batch = ping(*b"stuck?!!").repeat(1000);
    let (sent, end) = flood(&mut attacker, 1000, |_| batch.clone());
    assert_eq!(
        end,
        Flood::Stalled,
        "the server kept reading PINGs ({sent}k) from a client that reads nothing"
    );
    let grown = rss_kib().saturating_sub(before);
    assert!(
        grown < 64 * 1024,
        "RSS grew by {grown} KiB for a client that reads nothing"
    );
    let stalled_at = Instant::now();
    others_served(server.addr, HELLO_TXT.as_bytes());
    assert!(
        hung_up_within(&attacker.stream, WAIT),
        "connection of a client that reads nothing still open {:?} after it stalled",
        stalled_at.elapsed()
    );
    others_served(server.addr, HELLO_TXT.as_bytes());
}

// ---- header lists, stream limits, invalid frames ----

/// One HEADERS frame (10 KB on the wire, under the 16 KiB frame size)
/// whose header list decodes to 27 KB, over `max_head_bytes` (16 KiB, the
/// SETTINGS_MAX_HEADER_LIST_SIZE berth advertises). Guards against a hang
/// or a connection lost for one stream's fault: the stream is answered
/// 431, and the connection goes on.
#[test]
fn header_list_over_the_limit_gets_431_and_the_connection_goes_on() {
    let server = start_serve_dir(attack_config());
    let mut conn = Conn::handshake(server.addr);
    let limit = conn
        .server_settings
        .iter()
        .find(|&&(id, _)| id == setting::MAX_HEADER_LIST_SIZE)
        .map(|&(_, v)| v);
    assert_eq!(limit, Some(16 * 1024), "advertised header list size");
    let fields: Vec<(String, String)> = (0..600)
        .map(|i| (format!("x-h{i:03}"), "vvvvvvvv".to_string()))
        .collect();
    let extra: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let block = request_block("GET", "http", "localhost", "/hello.txt", &extra);
    assert!(block.len() < h2wire::DEFAULT_MAX_FRAME);
    let id = conn.open_stream();
    conn.send(&headers(id, flag::END_STREAM | flag::END_HEADERS, &block));
    let res = conn
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("oversized header list: {e}"));
    assert_eq!(res.status, 431, "oversized header list: {res:?}");
    let id = conn.get("/hello.txt");
    let res = conn
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("same connection after the 431: {e}"));
    assert_eq!(res.status, 200);
    others_served(server.addr, HELLO_TXT.as_bytes());
}

/// More header fields than `max_headers` (100), in a small header list:
/// the limit HTTP/1.1 applies holds on HTTP/2 too. Answered 431; the
/// connection goes on.
#[test]
fn too_many_header_fields_get_431() {
    let server = start_serve_dir(attack_config());
    let mut conn = Conn::handshake(server.addr);
    let fields: Vec<String> = (0..150).map(|i| format!("x-h{i:03}")).collect();
    let extra: Vec<(&str, &str)> = fields.iter().map(|n| (n.as_str(), "v")).collect();
    let id = conn.request("GET", "/hello.txt", &extra, None);
    let res = conn
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("150 header fields: {e}"));
    assert_eq!(res.status, 431, "150 header fields: {res:?}");
    let id = conn.get("/hello.txt");
    let res = conn
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("same connection after the 431: {e}"));
    assert_eq!(res.status, 200);
}

/// An HPACK bomb: one 4 KB field put in the dynamic table, then referenced
/// 4000 times with one byte each: 8 KB on the wire, 16 MB of header list.
/// Guards against a server that decodes (and stores) all of it: it must
/// stop decoding and refuse the stream (431) or end the connection
/// (GOAWAY), with memory to spare.
#[test]
fn hpack_bomb_is_refused_without_decoding_it_all() {
    let server = start_serve_dir(attack_config());
    let mut conn = Conn::handshake(server.addr);
    let mut block = request_block("GET", "http", "localhost", "/hello.txt", &[]);
    // Literal with incremental indexing, new name (RFC 7541 §6.2.1): it
    // becomes dynamic table entry 62.
    block.push(0x40);
    h2wire::hpack_str(&mut block, b"x-bomb");
    h2wire::hpack_str(&mut block, &[b'b'; 4000]);
    block.extend(std::iter::repeat_n(0x80 | 62, 4000));
    assert!(block.len() < h2wire::DEFAULT_MAX_FRAME);
    let id = conn.open_stream();
    conn.send(&headers(id, flag::END_STREAM | flag::END_HEADERS, &block));
    let answer = conn.read_until(
        |f| {
            f.kind == Kind::Goaway
                || (f.stream_id == id && matches!(f.kind, Kind::Headers | Kind::RstStream))
        },
        WAIT,
    );
    let f = match answer {
        Ok(Some(f)) => f,
        other => panic!("HPACK bomb: no answer: {other:?}"),
    };
    match f.kind {
        Kind::Goaway => {
            let code = goaway_error_code(&f);
            assert_eq!(
                code,
                Some(error::ENHANCE_YOUR_CALM),
                "HPACK bomb answered GOAWAY {}",
                code_name(code)
            );
            assert!(conn.closed_within(WAIT), "connection not closed");
        }
        Kind::Headers => assert_eq!(conn.status(id), Some(431), "HPACK bomb answered {f:?}"),
        _ => panic!("HPACK bomb: stream reset instead of 431 or GOAWAY: {f:?}"),
    }
    others_served(server.addr, HELLO_TXT.as_bytes());
}

/// A client opening more streams than the SETTINGS_MAX_CONCURRENT_STREAMS
/// the server advertised: the streams beyond it are refused
/// (RST_STREAM REFUSED_STREAM, RFC 9113 §5.1.2), the others served, the
/// connection kept; once one ends, a new stream is served. Guards against
/// a server that takes any number of streams (each a handler and its
/// buffers) or that ends the whole connection for it.
#[test]
fn streams_beyond_max_concurrent_streams_are_refused() {
    let mut config = attack_config();
    config.http2.max_concurrent_streams = 4;
    let server = start_with(config, echo);
    let mut conn = Conn::handshake(server.addr);
    let advertised = conn
        .server_settings
        .iter()
        .find(|&&(id, _)| id == setting::MAX_CONCURRENT_STREAMS)
        .map(|&(_, v)| v);
    assert_eq!(advertised, Some(4), "advertised max concurrent streams");
    // Seven uploads begun, none finished: four open, three too many.
    let block = request_block("POST", "http", "localhost", "/upload", &[]);
    let ids: Vec<u32> = (0..7).map(|_| conn.open_stream()).collect();
    let opens: Vec<u8> = ids
        .iter()
        .flat_map(|&id| headers(id, flag::END_HEADERS, &block))
        .collect();
    conn.send(&opens);
    let mut refused = Vec::new();
    let deadline = Instant::now() + WAIT;
    while refused.len() < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.read_frame(left) {
            Ok(Some(f)) if f.kind == Kind::RstStream => {
                let code = rst_error_code(&f);
                assert_eq!(
                    code,
                    Some(error::REFUSED_STREAM),
                    "stream {} reset with {}",
                    f.stream_id,
                    code_name(code)
                );
                refused.push(f.stream_id);
            }
            Ok(Some(f)) if f.kind == Kind::Goaway => panic!("GOAWAY for extra streams: {f:?}"),
            Ok(Some(_)) => {}
            other => panic!("refused so far {refused:?}, then {other:?}"),
        }
    }
    assert_eq!(refused, ids[4..], "the streams refused");
    // The open ones are served.
    conn.send(&data(ids[0], flag::END_STREAM, b"first"));
    let res = conn
        .read_response(ids[0], WAIT)
        .unwrap_or_else(|e| panic!("an open stream: {e}"));
    assert_eq!((res.status, &res.body[..]), (200, &b"first"[..]));
    // A slot is free again: a new stream is served.
    let id = conn.request("POST", "/upload", &[], Some(b"again"));
    let res = conn
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("a new stream once one ended: {e}"));
    assert_eq!((res.status, &res.body[..]), (200, &b"again"[..]));
    others_served(server.addr, b"");
}

/// How an attacking connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    Goaway(u32),
    Closed,
    Open,
}

fn ending(conn: &mut Conn) -> Ending {
    match conn.read_until(|f| f.kind == Kind::Goaway, WAIT) {
        Ok(Some(f)) => Ending::Goaway(goaway_error_code(&f).unwrap_or(u32::MAX)),
        Ok(None) => Ending::Closed,
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Ending::Open,
        Err(_) => Ending::Closed,
    }
}

/// Connection errors (RFC 9113 §5.4.1), one connection each: each is ended
/// with GOAWAY and the code the RFC names, then closed (the `h2` crate
/// answers PROTOCOL_ERROR where the RFC names FRAME_SIZE_ERROR for a
/// SETTINGS or PING of the wrong length, FLOW_CONTROL_ERROR for
/// SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1 and COMPRESSION_ERROR for an
/// HPACK error: accepted, as any connection error ends it the same way); meanwhile another
/// connection, with an upload in progress, goes on undisturbed. Guards
/// against an error on one connection reaching shared state (a panic, a
/// stuck task, a poisoned lock).
#[test]
fn invalid_frames_end_their_connection_only() {
    use error::{COMPRESSION_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, PROTOCOL_ERROR};
    let server = start_with(attack_config(), echo);
    let mut good = Conn::handshake(server.addr);
    let upload = good.open_stream();
    let post = request_block("POST", "http", "localhost", "/upload", &[]);
    good.send(&headers(upload, flag::END_HEADERS, &post));
    good.send(&data(upload, 0, b"begun, "));

    let get = request_block("GET", "http", "localhost", "/hello.txt", &[]);
    let both = flag::END_STREAM | flag::END_HEADERS;
    let mut cases: Vec<(&str, Vec<u8>, &[u32])> = vec![
        ("DATA on stream 0", data(0, 0, b"x"), &[PROTOCOL_ERROR]),
        (
            "WINDOW_UPDATE of 0 on the connection",
            window_update(0, 0),
            &[PROTOCOL_ERROR],
        ),
        (
            "SETTINGS of 7 bytes",
            h2wire::frame(Kind::Settings, 0, 0, &[0; 7]),
            &[FRAME_SIZE_ERROR, PROTOCOL_ERROR],
        ),
        (
            "PING of 7 bytes",
            h2wire::frame(Kind::Ping, 0, 0, &[0; 7]),
            &[FRAME_SIZE_ERROR, PROTOCOL_ERROR],
        ),
        (
            "HEADERS on an even stream",
            headers(2, both, &get),
            &[PROTOCOL_ERROR],
        ),
        (
            "CONTINUATION without HEADERS",
            continuation(1, flag::END_HEADERS, &get),
            &[PROTOCOL_ERROR],
        ),
        (
            "HEADERS interrupted by a PING",
            [headers(1, flag::END_STREAM, &get), ping(*b"12345678")].concat(),
            &[PROTOCOL_ERROR],
        ),
        (
            "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1",
            settings(&[(setting::INITIAL_WINDOW_SIZE, 1 << 31)]),
            &[FLOW_CONTROL_ERROR, PROTOCOL_ERROR],
        ),
        (
            "SETTINGS_ENABLE_PUSH of 2",
            settings(&[(setting::ENABLE_PUSH, 2)]),
            &[PROTOCOL_ERROR],
        ),
        (
            "SETTINGS_MAX_FRAME_SIZE under 16384",
            settings(&[(setting::MAX_FRAME_SIZE, 100)]),
            &[PROTOCOL_ERROR],
        ),
        (
            "WINDOW_UPDATE past 2^31-1 on the connection",
            window_update(0, MAX_WINDOW),
            &[FLOW_CONTROL_ERROR],
        ),
        (
            "stream ids going down",
            [headers(3, both, &get), headers(1, both, &get)].concat(),
            &[PROTOCOL_ERROR],
        ),
        (
            "RST_STREAM on an idle stream",
            rst_stream(5, error::CANCEL),
            &[PROTOCOL_ERROR],
        ),
        (
            "DATA beyond SETTINGS_MAX_FRAME_SIZE",
            [
                headers(1, flag::END_HEADERS, &post),
                data(1, 0, &[0; h2wire::DEFAULT_MAX_FRAME + 1]),
            ]
            .concat(),
            &[FRAME_SIZE_ERROR],
        ),
        (
            // RFC 7541 §6.1: index 0 is not used.
            "HPACK index 0",
            headers(1, both, &[0x80]),
            &[COMPRESSION_ERROR, PROTOCOL_ERROR],
        ),
    ];
    let mut wrong = Vec::new();
    for (what, bytes, codes) in cases.drain(..) {
        let mut attacker = Conn::handshake(server.addr);
        let _ = attacker.try_send(&bytes);
        let end = ending(&mut attacker);
        match end {
            Ending::Goaway(code) if codes.contains(&code) => {
                assert!(
                    attacker.closed_within(WAIT),
                    "{what}: not closed after GOAWAY"
                );
            }
            other => wrong.push(format!(
                "{what}: {other:?} ({}), expected GOAWAY {}",
                match other {
                    Ending::Goaway(c) => error::name(c),
                    _ => "-",
                },
                codes
                    .iter()
                    .map(|&c| error::name(c))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
        }
        assert!(
            good.ping_ok(WAIT),
            "the other connection stopped after: {what}"
        );
    }
    // The upload in progress all along completes.
    good.send(&data(upload, flag::END_STREAM, b"ended"));
    let res = good
        .read_response(upload, WAIT)
        .unwrap_or_else(|e| panic!("the upload in progress: {e}"));
    assert_eq!((res.status, &res.body[..]), (200, &b"begun, ended"[..]));
    others_served(server.addr, b"");
    assert!(
        wrong.is_empty(),
        "connection errors answered wrongly:\n{}",
        wrong.join("\n")
    );
}

/// What must not end a connection (RFC 9113 §4.1, §5.5): an unknown frame
/// type, an unknown SETTINGS parameter, PRIORITY frames, a stream's
/// WINDOW_UPDATE on a closed stream. Guards the other way: a defence that
/// ends connections for frames a peer may send.
#[test]
fn frames_to_ignore_do_not_end_the_connection() {
    let server = start_serve_dir(attack_config());
    let mut conn = Conn::handshake(server.addr);
    let id = conn.get("/hello.txt");
    let res = conn.read_response(id, WAIT).expect("first request");
    assert_eq!(res.status, 200);
    let prio = h2wire::Priority {
        dependency: 0,
        exclusive: false,
        weight: 15,
    };
    let ignorable = [
        h2wire::unknown(0xfa, 0xff, 0, b"extension"),
        h2wire::unknown(0xfb, 0, 1, b"on a stream"),
        settings(&[(0x99, 12345)]),
        h2wire::priority(101, prio),
        window_update(id, 1000),
    ]
    .concat();
    conn.send(&ignorable);
    assert!(conn.ping_ok(WAIT), "connection ended by ignorable frames");
    let id = conn.get("/hello.txt");
    let res = conn
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("after ignorable frames: {e}"));
    assert_eq!(res.status, 200);
}

/// A client that stops reading but goes on sending a request now and then
/// (a HEAD every second, each answered at once into the server's buffers).
/// Its connection's writes have made no progress for longer than
/// `timeouts.write` (1 s here), so it must be dropped, whatever else comes
/// in; `http2.idle_timeout` (10 s, the default) has nothing to do with it.
/// Guards against a stall check that a stream ending postpones: such a
/// client would then hold its connection, and the socket buffers full of
/// data for it, for ever.
#[test]
fn client_that_stops_reading_is_dropped_though_it_keeps_sending_requests() {
    let mut config = ServerConfig::default();
    config.timeouts.write = Duration::from_secs(1);
    let server = start_serve_dir(config);
    let mut attacker = attacker(server.addr, &[(setting::INITIAL_WINDOW_SIZE, MAX_WINDOW)]);
    let mut out = window_update(0, MAX_WINDOW - h2wire::DEFAULT_WINDOW);
    // More than the socket buffers hold: the server's writes block.
    for _ in 0..8 {
        let id = attacker.open_stream();
        out.extend(h2wire::get(id, "/big.bin"));
    }
    attacker.send(&out);
    let head = request_block("HEAD", "http", "localhost", "/hello.txt", &[]);
    let started = Instant::now();
    let mut heads = 0;
    let dropped = loop {
        // Each wait for the hang-up paces the requests.
        if hung_up_within(&attacker.stream, Duration::from_secs(1)) {
            break true;
        }
        if started.elapsed() > Duration::from_secs(8) {
            break false;
        }
        let id = attacker.open_stream();
        if attacker
            .try_send(&headers(id, flag::END_STREAM | flag::END_HEADERS, &head))
            .is_err()
        {
            break true;
        }
        heads += 1;
    };
    assert!(
        dropped,
        "a client that has read nothing for {:?} ({heads} HEAD requests sent meanwhile) \
         still connected",
        started.elapsed()
    );
    others_served(server.addr, HELLO_TXT.as_bytes());
}

// ---- defences that must not hit healthy clients ----

/// The other side of the write-stall defences: a client that reads
/// everything at once, downloading /big.bin on 100 streams of one
/// connection (windows of 2^31-1, so flow control never waits). The
/// connection's writes never stop making progress, so `timeouts.write`
/// (300 ms here) must cut nothing, however the streams share the
/// connection's buffer budget (`http2.max_buffered_bytes`). Guards against
/// defences that cancel streams of a healthy connection.
#[test]
fn parallel_downloads_on_one_connection_all_complete() {
    let mut config = ServerConfig::default();
    config.timeouts.write = Duration::from_millis(300);
    let server = start_serve_dir(config);
    let mut conn = Conn::handshake_with(server.addr, &[(setting::INITIAL_WINDOW_SIZE, MAX_WINDOW)]);
    let mut out = window_update(0, MAX_WINDOW - h2wire::DEFAULT_WINDOW);
    const STREAMS: usize = 100;
    for _ in 0..STREAMS {
        let id = conn.open_stream();
        out.extend(h2wire::get(id, "/big.bin"));
    }
    conn.send(&out);
    let mut received = std::collections::HashMap::<u32, usize>::new();
    let mut first = Vec::new();
    let mut complete = 0;
    let mut resets = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while complete + resets.len() < STREAMS {
        let left = deadline.saturating_duration_since(Instant::now());
        let f = match conn.read_frame(left) {
            Ok(Some(f)) => f,
            other => panic!("{complete} complete, {resets:?} reset, then {other:?}"),
        };
        match f.kind {
            Kind::Data => {
                *received.entry(f.stream_id).or_default() += f.payload.len();
                if f.stream_id == 1 {
                    first.extend_from_slice(&f.payload);
                }
                if f.end_stream() {
                    complete += 1;
                }
            }
            Kind::RstStream => resets.push((f.stream_id, code_name(rst_error_code(&f)))),
            Kind::Goaway => panic!("GOAWAY during the downloads: {f:?}"),
            _ => {}
        }
    }
    assert!(
        resets.is_empty(),
        "{} of {STREAMS} downloads reset: {resets:?}",
        resets.len()
    );
    assert!(
        received.values().all(|&n| n == support::BIG_LEN),
        "body lengths: {received:?}"
    );
    assert!(first == support::big_content(), "stream 1's body differs");
}
