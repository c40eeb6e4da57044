//! DATA floods (empty frames, one-byte frames to a handler that does not
//! read) and a slow client: a request body that stops arriving.

use super::*;

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
