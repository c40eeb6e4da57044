//! Header blocks: the CONTINUATION flood (growing and empty fragments),
//! header lists over the limit, too many header fields, and an HPACK bomb.

use super::*;

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

// ---- header lists ----

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
