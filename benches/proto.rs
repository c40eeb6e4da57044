//! Criterion micro-benchmarks for berth's sans-I/O protocol core
//! (`berth::proto`), each reported in bytes per second.
//!
//! Groups:
//! - `head_parse`: [`HeadParser::parse`] on a complete request head (a short
//!   curl-like GET, a ~500-byte browser GET with 12 fields, a head with 40
//!   fields). Throughput counts the head's bytes. Timed: appending the head
//!   to a reused receive buffer, parsing it into a `RequestHead` (method,
//!   `Uri`, `HeaderMap`) and dropping that, as the server does per request.
//! - `response_head`: serializing a typical `200` head (Date, Server,
//!   Content-Type, Content-Length, ETag, Last-Modified, Cache-Control,
//!   Accept-Ranges, Vary) through [`Connection::send_head`], the public way
//!   in: `write_head` itself is `pub(crate)`. Throughput counts the bytes
//!   written.
//! - `connection_cycle`: one keep-alive GET through a [`Connection`]: feed
//!   the request, `next_event` until `Paused`, `send_head` + `send_data` +
//!   `send_end`, `start_next_cycle`. Parser and serializer together, as the
//!   driver uses them. Throughput counts request plus response bytes.
//! - `chunked_decode`: [`ChunkedDecoder`] on a 64 KiB body in 4 KiB chunks
//!   and in 16-byte chunks. Throughput counts the encoded (wire) bytes.
//!   Chunk data is split off zero-copy, so the 4 KiB case measures the
//!   per-chunk framing cost and the 16-byte case the size-line state machine.
//! - `chunked_encode`: a streamed 64 KiB response body (unknown length, so
//!   chunked) sent as 16 pieces of 4 KiB and as 1024 pieces of 64 bytes
//!   through [`Connection::send_data`] / `send_end`, plus
//!   [`write_chunk_header`] alone. Throughput counts the payload bytes.
//!
//! Run: `cargo bench --bench proto` (add `-- --quick` for a fast pass).

use std::hint::black_box;

use berth::proto::{
    BodyLength, ChunkedDecoder, Connection, Decoded, Event, HeadParser, Limits, ParseStatus,
    ResponseHead, ResponseProgress, write_chunk_header,
};
use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::StatusCode;
use http::header::{self, HeaderMap, HeaderValue};

/// An IMF-fixdate as the driver caches it.
const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

/// What `curl http://localhost:8080/` sends (78 bytes).
const CURL_HEAD: &[u8] =
    b"GET / HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";

/// A browser navigation: 12 header fields, about 500 bytes.
fn browser_head() -> Vec<u8> {
    let head = concat!(
        "GET /articles/2024/http-servers.html?ref=home HTTP/1.1\r\n",
        "Host: www.example.com\r\n",
        "Connection: keep-alive\r\n",
        "Upgrade-Insecure-Requests: 1\r\n",
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 ",
        "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n",
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,",
        "image/avif,image/webp,*/*;q=0.8\r\n",
        "Sec-Fetch-Site: same-origin\r\n",
        "Sec-Fetch-Mode: navigate\r\n",
        "Sec-Fetch-Dest: document\r\n",
        "Referer: https://www.example.com/\r\n",
        "Accept-Encoding: gzip, deflate, br, zstd\r\n",
        "Accept-Language: en-US,en;q=0.9\r\n",
        "If-None-Match: \"5f2a-6d1c0b3e\"\r\n",
        "\r\n",
    );
    head.as_bytes().to_vec()
}

/// A head with 40 header fields (an API client behind a few proxies).
fn many_headers_head() -> Vec<u8> {
    let mut head = b"GET /api/v1/items?page=2 HTTP/1.1\r\nHost: api.example.com\r\n".to_vec();
    for i in 1..40 {
        head.extend_from_slice(
            format!("X-Custom-Header-{i:02}: value-{i:02}-abcdefgh\r\n").as_bytes(),
        );
    }
    head.extend_from_slice(b"\r\n");
    head
}

fn head_parse(c: &mut Criterion) {
    let cases: [(&str, Vec<u8>); 3] = [
        ("curl", CURL_HEAD.to_vec()),
        ("browser_12_fields", browser_head()),
        ("40_fields", many_headers_head()),
    ];
    let mut group = c.benchmark_group("head_parse");
    for (name, head) in &cases {
        // Sanity check outside the timed loop: the head parses completely.
        let mut buf = BytesMut::from(&head[..]);
        match HeadParser::new(Limits::default()).parse(&mut buf) {
            Ok(ParseStatus::Complete(h)) => assert!(!h.headers.is_empty()),
            other => panic!("{name}: {other:?}"),
        }
        group.throughput(Throughput::Bytes(head.len() as u64));
        group.bench_with_input(BenchmarkId::new("parse", name), head, |b, head| {
            // As the driver does: bytes land in a long-lived receive buffer,
            // the head is split off it, used, and dropped (so the buffer's
            // memory is reclaimed by the next append).
            let mut parser = HeadParser::new(Limits::default());
            let mut buf = BytesMut::with_capacity(4096);
            b.iter(|| {
                buf.extend_from_slice(head);
                match parser.parse(&mut buf) {
                    Ok(ParseStatus::Complete(h)) => black_box(h),
                    _ => unreachable!(),
                }
            });
        });
    }
    group.finish();
}

/// The header fields of a typical static-file `200`, as a handler sets them.
fn response_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    let pairs: [(header::HeaderName, &'static str); 7] = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::ETAG, "\"5f2a-6d1c0b3e\""),
        (header::LAST_MODIFIED, "Tue, 14 May 2024 10:21:09 GMT"),
        (header::CACHE_CONTROL, "public, max-age=3600"),
        (header::ACCEPT_RANGES, "bytes"),
        (header::VARY, "Accept-Encoding"),
        (header::CONTENT_LENGTH, "4096"),
    ];
    for (name, value) in pairs {
        h.insert(name, HeaderValue::from_static(value));
    }
    h
}

fn response_head(c: &mut Criterion) {
    let headers = response_headers();
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Known(4096),
    };
    let mut out = Vec::with_capacity(1024);
    Connection::new(Limits::default()).send_head(&head, DATE, &mut out);
    let len = out.len() as u64;

    let mut group = c.benchmark_group("response_head");
    group.throughput(Throughput::Bytes(len));
    group.bench_function("send_head_200_9_fields", |b| {
        b.iter(|| {
            out.clear();
            // A fresh connection (no allocation: its buffer starts empty)
            // serializes for an HTTP/1.1 GET by default.
            let mut conn = Connection::new(Limits::default());
            conn.send_head(black_box(&head), DATE, &mut out);
            black_box(out.len())
        });
    });
    group.finish();
}

/// One request/response cycle on a keep-alive connection; the response
/// goes to `out`.
fn cycle(
    conn: &mut Connection,
    request: &[u8],
    head: &ResponseHead<'_>,
    body: &[u8],
    out: &mut Vec<u8>,
) {
    conn.receive(request);
    loop {
        match conn.next_event() {
            Ok(Event::Head(h)) => {
                black_box(&h);
            }
            Ok(Event::Paused) => break,
            Ok(Event::End(_) | Event::Data(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    conn.send_head(head, DATE, out);
    conn.send_data(body, out).expect("length matches");
    conn.send_end(out).expect("length matches");
    assert!(conn.start_next_cycle().is_ok());
}

fn connection_cycle(c: &mut Criterion) {
    const BODY: &[u8] = b"Hello, World!";
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Known(BODY.len() as u64),
    };
    let mut group = c.benchmark_group("connection_cycle");
    for (name, request) in [
        ("curl_get_plaintext", CURL_HEAD.to_vec()),
        ("browser_get", browser_head()),
    ] {
        let mut conn = Connection::new(Limits::default());
        let mut out = Vec::with_capacity(4096);
        cycle(&mut conn, &request, &head, BODY, &mut out);
        group.throughput(Throughput::Bytes((request.len() + out.len()) as u64));
        group.bench_with_input(BenchmarkId::new("get", name), &request, |b, request| {
            b.iter(|| {
                out.clear();
                cycle(&mut conn, black_box(request), &head, BODY, &mut out);
                black_box(out.len())
            });
        });
    }
    group.finish();
}

/// `payload` bytes as a chunked body in chunks of `chunk` bytes.
fn chunked_body(payload: usize, chunk: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..payload).map(|i| b'a' + (i % 26) as u8).collect();
    let mut out = Vec::with_capacity(payload * 2);
    for piece in data.chunks(chunk) {
        write_chunk_header(piece.len(), &mut out);
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Decodes a whole chunked body; returns the payload length.
fn decode_all(buf: &mut BytesMut) -> usize {
    let mut decoder = ChunkedDecoder::new(&Limits::default());
    let mut total = 0;
    loop {
        match decoder.decode(buf) {
            Ok(Decoded::Data(d)) => total += d.len(),
            Ok(Decoded::End(_)) => return total,
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn chunked_decode(c: &mut Criterion) {
    const PAYLOAD: usize = 64 * 1024;
    let mut group = c.benchmark_group("chunked_decode");
    for (name, chunk) in [("64KiB_in_4KiB_chunks", 4096), ("64KiB_in_16B_chunks", 16)] {
        let wire = Bytes::from(chunked_body(PAYLOAD, chunk));
        assert_eq!(decode_all(&mut BytesMut::from(&wire[..])), PAYLOAD);
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_with_input(BenchmarkId::new("decode", name), &wire, |b, wire| {
            b.iter_batched_ref(
                || BytesMut::from(&wire[..]),
                |buf| black_box(decode_all(buf)),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

fn chunked_encode(c: &mut Criterion) {
    const PAYLOAD: usize = 64 * 1024;
    let data = vec![b'x'; PAYLOAD];
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Unknown,
    };
    let mut out = Vec::with_capacity(PAYLOAD * 2);
    let mut group = c.benchmark_group("chunked_encode");
    group.throughput(Throughput::Bytes(PAYLOAD as u64));
    for (name, piece) in [("64KiB_as_4KiB_pieces", 4096), ("64KiB_as_64B_pieces", 64)] {
        group.bench_with_input(BenchmarkId::new("send_data", name), &piece, |b, &piece| {
            b.iter(|| {
                out.clear();
                let mut conn = Connection::new(Limits::default());
                conn.send_head(&head, DATE, &mut out);
                debug_assert_eq!(conn.state().response, ResponseProgress::Body(None));
                for p in data.chunks(piece) {
                    conn.send_data(black_box(p), &mut out).expect("chunked");
                }
                conn.send_end(&mut out).expect("chunked");
                black_box(out.len())
            });
        });
    }
    // The chunk-size lines alone for 1024 pieces of 64 bytes (throughput:
    // the 64 KiB they frame).
    group.bench_function("write_chunk_header_x1024", |b| {
        b.iter(|| {
            out.clear();
            for _ in 0..PAYLOAD / 64 {
                write_chunk_header(black_box(64), &mut out);
            }
            black_box(out.len())
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    head_parse,
    response_head,
    connection_cycle,
    chunked_decode,
    chunked_encode
);
criterion_main!(benches);
