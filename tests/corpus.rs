//! The protocol corpus runner: every case in `tests/corpus/*.md`, through
//! `proto::Connection` at every split, and a few over TCP against a live
//! server.
//!
//! The corpus is data, in llhttp's markdown style (DESIGN.md §6.2). A case
//! is a `## heading`, one or more lines of prose saying why (with the RFC
//! section), and fenced blocks identified by their info string:
//!
//! - `http`: the bytes the client sends. Each line ends with CRLF, except
//!   a line whose last character is `\`: that `\` is dropped and no line end
//!   is added. Escapes: `\r` CR, `\n` LF, `\t` HTAB, `\xNN` any byte, `\\`
//!   backslash, `\"` quote (to end a line with a literal backslash, write
//!   `\x5c`). Trailing spaces and tabs on a line are ignored, because editors
//!   strip them; write `\x20` or `\t` where they matter. `{repeat N text}`
//!   expands to `text` N times before escapes are decoded (`text` cannot
//!   contain `}`).
//! - `events`: what `proto::Connection` yields, one per line:
//!   `head METHOD TARGET VERSION` (target as `http::Uri` displays it),
//!   `header name: value` (each field of the head, name lowercased, value as
//!   stored after OWS trimming, in `HeaderMap` order: by first appearance
//!   of a name, all values of one name together), `continue` (the runner
//!   sent `100 Continue` because `state().expects_continue` was true after
//!   the head), `data "bytes"` (adjacent data events are merged), `trailer
//!   name: value`, `end`, `paused`, `closed-by-server REASON` (`REASON`
//!   from `CloseReason::slug()`), `eof`, `closed`,
//!   `need-data`, or `error STATUS SLUG` (`STATUS` from
//!   `ProtocolError::status()` or `none`; `SLUG` from `ErrorKind::slug()`).
//!   Values and data use the escapes above.
//! - `response` (optional): the status line of the live server's first
//!   response, then header lines that must appear (`name: value` exactly,
//!   or `name` with any value) or must not (`!name`).
//!
//! The runner plays a minimal driver. It feeds input only when the
//! connection returns `NeedData`. On `Paused` it sends `200` with an empty
//! body (`send_head` + `send_end`) and calls `start_next_cycle()`; when
//! that returns a `Close` it records `closed-by-server` with its reason and
//! stops, as a driver would close. When all input is fed and more is needed, it records `eof`
//! and calls `receive_eof()` if the events block contains `eof`, else
//! records `need-data` and stops. `need-data` therefore appears only last.
//! After an error it checks that the error is sticky, that a response to
//! it says `Connection: close` and that the connection then closes for
//! that error, then stops.
//!
//! Every case runs with the input fed whole, one byte at a time, and split
//! in two at every offset; all must give the events block.

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use berth::proto::{BodyLength, CloseReason, Connection, Event, Limits, ResponseHead};
use http::{HeaderMap, StatusCode};

const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

/// One case of the corpus.
#[derive(Debug)]
struct Case {
    file: String,
    heading: String,
    prose: String,
    http: Vec<u8>,
    events: Vec<Ev>,
    eof: bool,
    response: Option<Vec<String>>,
}

impl Case {
    fn name(&self) -> String {
        format!("{} / {}", self.file, self.heading)
    }
}

/// One event, as written in an `events` block.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Head(String),
    Header(String, Vec<u8>),
    Continue,
    Data(Vec<u8>),
    Trailer(String, Vec<u8>),
    End,
    Paused,
    /// With the reason's slug.
    ClosedByServer(String),
    Eof,
    Closed,
    NeedData,
    Error(String, String),
}

impl fmt::Display for Ev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ev::Head(line) => write!(f, "head {line}"),
            Ev::Header(n, v) => write!(f, "header {n}: {}", escape(v)),
            Ev::Continue => f.write_str("continue"),
            Ev::Data(d) => write!(f, "data \"{}\"", escape(d)),
            Ev::Trailer(n, v) => write!(f, "trailer {n}: {}", escape(v)),
            Ev::End => f.write_str("end"),
            Ev::Paused => f.write_str("paused"),
            Ev::ClosedByServer(reason) => write!(f, "closed-by-server {reason}"),
            Ev::Eof => f.write_str("eof"),
            Ev::Closed => f.write_str("closed"),
            Ev::NeedData => f.write_str("need-data"),
            Ev::Error(status, slug) => write!(f, "error {status} {slug}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Reading the corpus

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn load_corpus() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("corpus file is UTF-8");
        match parse_file(&name, &text) {
            Ok(mut found) => cases.append(&mut found),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    cases
}

#[derive(Default)]
struct RawCase {
    heading: String,
    line: usize,
    prose: Vec<String>,
    blocks: Vec<(String, Vec<String>)>,
}

fn parse_file(file: &str, text: &str) -> Result<Vec<Case>, String> {
    let mut raw: Vec<RawCase> = Vec::new();
    let mut block: Option<(String, Vec<String>)> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some((kind, lines)) = &mut block {
            if line.trim_end() == "```" {
                let (kind, lines) = (std::mem::take(kind), std::mem::take(lines));
                let case = raw
                    .last_mut()
                    .ok_or(format!("line {}: block outside a case", i + 1))?;
                case.blocks.push((kind, lines));
                block = None;
            } else {
                lines.push(line.to_owned());
            }
        } else if let Some(heading) = line.strip_prefix("## ") {
            raw.push(RawCase {
                heading: heading.trim().to_owned(),
                line: i + 1,
                ..RawCase::default()
            });
        } else if let Some(kind) = line.strip_prefix("```") {
            block = Some((kind.trim().to_owned(), Vec::new()));
        } else if let Some(case) = raw.last_mut()
            && !line.trim().is_empty()
        {
            case.prose.push(line.trim().to_owned());
        }
    }
    if block.is_some() {
        return Err("unterminated fenced block".into());
    }
    raw.into_iter()
        .map(|r| {
            let at = format!("line {} ({})", r.line, r.heading);
            build_case(file, r).map_err(|e| format!("{at}: {e}"))
        })
        .collect()
}

fn build_case(file: &str, raw: RawCase) -> Result<Case, String> {
    let mut http = None;
    let mut events = None;
    let mut response = None;
    for (kind, lines) in raw.blocks {
        let slot = match kind.as_str() {
            "http" => &mut http,
            "events" => &mut events,
            "response" => &mut response,
            other => return Err(format!("unknown block kind {other:?}")),
        };
        if slot.replace(lines).is_some() {
            return Err(format!("two {kind} blocks"));
        }
    }
    let http = decode_http(&http.ok_or("no http block")?)?;
    let events = events
        .ok_or("no events block")?
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| parse_event(l.trim()).map_err(|e| format!("{l:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let response = response.map(|lines| {
        lines
            .into_iter()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    });
    Ok(Case {
        file: file.to_owned(),
        heading: raw.heading,
        prose: raw.prose.join(" "),
        eof: events.contains(&Ev::Eof),
        events: merge_data(events),
        http,
        response,
    })
}

fn decode_http(lines: &[String]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for line in lines {
        let line = line.trim_end_matches([' ', '\t']);
        let (text, line_end) = match line.strip_suffix('\\') {
            Some(text) => (text, false),
            None => (line, true),
        };
        out.extend(unescape(&expand_repeats(text)?)?);
        if line_end {
            out.extend_from_slice(b"\r\n");
        }
    }
    Ok(out)
}

/// Expands every `{repeat N text}`.
fn expand_repeats(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{repeat ") {
        out.push_str(&rest[..start]);
        let macro_text = &rest[start + "{repeat ".len()..];
        let end = macro_text.find('}').ok_or("unclosed {repeat")?;
        let (count, text) = macro_text[..end]
            .split_once(' ')
            .ok_or("{repeat N text} needs a count and a text")?;
        let count: usize = count.parse().map_err(|_| format!("bad count {count:?}"))?;
        out.push_str(&text.repeat(count));
        rest = &macro_text[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match bytes.next() {
            Some(b'r') => b'\r',
            Some(b'n') => b'\n',
            Some(b't') => b'\t',
            Some(b'\\') => b'\\',
            Some(b'"') => b'"',
            Some(b'x') => {
                let hex = [bytes.next().unwrap_or(b'?'), bytes.next().unwrap_or(b'?')];
                let hex = std::str::from_utf8(&hex).map_err(|_| "bad \\x escape")?;
                u8::from_str_radix(hex, 16).map_err(|_| format!("bad \\x{hex} escape"))?
            }
            other => return Err(format!("unknown escape \\{:?}", other.map(char::from))),
        });
    }
    Ok(out)
}

/// The canonical text of bytes in events: printable ASCII as is, the rest
/// as escapes.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

fn parse_event(line: &str) -> Result<Ev, String> {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let field = |rest: &str| -> Result<(String, Vec<u8>), String> {
        let (name, value) = rest.split_once(':').ok_or("field without ':'")?;
        if name != name.to_ascii_lowercase() {
            return Err("field names are written lowercased".into());
        }
        Ok((name.to_owned(), unescape(value.trim_start())?))
    };
    Ok(match (word, rest) {
        ("head", rest) if !rest.is_empty() => Ev::Head(rest.to_owned()),
        ("header", rest) => field(rest).map(|(n, v)| Ev::Header(n, v))?,
        ("trailer", rest) => field(rest).map(|(n, v)| Ev::Trailer(n, v))?,
        ("data", rest) => {
            let quoted = rest
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .ok_or("data needs a quoted string")?;
            Ev::Data(unescape(quoted)?)
        }
        ("continue", "") => Ev::Continue,
        ("end", "") => Ev::End,
        ("paused", "") => Ev::Paused,
        ("closed-by-server", reason) if !reason.is_empty() => Ev::ClosedByServer(reason.to_owned()),
        ("eof", "") => Ev::Eof,
        ("closed", "") => Ev::Closed,
        ("need-data", "") => Ev::NeedData,
        ("error", rest) => {
            let (status, slug) = rest.split_once(' ').ok_or("error STATUS SLUG")?;
            Ev::Error(status.to_owned(), slug.to_owned())
        }
        _ => return Err("unknown event".into()),
    })
}

fn merge_data(events: Vec<Ev>) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::with_capacity(events.len());
    for ev in events {
        match (out.last_mut(), ev) {
            (Some(Ev::Data(prev)), Ev::Data(more)) => prev.extend(more),
            (_, ev) => out.push(ev),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Running a case through proto::Connection

fn respond(conn: &mut Connection, status: StatusCode) -> Vec<u8> {
    let headers = HeaderMap::new();
    let head = ResponseHead {
        status,
        headers: &headers,
        body: BodyLength::Known(0),
    };
    let mut out = Vec::new();
    conn.send_head(&head, DATE, &mut out);
    // A zero-length body cannot be short, so this cannot fail.
    let _ = conn.send_end(&mut out);
    out
}

fn push_fields(events: &mut Vec<Ev>, headers: &HeaderMap, trailer: bool) {
    for (name, value) in headers {
        let (name, value) = (name.as_str().to_owned(), value.as_bytes().to_vec());
        events.push(if trailer {
            Ev::Trailer(name, value)
        } else {
            Ev::Header(name, value)
        });
    }
}

/// Plays the minimal driver described in the module docs over `pieces`.
/// `Err` is a broken invariant, not an event mismatch.
fn run<'a>(pieces: impl IntoIterator<Item = &'a [u8]>, eof: bool) -> Result<Vec<Ev>, String> {
    let mut pieces = pieces.into_iter();
    let mut conn = Connection::new(Limits::default());
    let mut events = Vec::new();
    let mut eof_sent = false;
    for _ in 0..1_000_000 {
        match conn.next_event() {
            Ok(Event::Head(head)) => {
                let line = format!("{} {} {:?}", head.method, head.uri, head.version);
                events.push(Ev::Head(line));
                push_fields(&mut events, &head.headers, false);
                if conn.state().expects_continue {
                    let mut out = Vec::new();
                    conn.send_continue(&mut out);
                    if out != b"HTTP/1.1 100 Continue\r\n\r\n" {
                        return Err(format!("bad 100 Continue: {:?}", escape(&out)));
                    }
                    events.push(Ev::Continue);
                }
            }
            Ok(Event::Data(data)) => events.push(Ev::Data(data.to_vec())),
            Ok(Event::End(trailers)) => {
                push_fields(&mut events, &trailers, true);
                events.push(Ev::End);
            }
            Ok(Event::NeedData) => {
                if let Some(piece) = pieces.next() {
                    conn.receive(piece);
                } else if eof && !eof_sent {
                    events.push(Ev::Eof);
                    conn.receive_eof();
                    eof_sent = true;
                } else {
                    events.push(Ev::NeedData);
                    return Ok(merge_data(events));
                }
            }
            Ok(Event::Paused) => {
                events.push(Ev::Paused);
                respond(&mut conn, StatusCode::OK);
                if let Err(close) = conn.start_next_cycle() {
                    events.push(Ev::ClosedByServer(close.reason.slug().to_owned()));
                    return Ok(merge_data(events));
                }
            }
            Ok(Event::Closed) => {
                events.push(Ev::Closed);
                return Ok(merge_data(events));
            }
            Err(e) => {
                let status = e.status().map_or("none".into(), |s| s.as_u16().to_string());
                events.push(Ev::Error(status, e.kind().slug().to_owned()));
                match conn.next_event() {
                    Err(again) if again == e => {}
                    other => return Err(format!("error not sticky: then {other:?}")),
                }
                if let Some(status) = e.status() {
                    let out = respond(&mut conn, status);
                    let text = String::from_utf8_lossy(&out);
                    if !text.contains("\r\nConnection: close\r\n") {
                        return Err(format!("error response keeps the connection: {text:?}"));
                    }
                }
                match conn.start_next_cycle() {
                    Err(close) if close.reason == CloseReason::BadRequest(e.kind()) => {}
                    Err(close) => return Err(format!("closed after an error for {close:?}")),
                    Ok(()) => return Err("a new cycle started after an error".into()),
                }
                return Ok(merge_data(events));
            }
        }
    }
    Err("no end after a million events".into())
}

fn render(events: &[Ev]) -> String {
    events
        .iter()
        .map(|e| format!("    {}\n", shorten(&e.to_string())))
        .collect()
}

/// Keeps failure messages readable when a case holds `{repeat}` bytes.
fn shorten(s: &str) -> String {
    const KEEP: usize = 120;
    match s.char_indices().nth(2 * KEEP) {
        None => s.to_owned(),
        Some(_) => {
            let head: String = s.chars().take(KEEP).collect();
            let tail: String = s.chars().skip(s.chars().count() - KEEP / 2).collect();
            format!("{head}…{tail} ({} chars)", s.chars().count())
        }
    }
}

/// Runs one case whole, byte by byte and at every split; returns the first
/// disagreement.
fn check_case(case: &Case) -> Result<(), String> {
    let input = &case.http[..];
    let whole = [input];
    let mut modes: Vec<(String, Vec<&[u8]>)> = vec![
        ("fed whole".into(), whole.to_vec()),
        ("fed byte by byte".into(), input.chunks(1).collect()),
    ];
    for i in 0..=input.len() {
        modes.push((format!("split at {i}"), vec![&input[..i], &input[i..]]));
    }
    for (mode, pieces) in modes {
        let got = run(pieces, case.eof).map_err(|e| format!("{mode}: {e}"))?;
        if got != case.events {
            return Err(format!(
                "{mode}:\n  expected:\n{}  got:\n{}",
                render(&case.events),
                render(&got)
            ));
        }
    }
    Ok(())
}

#[test]
fn corpus_is_well_formed() {
    let cases = load_corpus();
    assert!(
        cases.len() >= 60,
        "the corpus should hold at least 60 cases, has {}",
        cases.len()
    );
    let mut seen = std::collections::HashSet::new();
    for case in &cases {
        assert!(
            seen.insert(case.name()),
            "{}: duplicate heading",
            case.name()
        );
        assert!(
            case.prose.contains("RFC") || case.prose.contains("CONFORMANCE"),
            "{}: the prose should say why, citing the RFC",
            case.name()
        );
        let last = case.events.last();
        assert!(
            matches!(
                last,
                Some(Ev::NeedData | Ev::Closed | Ev::ClosedByServer(_) | Ev::Error(..))
            ),
            "{}: events must end with need-data, closed, closed-by-server or an error",
            case.name()
        );
    }
}

#[test]
fn corpus_through_connection_at_every_split() {
    let cases = load_corpus();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            check_case(case).err().map(|e| {
                format!(
                    "{}\n  input: \"{}\"\n  {e}",
                    case.name(),
                    shorten(&escape(&case.http))
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The live server

const INDEX_HTML: &str = "hello";

/// Starts one berth server serving a temporary directory that holds
/// `index.html`, for the whole test binary.
fn live_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::write(root.path().join("index.html"), INDEX_HTML).expect("write index");
        let server = berth::Server::try_bind("127.0.0.1:0").expect("bind");
        let addr = server.local_addrs()[0];
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let site = berth::ServeDir::new(root.path());
            // The thread (and the temp dir it owns) lives as long as the
            // test process.
            let _ = runtime.block_on(server.serve(site));
            drop(root);
        });
        addr
    })
}

/// Sends `input` and reads the first response head.
fn exchange(addr: SocketAddr, input: &[u8]) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    // The server may answer and stop reading before all of a large input
    // is sent; the response is what matters.
    let _ = stream.write_all(input);
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read: {e} after {:?}", escape(&head))),
        }
    }
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete response head in {:?}", escape(&head)))?;
    String::from_utf8(head[..end].to_vec()).map_err(|_| "response head is not UTF-8".into())
}

fn check_response(head: &str, expected: &[String]) -> Result<(), String> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let fields: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut want = expected.iter();
    let want_status = want.next().ok_or("empty response block")?;
    if status_line != want_status {
        return Err(format!(
            "status line {status_line:?}, expected {want_status:?}"
        ));
    }
    for line in want {
        if let Some(name) = line.strip_prefix('!') {
            let name = name.to_ascii_lowercase();
            if fields.iter().any(|(n, _)| *n == name) {
                return Err(format!("{name} must not appear"));
            }
        } else if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if !fields.iter().any(|(n, v)| *n == name && v == value) {
                return Err(format!("missing {name}: {value}"));
            }
        } else if !fields.iter().any(|(n, _)| n.eq_ignore_ascii_case(line)) {
            return Err(format!("missing {line}"));
        }
    }
    Ok(())
}

#[test]
fn corpus_against_live_server() {
    let cases = load_corpus();
    let live: Vec<&Case> = cases.iter().filter(|c| c.response.is_some()).collect();
    assert!(!live.is_empty(), "no case has a response block");
    let addr = live_server();
    let failures: Vec<String> = live
        .iter()
        .filter_map(|case| {
            let expected = case.response.as_deref().unwrap_or_default();
            let result = exchange(addr, &case.http).and_then(|head| {
                check_response(&head, expected).map_err(|e| format!("{e}\n  response:\n{head}"))
            });
            result.err().map(|e| format!("{}: {e}", case.name()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} live cases failed:\n\n{}",
        failures.len(),
        live.len(),
        failures.join("\n\n")
    );
}

#[test]
fn http_block_decoding() {
    let lines = |ls: &[&str]| ls.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(decode_http(&lines(&["a", ""])).unwrap(), b"a\r\n\r\n");
    assert_eq!(decode_http(&lines(&["a\\n\\", "b"])).unwrap(), b"a\nb\r\n");
    assert_eq!(decode_http(&lines(&["a  \t"])).unwrap(), b"a\r\n");
    assert_eq!(decode_http(&lines(&["a\\x20"])).unwrap(), b"a \r\n");
    assert_eq!(
        decode_http(&lines(&["{repeat 3 ab}\\x5c\\"])).unwrap(),
        b"ababab\\"
    );
    assert_eq!(
        decode_http(&lines(&["{repeat 2 \\r\\n}x\\"])).unwrap(),
        b"\r\n\r\nx"
    );
    assert!(decode_http(&lines(&["a\\q"])).is_err());
    let ev = parse_event("data \"a\\\"b\\x00\"").unwrap();
    assert_eq!(ev, Ev::Data(b"a\"b\0".to_vec()));
    assert_eq!(parse_event(&ev.to_string()).unwrap(), ev);
}

/// Writes the corpus inputs as fuzz seeds under `$BERTH_FUZZ_SEEDS/<target>/`
/// for `fuzz/run.sh`, in each target's input format (`fuzz/src/invariants.rs`):
/// `parse_head` and `connection` get the whole input after a control byte
/// (no cuts; bit 2 set when the case ends with `eof`), `chunked` gets the
/// bytes after the head behind a zero control byte, and `resolve_path` gets
/// the request-target.
#[test]
#[ignore = "run by fuzz/run.sh with BERTH_FUZZ_SEEDS set"]
fn export_fuzz_seeds() {
    let Some(dir) = std::env::var_os("BERTH_FUZZ_SEEDS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder).expect("create seed folder");
        std::fs::write(folder.join(name), bytes).expect("write seed");
    };
    for (i, case) in load_corpus().iter().enumerate() {
        let name = format!("{}-{i:03}", case.file.trim_end_matches(".md"));
        let control = if case.eof { 4u8 } else { 0 };
        let framed = [&[control][..], &case.http].concat();
        write("parse_head", &name, &framed);
        write("connection", &name, &framed);
        if let Some(end) = case.http.windows(4).position(|w| w == b"\r\n\r\n") {
            let body = &case.http[end + 4..];
            if !body.is_empty() {
                write("chunked", &name, &[&[0u8][..], body].concat());
            }
        }
        if let Some(target) = case.http.split(|&b| b == b' ').nth(1) {
            write("resolve_path", &name, target);
        }
    }
}
