//! Checks and parsers for single flag values (index names, file URIs,
//! header fields, CORS origins, the health path, bind addresses,
//! durations), each turning a string into what [`Config`](super::Config)
//! holds or a one-line [`ConfigError`].

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use berth::http::{HeaderName, HeaderValue, Uri};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::ConfigError;
use crate::app::Cors;

/// `--index`: plain file names (one path component each).
pub(super) fn validate_index(names: Vec<String>) -> Result<Vec<String>, ConfigError> {
    for name in &names {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains('/')
            && !name.chars().any(char::is_control);
        if !plain {
            return Err(ConfigError(format!(
                "invalid --index {name:?}: give a file name such as index.html (no '/')"
            )));
        }
    }
    Ok(names)
}

/// `--spa` and `--404`: a file beneath ROOT, as the URI path `ServeDir` is
/// asked for (each segment percent-encoded).
pub(super) fn file_uri(flag: &str, file: &str) -> Result<Uri, ConfigError> {
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'[')
        .add(b'\\')
        .add(b']')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    let bad = |why: &str| ConfigError(format!("invalid {flag} {file:?}: {why}"));
    let rel = file.strip_prefix('/').unwrap_or(file);
    let mut path = String::with_capacity(rel.len() + 1);
    for segment in rel.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(bad("give a file path inside ROOT, such as index.html"));
        }
        if segment.chars().any(char::is_control) {
            return Err(bad("control characters in the name"));
        }
        path.push('/');
        path.extend(utf8_percent_encode(segment, SEGMENT));
    }
    Uri::try_from(path).map_err(|_| bad("not a usable file name"))
}

pub(super) fn parse_cache_control(value: &str) -> Result<HeaderValue, ConfigError> {
    match HeaderValue::from_str(value.trim()) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(ConfigError(format!(
            "invalid --cache-control {value:?}: give a header value such as \"no-cache\""
        ))),
    }
}

/// Headers the server owns (framing and hop-by-hop): `--header` refuses them.
pub(super) const OWNED_HEADERS: [&str; 8] = [
    "connection",
    "content-length",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// One header field set by configuration (`--header`, a rule's
/// `headers`): a valid name that is not one of [`OWNED_HEADERS`], and a
/// value (trimmed) without control characters.
pub(crate) fn header_field(
    name: &str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), &'static str> {
    let name = HeaderName::from_bytes(name.trim_end().as_bytes())
        .map_err(|_| "the name is not a valid header name")?;
    if OWNED_HEADERS.contains(&name.as_str()) {
        return Err("berth sets this header itself");
    }
    let value =
        HeaderValue::from_str(value.trim()).map_err(|_| "the value has control characters")?;
    Ok((name, value))
}

/// `--header 'Name: value'`, grouped by name in first-seen order.
pub(super) fn parse_headers(
    specs: &[String],
) -> Result<Vec<(HeaderName, Vec<HeaderValue>)>, ConfigError> {
    let mut out: Vec<(HeaderName, Vec<HeaderValue>)> = Vec::new();
    for spec in specs {
        let bad = |why: &str| ConfigError(format!("invalid --header {spec:?}: {why}"));
        let (name, value) = spec
            .split_once(':')
            .ok_or_else(|| bad("expected 'Name: value'"))?;
        let (name, value) = header_field(name, value).map_err(bad)?;
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => out.push((name, vec![value])),
        }
    }
    Ok(out)
}

/// `--cors` and `--cors-origin`: origins are `scheme://host[:port]`,
/// compared case-insensitively; `*` means any.
pub(super) fn parse_cors(any: bool, origins: &[String]) -> Result<Cors, ConfigError> {
    if origins.is_empty() {
        return Ok(if any { Cors::Any } else { Cors::Off });
    }
    let mut list = Vec::with_capacity(origins.len());
    for origin in origins {
        let origin = origin.trim();
        if origin == "*" {
            return Ok(Cors::Any);
        }
        let valid = origin.split_once("://").is_some_and(|(scheme, host)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !host.is_empty()
                && !host.contains(['/', '?', '#'])
        }) && HeaderValue::from_str(origin).is_ok();
        if !valid {
            return Err(ConfigError(format!(
                "invalid --cors-origin {origin:?}: give scheme://host[:port], \
                 such as https://app.example (no path)"
            )));
        }
        list.push(origin.to_ascii_lowercase());
    }
    Ok(Cors::Origins(list))
}

/// `--health`: an absolute path, compared exactly with the request's.
pub(super) fn validate_health(path: String) -> Result<String, ConfigError> {
    if !path.starts_with('/') || path.contains(['?', '#']) || Uri::try_from(&path).is_err() {
        return Err(ConfigError(format!(
            "invalid --health {path:?}: give a path such as /healthz"
        )));
    }
    Ok(path)
}

/// `--health` and `--metrics` answer before the site, so each must be a
/// path of its own: not `/`, not each other, not a file or folder ROOT
/// holds (checked at start-up; one created later is shadowed, as in any
/// server with an operations path).
pub(super) fn check_ops_paths(
    root: &std::path::Path,
    health: Option<&str>,
    metrics: Option<&str>,
) -> Result<(), ConfigError> {
    if let (Some(h), Some(m)) = (health, metrics)
        && h == m
    {
        return Err(ConfigError(format!(
            "--health and --metrics are both {h:?}: give each a path of its own"
        )));
    }
    for (flag, path) in [("--health", health), ("--metrics", metrics)] {
        let Some(path) = path else { continue };
        let inside = path.trim_matches('/');
        if inside.is_empty() {
            return Err(ConfigError(format!(
                "{flag} {path:?} would hide the whole site: give it a path of its own, \
                 such as {}",
                if flag == "--health" {
                    "/healthz"
                } else {
                    "/metrics"
                }
            )));
        }
        let shadowed = root.join(inside);
        if std::fs::symlink_metadata(&shadowed).is_ok() {
            return Err(ConfigError(format!(
                "{flag} {path:?} would hide {}, which the site serves: pick another path",
                shadowed.display()
            )));
        }
    }
    Ok(())
}

pub(super) fn resolve_bind(bind: &str, port: u16) -> Result<SocketAddr, ConfigError> {
    if let Ok(addr) = bind.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some((host, p)) = bind.rsplit_once(':')
        && host.eq_ignore_ascii_case("localhost")
        && let Ok(p) = p.parse::<u16>()
    {
        return resolve_bind(host, p);
    }
    let trimmed = bind.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let hint = "give an IP address such as 127.0.0.1, 0.0.0.0 or ::1";
    let localhost = bind.eq_ignore_ascii_case("localhost");
    if let Some(addr) = localhost
        .then(|| {
            (bind, port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
        })
        .flatten()
    {
        return Ok(addr);
    }
    Err(ConfigError(format!(
        "invalid --bind address {bind:?}: not an IP address ({hint})"
    )))
}

/// A size in bytes as bytesize reads it: a bare number (`65536`), or
/// with a unit, decimal (`10k`, `10MB` = 10,000,000) or binary (`10KiB`,
/// `10MiB` = 10,485,760), case-insensitive, a space allowed before it.
pub fn parse_size(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|_| format!("{s:?} is not a size: write 65536, 64KiB, 10MB or 1GiB"))
}

/// [`parse_size`] for limits held in a `usize`.
pub fn parse_size_usize(s: &str) -> Result<usize, String> {
    let n = parse_size(s)?;
    usize::try_from(n).map_err(|_| format!("{s:?} is too large"))
}

/// A duration as humantime reads it (`500ms`, `10s`, `1.5s`, `2m`, `1h`,
/// `1m 30s`), or a bare number of seconds (`10`, `0.5`: what the config
/// file's numbers become); at most a day.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bare = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let parsed = if bare {
        humantime::parse_duration(&format!("{s}s"))
    } else {
        humantime::parse_duration(s)
    };
    let duration =
        parsed.map_err(|e| format!("invalid duration {s:?}: {e} (use e.g. 10s or 500ms)"))?;
    if duration > Duration::from_secs(86_400) {
        return Err(format!("duration {s:?} out of range (at most a day)"));
    }
    Ok(duration)
}
