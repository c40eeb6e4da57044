//! Clients that do not read: one that never opens its window, one that
//! opens streams and never reads, one that stops reading but keeps sending
//! requests; and the other way, parallel downloads of a client that reads
//! everything, which the write-stall defences must not hit.

use super::*;

/// A client that never opens its window (SETTINGS_INITIAL_WINDOW_SIZE=0,
/// no WINDOW_UPDATE) asks for /big.bin on 100 streams. Guards against a
/// server that reads the file ahead of flow control (100 MiB held for a
/// client that takes none of it) and against one that waits forever: each
/// stream must be reset (CANCEL) after `timeouts.write`, no DATA sent, and
/// the connection left usable, with another client served meanwhile.
#[test]
fn zero_window_client_costs_nothing_and_its_streams_are_cancelled() {
    in_own_process(
        "readers::zero_window_client_costs_nothing_and_its_streams_are_cancelled",
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
        "readers::client_that_opens_streams_and_never_reads_is_bounded_and_dropped",
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
