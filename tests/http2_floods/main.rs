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
//!
//! One test binary, a module per attack family: `resets`, `headers`,
//! `control`, `data`, `readers`, `frames`; this file holds what they share
//! (the flood driver, the attacker's connection, the checks that others are
//! served, the own-process runner).

#[path = "../support/h2wire.rs"]
mod h2wire;
#[path = "../support/mod.rs"]
mod support;

mod control;
mod data;
mod frames;
mod headers;
mod readers;
mod resets;

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
/// test `name`, its full path in this binary (`module::test`, matched
/// `--exact`). A test that measures the process's memory sees no other
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

/// `/hello.txt` answered at once; any other request never answered (its
/// stream stays open until the client or the connection ends it).
async fn hello_or_hang(req: Request) -> Response {
    if req.uri().path() == "/hello.txt" {
        return berth::response::text(HELLO_TXT);
    }
    std::future::pending::<Response>().await
}
