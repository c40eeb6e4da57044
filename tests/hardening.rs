//! Bounded resources and faults: the connection cap applies back-pressure,
//! a reader that never reads is cut by the write timeout, and a client that
//! vanishes mid-response costs only its own connection.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use berth::{Body, Request, Response, ServerConfig, Timeouts};
use bytes::Bytes;
use support::{get, start_serve_dir, start_with};

/// `/endless`: 64 KiB chunks for as long as the client reads; else "ok".
async fn endless(req: Request) -> Response {
    if req.uri().path() != "/endless" {
        return berth::response::text("ok");
    }
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let stream = futures_stream(move || Some(Ok(chunk.clone())));
    Response::new(Body::stream(stream))
}

/// A stream from a closure (no extra crates).
fn futures_stream<F>(
    next: F,
) -> impl futures_core::Stream<Item = Result<Bytes, berth::body::BoxError>>
where
    F: FnMut() -> Option<Result<Bytes, berth::body::BoxError>> + Send + Unpin,
{
    struct S<F>(F);
    impl<F> futures_core::Stream for S<F>
    where
        F: FnMut() -> Option<Result<Bytes, berth::body::BoxError>> + Unpin,
    {
        type Item = Result<Bytes, berth::body::BoxError>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready((self.0)())
        }
    }
    S(next)
}

#[test]
fn connection_cap_holds_new_clients_in_the_backlog_until_one_leaves() {
    let config = ServerConfig {
        max_connections: 2,
        ..ServerConfig::default()
    };
    let server = start_serve_dir(config);
    let mut first = server.connect();
    let mut second = server.connect();
    // Both are being served (the accept loop took them).
    assert_eq!(first.request(get("/hello.txt")).status, 200);
    assert_eq!(second.request(get("/hello.txt")).status, 200);
    // A third connects (the kernel's backlog accepts it) but is not served.
    let mut third = TcpStream::connect(server.addr).expect("connect");
    third
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    third.write_all(&get("/hello.txt")).expect("write");
    let mut buf = [0u8; 64];
    let waited = third.read(&mut buf);
    assert!(waited.is_err(), "served beyond the cap: {waited:?}");
    // One leaves: the third is served.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = third.read(&mut buf).expect("answer after a slot freed");
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200 OK"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert_eq!(second.request(get("/hello.txt")).status, 200);
}

#[test]
fn a_client_that_never_reads_is_cut_by_the_write_timeout() {
    let config = ServerConfig {
        timeouts: Timeouts {
            write: Duration::from_millis(300),
            ..Timeouts::default()
        },
        ..ServerConfig::default()
    };
    let server = start_with(config, endless);
    let mut stalled = TcpStream::connect(server.addr).expect("connect");
    stalled.write_all(&get("/endless")).expect("write");
    // Read nothing for a while: the server's writes fill the socket buffers
    // and then stall past the write timeout.
    std::thread::sleep(Duration::from_millis(1500));
    stalled
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let started = Instant::now();
    let mut sink = vec![0u8; 1 << 20];
    let closed = loop {
        match stalled.read(&mut sink) {
            Ok(0) | Err(_) => break true,
            Ok(_) if started.elapsed() > Duration::from_secs(5) => break false,
            Ok(_) => {}
        }
    };
    assert!(
        closed,
        "the endless response kept flowing: no write timeout"
    );
    // Everyone else is fine.
    assert_eq!(server.connect().request(get("/")).body_str(), "ok");
}

#[test]
fn a_client_that_leaves_mid_response_costs_only_its_connection() {
    let server = start_serve_dir(ServerConfig::default());
    for _ in 0..20 {
        let mut quitter = TcpStream::connect(server.addr).expect("connect");
        quitter.write_all(&get("/big.bin")).expect("write");
        let mut some = [0u8; 1000];
        let _ = quitter.read(&mut some);
        drop(quitter); // mid-body, with unread data: the server sees a reset
    }
    let mut client = server.connect();
    let r = client.request(get("/big.bin"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, support::big_content());
}
