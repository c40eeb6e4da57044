//! The access log: one line on stdout per response, written after it.
//!
//! - `common`: Apache's Common Log Format,
//!   `%h %l %u %t "%r" %>s %b`.
//! - `combined`: Apache's combined format, `common` plus
//!   `"%{Referer}i" "%{User-Agent}i"`.
//! - `json`: one object per line with the same facts plus the duration.
//!
//! `common` and `combined` are kept exactly as Apache writes them (no extra
//! field), so log tools that parse those formats keep working; the duration
//! is in `json`. Times are UTC.
//!
//! Fields a client controls (request line, Referer, User-Agent) are escaped
//! as Apache does: `"` → `\"`, `\` → `\\`, and every byte outside printable
//! ASCII → `\xNN`; in JSON, `\uNNNN` (each byte read as Latin-1). A client
//! can therefore neither end a field early nor start a new line. Both
//! formats share this one escaper rather than JSON's going through
//! serde_json (which the library uses for listings): the log must stay
//! ASCII, so that no DEL or C1 control (which serde_json writes raw, and
//! offers no option against: serde-rs/json#907) reaches a terminal tailing
//! it, and header bytes need not be UTF-8.
//!
//! Each line is formatted into one buffer and written with one `write_all`
//! on the locked stdout, whose line buffering makes it one `write(2)`: lines
//! from concurrent connections never interleave.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use std::net::SocketAddr;
use std::time::Duration;

use berth::http::header::{self, HeaderMap};
use berth::http::{HeaderValue, Method, StatusCode, Uri, Version};
use berth::{AccessLog, AccessRecord, PeerAddr};
use time::UtcDateTime;

use crate::forwarded::TrustedProxies;

/// How each access-log line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Apache Common Log Format.
    Common,
    /// Apache combined: common plus Referer and User-Agent.
    Combined,
    /// One JSON object per line, with the duration in milliseconds.
    Json,
}

/// The driver's callback: format the record and write it to stdout.
pub fn stdout_log(format: LogFormat, trusted: TrustedProxies) -> AccessLog {
    AccessLog::new(move |record| {
        let mut entry = Entry::from(record);
        if !trusted.is_empty() && trusted.contains(record.peer.ip()) {
            // The peer is a proxy we trust: the client is the one its
            // forwarding headers name.
            let mut headers = HeaderMap::new();
            if let Some(v) = record.forwarded {
                headers.insert(header::FORWARDED, v.clone());
            }
            if let Some(v) = record.x_forwarded_for {
                headers.insert("x-forwarded-for", v.clone());
            }
            let client = trusted.client_ip(record.peer.ip(), &headers);
            entry.peer = SocketAddr::new(client, record.peer.port());
        }
        let line = format_line(format, &entry);
        // A closed or full stdout must not take the server down.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    })
}

/// The facts of one exchange that a line shows (an [`AccessRecord`] is
/// `#[non_exhaustive]`, so this copy is what the tests can build).
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub peer: SocketAddr,
    pub time: SystemTime,
    pub method: Option<&'a Method>,
    pub target: Option<&'a Uri>,
    pub version: Version,
    pub status: StatusCode,
    pub body_bytes: u64,
    pub duration: Duration,
    pub referer: Option<&'a HeaderValue>,
    pub user_agent: Option<&'a HeaderValue>,
    /// The authenticated user (`%u`), `-` without one.
    pub user: Option<&'a str>,
}

impl<'a> From<&AccessRecord<'a>> for Entry<'a> {
    fn from(r: &AccessRecord<'a>) -> Self {
        Entry {
            peer: r.peer,
            time: r.time,
            method: r.method,
            target: r.target,
            version: r.version,
            status: r.status,
            body_bytes: r.body_bytes,
            duration: r.duration,
            referer: r.referer,
            user_agent: r.user_agent,
            user: r.user,
        }
    }
}

/// One log line, newline included.
pub fn format_line(format: LogFormat, r: &Entry<'_>) -> String {
    let mut line = String::with_capacity(200);
    match format {
        LogFormat::Common => common(&mut line, r),
        LogFormat::Combined => {
            common(&mut line, r);
            line.push_str(" \"");
            apache_escape(&mut line, r.referer.map_or(b"-", |v| v.as_bytes()));
            line.push_str("\" \"");
            apache_escape(&mut line, r.user_agent.map_or(b"-", |v| v.as_bytes()));
            line.push('"');
        }
        LogFormat::Json => json(&mut line, r),
    }
    line.push('\n');
    line
}

fn common(line: &mut String, r: &Entry<'_>) {
    let t = utc(r.time);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    line.push_str(&remote(r.peer));
    line.push_str(" - ");
    match r.user {
        Some(user) => apache_escape(line, user.as_bytes()),
        None => line.push('-'),
    }
    let _ = write!(
        line,
        " [{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000] \"",
        t.day(),
        MONTHS[usize::from(u8::from(t.month()) - 1)],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match (r.method, r.target) {
        (Some(method), Some(target)) => {
            apache_escape(line, method.as_str().as_bytes());
            line.push(' ');
            apache_escape(line, target.to_string().as_bytes());
            line.push(' ');
            line.push_str(version(r.version));
        }
        _ => line.push('-'),
    }
    let _ = write!(line, "\" {} ", r.status.as_u16());
    match r.body_bytes {
        0 => line.push('-'),
        n => {
            let _ = write!(line, "{n}");
        }
    }
}

fn json(line: &mut String, r: &Entry<'_>) {
    let t = utc(r.time);
    let _ = write!(
        line,
        "{{\"time\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"remote\":\"{}\",\"user\":",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond(),
        remote(r.peer)
    );
    json_string(line, r.user.map(str::as_bytes));
    line.push_str(",\"method\":");
    json_string(line, r.method.map(|m| m.as_str().as_bytes()));
    line.push_str(",\"target\":");
    let target = r.target.map(|t| t.to_string());
    json_string(line, target.as_deref().map(str::as_bytes));
    let _ = write!(
        line,
        ",\"version\":\"{}\",\"status\":{},\"bytes\":{},\"duration_ms\":{:.3},\"referer\":",
        version(r.version),
        r.status.as_u16(),
        r.body_bytes,
        r.duration.as_secs_f64() * 1000.0
    );
    json_string(line, r.referer.map(|v| v.as_bytes()));
    line.push_str(",\"user_agent\":");
    json_string(line, r.user_agent.map(|v| v.as_bytes()));
    line.push('}');
}

/// The client as logged: its IP address, or `unix:` for a client on a Unix
/// socket (as nginx logs `$remote_addr` there).
fn remote(peer: SocketAddr) -> String {
    if PeerAddr(peer).is_unix() {
        "unix:".to_owned()
    } else {
        peer.ip().to_string()
    }
}

fn version(v: Version) -> &'static str {
    match v {
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// Apache's escaping of logged request fields.
fn apache_escape(out: &mut String, bytes: &[u8]) {
    escape_with(out, bytes, |out, b| {
        let _ = write!(out, "\\x{b:02x}");
    });
}

/// A JSON string (or `null`), ASCII only: bytes outside printable ASCII
/// become `\u00NN` (the byte as a Latin-1 character, as HTTP's obs-text).
fn json_string(out: &mut String, bytes: Option<&[u8]>) {
    let Some(bytes) = bytes else {
        out.push_str("null");
        return;
    };
    out.push('"');
    escape_with(out, bytes, |out, b| {
        let _ = write!(out, "\\u{b:04x}");
    });
    out.push('"');
}

/// Copies printable ASCII, backslash-escapes `"` and `\`, and hands every
/// other byte to `other`: no client byte reaches the log unescaped (no log
/// injection).
fn escape_with(out: &mut String, bytes: &[u8], other: impl Fn(&mut String, u8)) {
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => other(out, b),
        }
    }
}

/// The record's time in UTC; a clock set before 1970 (or past 9999) is
/// logged as the epoch.
fn utc(time: SystemTime) -> UtcDateTime {
    time.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| i128::try_from(since.as_nanos()).ok())
        .and_then(|nanos| UtcDateTime::from_unix_timestamp_nanos(nanos).ok())
        .unwrap_or(UtcDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn line(format: LogFormat, ua: Option<&HeaderValue>, referer: Option<&HeaderValue>) -> String {
        let method = Method::GET;
        let target: Uri = "/apache_pb.gif?a=1".parse().unwrap();
        let record = Entry {
            peer: "127.0.0.1:5555".parse().unwrap(),
            // 10/Oct/2000:13:55:36 +0000
            time: at(971_186_136) + Duration::from_millis(250),
            method: Some(&method),
            target: Some(&target),
            version: Version::HTTP_10,
            status: StatusCode::OK,
            body_bytes: 2326,
            duration: Duration::from_micros(1500),
            referer,
            user_agent: ua,
            user: None,
        };
        format_line(format, &record)
    }

    /// The time as `common` and `json` write it.
    fn stamps(time: SystemTime) -> (String, String) {
        let record = Entry {
            peer: "127.0.0.1:1".parse().unwrap(),
            time,
            method: None,
            target: None,
            version: Version::HTTP_11,
            status: StatusCode::OK,
            body_bytes: 0,
            duration: Duration::ZERO,
            referer: None,
            user_agent: None,
            user: None,
        };
        let common = format_line(LogFormat::Common, &record);
        let json = format_line(LogFormat::Json, &record);
        let common = common[common.find('[').unwrap() + 1..common.find(']').unwrap()].to_owned();
        let json = json["{\"time\":\"".len().."{\"time\":\"".len() + 24].to_owned();
        (common, json)
    }

    #[test]
    fn timestamps_are_utc_in_each_format() {
        let stamp = |time| {
            let (common, json) = stamps(time);
            format!("{common} | {json}")
        };
        assert_eq!(
            stamp(at(0)),
            "01/Jan/1970:00:00:00 +0000 | 1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            stamp(at(971_186_136) + Duration::from_millis(250)),
            "10/Oct/2000:13:55:36 +0000 | 2000-10-10T13:55:36.250Z"
        );
        assert_eq!(
            stamp(at(951_782_400)), // a leap day
            "29/Feb/2000:00:00:00 +0000 | 2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            stamp(at(1_709_251_199) + Duration::from_nanos(999_999_999)),
            "29/Feb/2024:23:59:59 +0000 | 2024-02-29T23:59:59.999Z"
        );
        assert_eq!(
            stamp(at(4_102_444_799)),
            "31/Dec/2099:23:59:59 +0000 | 2099-12-31T23:59:59.000Z"
        );
        assert_eq!(
            stamp(at(253_402_300_799)),
            "31/Dec/9999:23:59:59 +0000 | 9999-12-31T23:59:59.000Z"
        );
        // A clock set before 1970 is logged as the epoch.
        assert_eq!(
            stamp(UNIX_EPOCH - Duration::from_secs(86_400)),
            "01/Jan/1970:00:00:00 +0000 | 1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn common_and_combined_are_apaches() {
        assert_eq!(
            line(LogFormat::Common, None, None),
            "127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /apache_pb.gif?a=1 HTTP/1.0\" 200 2326\n"
        );
        let ua = HeaderValue::from_static("Mozilla/4.08 [en] (Win98; I ;Nav)");
        let referer = HeaderValue::from_static("http://www.example.com/start.html");
        assert_eq!(
            line(LogFormat::Combined, Some(&ua), Some(&referer)),
            "127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /apache_pb.gif?a=1 HTTP/1.0\" 200 2326 \
             \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"\n"
        );
        assert!(line(LogFormat::Combined, None, None).ends_with(" 2326 \"-\" \"-\"\n"));
    }

    #[test]
    fn client_fields_cannot_inject() {
        // HeaderValue already refuses CR, LF and other controls but TAB;
        // the escaping does not rely on that.
        let ua = HeaderValue::from_bytes(b"a\"b\\c\xff\tz").unwrap();
        let l = line(LogFormat::Combined, Some(&ua), None);
        assert!(l.ends_with("\"a\\\"b\\\\c\\xff\\x09z\"\n"), "{l}");
        let j = line(LogFormat::Json, Some(&ua), None);
        assert!(j.contains(r#""user_agent":"a\"b\\c\u00ff\u0009z""#), "{j}");
        let mut out = String::new();
        apache_escape(&mut out, b"x\r\n1.2.3.4 - - \x1b[2J\x7f");
        assert_eq!(out, r"x\x0d\x0a1.2.3.4 - - \x1b[2J\x7f");
        let mut out = String::new();
        json_string(&mut out, Some(b"x\r\n\x1b\x7f"));
        assert_eq!(out, r#""x\u000d\u000a\u001b\u007f""#);
    }

    #[test]
    fn json_line() {
        assert_eq!(
            line(LogFormat::Json, None, None),
            "{\"time\":\"2000-10-10T13:55:36.250Z\",\"remote\":\"127.0.0.1\",\"user\":null,\"method\":\"GET\",\
             \"target\":\"/apache_pb.gif?a=1\",\"version\":\"HTTP/1.0\",\"status\":200,\"bytes\":2326,\
             \"duration_ms\":1.500,\"referer\":null,\"user_agent\":null}\n"
        );
    }

    #[test]
    fn the_user_and_a_unix_socket_client_fill_their_fields() {
        let method = Method::GET;
        let target: Uri = "/".parse().unwrap();
        let entry = |peer: SocketAddr, user| Entry {
            peer,
            time: at(0),
            method: Some(&method),
            target: Some(&target),
            version: Version::HTTP_11,
            status: StatusCode::OK,
            body_bytes: 1,
            duration: Duration::ZERO,
            referer: None,
            user_agent: None,
            user,
        };
        let tcp: SocketAddr = "192.0.2.7:4000".parse().unwrap();
        let common = format_line(LogFormat::Common, &entry(tcp, Some("alice")));
        assert!(
            common.starts_with("192.0.2.7 - alice [01/Jan/1970"),
            "{common}"
        );
        let json = format_line(LogFormat::Json, &entry(PeerAddr::UNIX.0, Some("al\"ice")));
        assert!(
            json.contains(r#""remote":"unix:","user":"al\"ice","#),
            "{json}"
        );
        let common = format_line(LogFormat::Combined, &entry(PeerAddr::UNIX.0, None));
        assert!(common.starts_with("unix: - - [01/Jan/1970"), "{common}");
        // A user name is escaped like every other field.
        let odd = format_line(LogFormat::Common, &entry(tcp, Some("a b\n")));
        assert!(odd.starts_with("192.0.2.7 - a b\\x0a ["), "{odd}");
    }

    #[test]
    fn each_protocol_is_named_as_its_request_line_would_be() {
        for (version, name) in [
            (Version::HTTP_10, "HTTP/1.0"),
            (Version::HTTP_11, "HTTP/1.1"),
            (Version::HTTP_2, "HTTP/2.0"),
        ] {
            assert_eq!(super::version(version), name);
        }
    }

    #[test]
    fn unparsed_request_and_empty_body() {
        let record = Entry {
            peer: "[::1]:1".parse().unwrap(),
            time: at(971_186_136),
            method: None,
            target: None,
            version: Version::HTTP_11,
            status: StatusCode::BAD_REQUEST,
            body_bytes: 0,
            duration: Duration::ZERO,
            referer: None,
            user_agent: None,
            user: None,
        };
        assert_eq!(
            format_line(LogFormat::Common, &record),
            "::1 - - [10/Oct/2000:13:55:36 +0000] \"-\" 400 -\n"
        );
        assert!(format_line(LogFormat::Json, &record).contains("\"method\":null,\"target\":null"));
    }
}
