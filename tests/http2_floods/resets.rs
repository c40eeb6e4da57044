//! Reset floods: rapid reset (CVE-2023-44487), against the `h2` crate's
//! limit and against berth's own; and the server-side reset floods
//! (CVE-2019-9514, MadeYouReset), where the client makes the server reset.

use super::*;

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
