//! Control-frame floods: PING and SETTINGS, each with and without a
//! stream open, and PRIORITY.

use super::*;

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
