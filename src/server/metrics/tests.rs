//! Tests of the metrics registry and its exposition.

use super::*;
use std::collections::{BTreeMap, HashMap, HashSet};

// ----- a small, strict parser of the text format (0.0.4) -----

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

#[derive(Debug, Default)]
struct Parsed {
    /// Family name → TYPE.
    types: HashMap<String, String>,
    /// Family name → HELP text (unescaped).
    help: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Parsed {
    /// The value of the one series `name{labels}`.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let found: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.name == name && s.labels == want)
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}");
        found[0].value
    }

    fn requests(&self, method: &str, status: &str) -> f64 {
        self.get(
            "berth_requests_total",
            &[("method_class", method), ("status_class", status)],
        )
    }

    /// `(le, cumulative count)` of a histogram, in order.
    fn buckets(&self, name: &str) -> Vec<(String, f64)> {
        let bucket = format!("{name}_bucket");
        self.samples
            .iter()
            .filter(|s| s.name == bucket)
            .map(|s| {
                assert_eq!(s.labels.len(), 1);
                assert_eq!(s.labels[0].0, "le");
                (s.labels[0].1.clone(), s.value)
            })
            .collect()
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

fn parse_value(s: &str) -> f64 {
    match s {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => {
            assert!(
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)),
                "bad value {s:?}"
            );
            s.parse().unwrap_or_else(|_| panic!("bad value {s:?}"))
        }
    }
}

/// `{a="x",b="y"}` → labels and the rest of the line.
fn parse_labels(mut rest: &str) -> (Vec<(String, String)>, &str) {
    let mut labels = Vec::new();
    rest = rest.strip_prefix('{').unwrap();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        }
        if !labels.is_empty() {
            rest = rest.strip_prefix(',').expect("',' between labels");
        }
        let eq = rest.find('=').expect("label '='");
        let name = &rest[..eq];
        assert!(is_label_name(name), "label name {name:?}");
        rest = rest[eq + 1..].strip_prefix('"').expect("opening '\"'");
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().expect("closing '\"'") {
                (i, '"') => break i,
                (_, '\\') => match chars.next().expect("escape") {
                    (_, '\\') => value.push('\\'),
                    (_, '"') => value.push('"'),
                    (_, 'n') => value.push('\n'),
                    (_, c) => panic!("bad escape \\{c}"),
                },
                (_, '\n') => panic!("raw line feed in a label value"),
                (_, c) => value.push(c),
            }
        };
        rest = &rest[end + 1..];
        assert!(
            labels.iter().all(|(n, _)| n != name),
            "duplicate label {name}"
        );
        labels.push((name.to_string(), value));
    }
}

/// Parses `text`, asserting that it follows the format: every line a
/// HELP, TYPE or sample line; HELP and TYPE once per family, before its
/// samples; a family's lines together; no series twice.
fn parse(text: &str) -> Parsed {
    assert!(text.ends_with('\n'), "the last line ends with a line feed");
    let mut parsed = Parsed::default();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut series: HashSet<String> = HashSet::new();
    let mut enter = |family: &str, current: &mut Option<String>| {
        if current.as_deref() != Some(family) {
            if let Some(done) = current.take() {
                finished.insert(done);
            }
            assert!(!finished.contains(family), "family {family} split up");
            *current = Some(family.to_string());
        }
    };
    for line in text[..text.len() - 1].split('\n') {
        assert!(!line.is_empty(), "empty line");
        if let Some(comment) = line.strip_prefix("# ") {
            let (keyword, rest) = comment.split_once(' ').expect("comment keyword");
            let (name, rest) = rest.split_once(' ').expect("metric name and text");
            assert!(is_metric_name(name), "name {name:?}");
            match keyword {
                "HELP" => {
                    let mut help = String::new();
                    let mut chars = rest.chars();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => match chars.next() {
                                Some('\\') => help.push('\\'),
                                Some('n') => help.push('\n'),
                                other => panic!("bad HELP escape {other:?}"),
                            },
                            c => help.push(c),
                        }
                    }
                    enter(name, &mut current);
                    assert!(parsed.help.insert(name.into(), help).is_none());
                }
                "TYPE" => {
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&rest),
                        "type {rest:?}"
                    );
                    enter(name, &mut current);
                    assert!(
                        !parsed
                            .samples
                            .iter()
                            .any(|s| s.name == name || s.name.starts_with(&format!("{name}_"))),
                        "TYPE of {name} after its samples"
                    );
                    assert!(parsed.types.insert(name.into(), rest.into()).is_none());
                }
                _ => panic!("unknown comment {line:?}"),
            }
            continue;
        }
        assert!(!line.starts_with('#'), "comment without a space: {line:?}");
        let name_end = line.find(['{', ' ']).expect("sample value");
        let name = &line[..name_end];
        assert!(is_metric_name(name), "name {name:?}");
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..])
        } else {
            (Vec::new(), &line[name_end..])
        };
        let value = rest.strip_prefix(' ').expect("one space before the value");
        assert!(!value.contains(' '), "no timestamp expected: {line:?}");
        let value = parse_value(value);
        // The family: the name itself, or a histogram's base name.
        let family = if parsed.types.contains_key(name) {
            name.to_string()
        } else {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    let base = name.strip_suffix(suffix)?;
                    (parsed.types.get(base)? == "histogram").then(|| base.to_string())
                })
                .unwrap_or_else(|| panic!("sample {name} has no TYPE"))
        };
        enter(&family, &mut current);
        let key = format!("{name}{labels:?}");
        assert!(series.insert(key), "series twice: {line:?}");
        if parsed.types[&family] == "counter" || name.ends_with("_count") {
            assert!(value >= 0.0 && value.fract() == 0.0, "{line:?}");
        }
        parsed.samples.push(Sample {
            name: name.into(),
            labels,
            value,
        });
    }
    // Every histogram: buckets ascending by `le`, cumulative, ending at
    // +Inf equal to _count; a _sum.
    for (family, kind) in &parsed.types {
        if kind != "histogram" {
            continue;
        }
        let buckets = parsed.buckets(family);
        assert!(!buckets.is_empty());
        let mut last = (f64::NEG_INFINITY, 0.0);
        for (le, count) in &buckets {
            let le = parse_value(le);
            assert!(le > last.0, "le ascending");
            assert!(*count >= last.1, "buckets cumulative");
            last = (le, *count);
        }
        assert_eq!(last.0, f64::INFINITY, "last bucket is +Inf");
        let count = parsed.get(&format!("{family}_count"), &[]);
        assert_eq!(last.1, count, "+Inf bucket == _count");
        let sum = parsed.get(&format!("{family}_sum"), &[]);
        assert!(sum >= 0.0);
    }
    parsed
}

fn all_values(parsed: &Parsed) -> BTreeMap<String, f64> {
    parsed
        .samples
        .iter()
        .map(|s| (format!("{}{:?}", s.name, s.labels), s.value))
        .collect()
}

// ----- the tests -----

#[test]
fn a_fresh_registry_renders_every_series_at_zero() {
    let parsed = parse(&Metrics::new().render());
    let families: BTreeMap<&str, &str> = parsed
        .types
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        families,
        BTreeMap::from([
            ("berth_connections_total", "counter"),
            ("berth_http2_events_total", "counter"),
            ("berth_http3_events_total", "counter"),
            ("berth_open_connections", "gauge"),
            ("berth_parked_connections", "gauge"),
            ("berth_proxy_header_failures_total", "counter"),
            ("berth_received_bytes_total", "counter"),
            ("berth_request_duration_seconds", "histogram"),
            ("berth_requests_total", "counter"),
            ("berth_sent_bytes_total", "counter"),
            ("berth_tls_handshake_failures_total", "counter"),
        ])
    );
    assert_eq!(parsed.help.len(), families.len(), "a HELP per family");
    for method in METHOD_CLASSES {
        for status in STATUS_CLASSES {
            assert_eq!(parsed.requests(method, status), 0.0);
        }
    }
    let les: Vec<String> = parsed
        .buckets("berth_request_duration_seconds")
        .into_iter()
        .map(|(le, _)| le)
        .collect();
    assert_eq!(
        les,
        [
            "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
            "1", "2.5", "5", "10", "+Inf"
        ]
    );
    // 35 request series + 15 buckets + sum + count + 7 single series + 7
    // HTTP/2 events + 6 HTTP/3 events.
    assert_eq!(parsed.samples.len(), 35 + 15 + 2 + 7 + 7 + 6);
    assert!(parsed.samples.iter().all(|s| s.value == 0.0));
}

#[test]
fn records_show_in_the_output() {
    let m = Metrics::new();
    let ms = Duration::from_millis;
    m.record_request(&Method::GET, StatusCode::OK, ms(1)); // le=0.001 exactly
    m.record_request(&Method::GET, StatusCode::OK, Duration::from_micros(200));
    m.record_request(&Method::GET, StatusCode::NOT_FOUND, ms(7));
    m.record_request(&Method::HEAD, StatusCode::NOT_MODIFIED, ms(30));
    m.record_request(&Method::POST, StatusCode::INTERNAL_SERVER_ERROR, ms(3000));
    m.record_request(&Method::PUT, StatusCode::CREATED, ms(300));
    m.record_request(&Method::DELETE, StatusCode::NO_CONTENT, ms(2));
    m.record_request(&Method::OPTIONS, StatusCode::NO_CONTENT, ms(2));
    m.record_request(&Method::PATCH, StatusCode::OK, ms(60));
    let purge = Method::from_bytes(b"PURGE").unwrap();
    m.record_request(&purge, StatusCode::SWITCHING_PROTOCOLS, ms(11));
    let odd = StatusCode::from_u16(999).unwrap();
    m.record_request(&Method::GET, odd, Duration::from_secs(11)); // above 10 s
    m.add_bytes_received(100);
    m.add_bytes_received(23);
    m.add_bytes_sent(4096);
    let a = m.connection_opened();
    let b = m.connection_opened();
    drop(a);
    m.tls_handshake_failed();
    m.proxy_header_rejected();
    m.proxy_header_rejected();

    let p = parse(&m.render());
    assert_eq!(p.requests("get", "2xx"), 2.0);
    assert_eq!(p.requests("get", "4xx"), 1.0);
    assert_eq!(p.requests("get", "5xx"), 1.0);
    assert_eq!(p.requests("head", "3xx"), 1.0);
    assert_eq!(p.requests("post", "5xx"), 1.0);
    assert_eq!(p.requests("put", "2xx"), 1.0);
    assert_eq!(p.requests("delete", "2xx"), 1.0);
    assert_eq!(p.requests("options", "2xx"), 1.0);
    assert_eq!(p.requests("other", "2xx"), 1.0);
    assert_eq!(p.requests("other", "1xx"), 1.0);
    let total: f64 = p
        .samples
        .iter()
        .filter(|s| s.name == "berth_requests_total")
        .map(|s| s.value)
        .sum();
    assert_eq!(total, 11.0);

    let buckets: BTreeMap<String, f64> = p
        .buckets("berth_request_duration_seconds")
        .into_iter()
        .collect();
    assert_eq!(buckets["0.0005"], 1.0); // 200 µs
    assert_eq!(buckets["0.001"], 2.0); // + 1 ms (bounds are inclusive)
    assert_eq!(buckets["0.0025"], 4.0); // + 2 ms twice
    assert_eq!(buckets["0.01"], 5.0); // + 7 ms
    assert_eq!(buckets["0.025"], 6.0); // + 11 ms
    assert_eq!(buckets["0.05"], 7.0); // + 30 ms
    assert_eq!(buckets["0.1"], 8.0); // + 60 ms
    assert_eq!(buckets["0.5"], 9.0); // + 300 ms
    assert_eq!(buckets["5"], 10.0); // + 3 s
    assert_eq!(buckets["10"], 10.0);
    assert_eq!(buckets["+Inf"], 11.0); // + 11 s
    assert_eq!(p.get("berth_request_duration_seconds_count", &[]), 11.0);
    // 0.2 + 1 + 7 + 30 + 3000 + 300 + 2 + 2 + 60 + 11 + 11000 ms.
    let sum = p.get("berth_request_duration_seconds_sum", &[]);
    assert!((sum - 14.4132).abs() < 1e-9, "{sum}");

    assert_eq!(p.get("berth_received_bytes_total", &[]), 123.0);
    assert_eq!(p.get("berth_sent_bytes_total", &[]), 4096.0);
    assert_eq!(p.get("berth_connections_total", &[]), 2.0);
    assert_eq!(p.get("berth_open_connections", &[]), 1.0);
    assert_eq!(p.get("berth_tls_handshake_failures_total", &[]), 1.0);
    assert_eq!(p.get("berth_proxy_header_failures_total", &[]), 2.0);
    drop(b);
    let p = parse(&m.render());
    assert_eq!(p.get("berth_open_connections", &[]), 0.0);
    assert_eq!(p.get("berth_connections_total", &[]), 2.0);
}

#[test]
fn histogram_bounds_are_inclusive() {
    for (i, &bound) in BUCKET_BOUNDS_NANOS.iter().enumerate() {
        assert_eq!(bucket_index(bound), i);
        assert_eq!(bucket_index(bound + 1), i + 1);
        assert_eq!(bucket_index(bound - 1), i);
    }
    assert_eq!(bucket_index(0), 0);
    assert_eq!(bucket_index(u64::MAX), BUCKETS - 1);
    let m = Metrics::new();
    m.record_request(&Method::GET, StatusCode::OK, Duration::MAX);
    let p = parse(&m.render());
    assert_eq!(p.buckets("berth_request_duration_seconds")[13].1, 0.0);
    assert_eq!(p.get("berth_request_duration_seconds_count", &[]), 1.0);
}

#[test]
fn classes() {
    assert_eq!(status_class(StatusCode::CONTINUE), 0);
    assert_eq!(status_class(StatusCode::from_u16(199).unwrap()), 0);
    assert_eq!(status_class(StatusCode::OK), 1);
    assert_eq!(status_class(StatusCode::PERMANENT_REDIRECT), 2);
    assert_eq!(status_class(StatusCode::IM_A_TEAPOT), 3);
    assert_eq!(status_class(StatusCode::from_u16(599).unwrap()), 4);
    assert_eq!(status_class(StatusCode::from_u16(600).unwrap()), 4);
    assert_eq!(method_class(&Method::CONNECT), 6);
    assert_eq!(method_class(&Method::TRACE), 6);
    assert_eq!(method_class(&Method::from_bytes(b"get").unwrap()), 6);
}

#[test]
fn seconds_are_exact_decimals() {
    let s = |nanos| {
        let mut out = String::new();
        push_seconds(&mut out, nanos);
        out
    };
    assert_eq!(s(0), "0");
    assert_eq!(s(1), "0.000000001");
    assert_eq!(s(500_000), "0.0005");
    assert_eq!(s(1_000_000_000), "1");
    assert_eq!(s(2_500_000_000), "2.5");
    assert_eq!(s(10_000_000_000), "10");
    assert_eq!(s(123_456_789_012), "123.456789012");
    assert_eq!(s(u64::MAX), "18446744073.709551615");
    // The bounds read back as the floats other clients write.
    for bound in BUCKET_BOUNDS_NANOS {
        let text = s(bound);
        assert_eq!(format!("{}", bound as f64 / 1e9), text);
        assert_eq!(text.parse::<f64>().unwrap(), bound as f64 / 1e9);
    }
}

#[test]
fn escaping() {
    let mut out = Exposition(String::new());
    out.family("x_total", "counter", "a \\ back\nslash \"q\"");
    out.sample("x_total", &[("path", "a\"b\\c\nd"), ("k", "")], 7);
    assert_eq!(
        out.0,
        "# HELP x_total a \\\\ back\\nslash \"q\"\n# TYPE x_total counter\n\
         x_total{path=\"a\\\"b\\\\c\\nd\",k=\"\"} 7\n"
    );
    let p = parse(&out.0);
    assert_eq!(p.help["x_total"], "a \\ back\nslash \"q\"");
    assert_eq!(p.get("x_total", &[("path", "a\"b\\c\nd"), ("k", "")]), 7.0);
}

#[test]
fn the_parser_rejects_bad_text() {
    let bad = [
        "no_newline 1",
        "x 1\n",                                          // no TYPE
        "# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n", // series twice
        "# TYPE x counter\nx 1 2 3\n",                    // junk after the value
        "# TYPE x counter\nx{a=1} 1\n",                   // unquoted label
        "# TYPE x counter\nx abc\n",                      // not a number
        "# TYPE x counter\n# TYPE y counter\nx 1\n",      // family split up
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n\
         h_sum 0\nh_count 1\n", // not cumulative
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 1\n", // +Inf != count
    ];
    for text in bad {
        let text = text.to_string();
        let result = std::panic::catch_unwind(move || parse(&text));
        assert!(result.is_err(), "accepted: {:?}", bad);
    }
}

#[test]
fn concurrent_updates_sum_correctly() {
    const THREADS: u64 = 8;
    const EACH: u64 = 20_000;
    let m = Metrics::new();
    let scraper_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::scope(|scope| {
        // A scraper renders meanwhile: every snapshot is well-formed.
        let (m2, stop) = (m.clone(), scraper_stop.clone());
        let scraper = scope.spawn(move || {
            let mut renders = 0;
            while !stop.load(Relaxed) || renders == 0 {
                parse(&m2.render());
                renders += 1;
            }
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let m = m.clone();
                scope.spawn(move || {
                    for i in 0..EACH {
                        let guard = m.connection_opened();
                        let method = if i % 2 == 0 {
                            Method::GET
                        } else {
                            Method::POST
                        };
                        let status = if t % 2 == 0 {
                            StatusCode::OK
                        } else {
                            StatusCode::NOT_FOUND
                        };
                        m.record_request(&method, status, Duration::from_micros(i % 5000));
                        m.add_bytes_received(3);
                        m.add_bytes_sent(5);
                        if i % 100 == 0 {
                            m.tls_handshake_failed();
                        }
                        drop(guard);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        scraper_stop.store(true, Relaxed);
        scraper.join().unwrap();
    });
    let p = parse(&m.render());
    let half = THREADS / 2 * EACH / 2;
    assert_eq!(p.requests("get", "2xx"), half as f64);
    assert_eq!(p.requests("post", "2xx"), half as f64);
    assert_eq!(p.requests("get", "4xx"), half as f64);
    assert_eq!(p.requests("post", "4xx"), half as f64);
    let n = THREADS * EACH;
    assert_eq!(p.get("berth_request_duration_seconds_count", &[]), n as f64);
    let sum_micros: u64 = THREADS * (0..EACH).map(|i| i % 5000).sum::<u64>();
    let sum = p.get("berth_request_duration_seconds_sum", &[]);
    assert!((sum - sum_micros as f64 / 1e6).abs() < 1e-6, "{sum}");
    assert_eq!(p.get("berth_received_bytes_total", &[]), (3 * n) as f64);
    assert_eq!(p.get("berth_sent_bytes_total", &[]), (5 * n) as f64);
    assert_eq!(p.get("berth_connections_total", &[]), n as f64);
    assert_eq!(p.get("berth_open_connections", &[]), 0.0);
    assert_eq!(
        p.get("berth_tls_handshake_failures_total", &[]),
        (THREADS * EACH / 100) as f64
    );
    let before = all_values(&p);
    assert_eq!(all_values(&parse(&m.render())), before, "render is stable");
}

#[test]
fn each_value_has_its_own_cache_lines() {
    assert_eq!(std::mem::align_of::<Cell>(), 128);
    assert_eq!(std::mem::size_of::<Cell>(), 128);
}

async fn call(m: &Arc<Metrics>, method: Method) -> (Response, bytes::Bytes) {
    let mut req = Request::new(Body::empty());
    *req.method_mut() = method;
    let res = m.handler().call(req).await;
    let (parts, body) = res.into_parts();
    let bytes = body.collect(1 << 20).await.unwrap();
    (Response::from_parts(parts, Body::empty()), bytes)
}

#[tokio::test]
async fn the_handler_serves_the_text_format() {
    let m = Metrics::new();
    m.add_bytes_sent(42);
    for method in [Method::GET, Method::HEAD] {
        let (res, body) = call(&m, method).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let p = parse(std::str::from_utf8(&body).unwrap());
        assert_eq!(p.get("berth_sent_bytes_total", &[]), 42.0);
    }
    for method in [Method::POST, Method::PUT, Method::OPTIONS, Method::DELETE] {
        let (res, _) = call(&m, method).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()[header::ALLOW], "GET, HEAD");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    }
}

#[test]
fn http2_events_are_counted_by_kind() {
    let metrics = Metrics::new();
    metrics.http2(Http2Event::Connection);
    metrics.http2(Http2Event::Stream);
    metrics.http2(Http2Event::Stream);
    metrics.http2(Http2Event::RapidReset);
    let text = metrics.render();
    assert!(
        text.contains("berth_http2_events_total{event=\"connection\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("berth_http2_events_total{event=\"stream\"} 2\n"));
    assert!(text.contains("berth_http2_events_total{event=\"rapid_reset\"} 1\n"));
    assert!(text.contains("berth_http2_events_total{event=\"stalled_peer\"} 0\n"));
    assert_eq!(
        HTTP2_EVENTS[Http2Event::ShutdownGoaway as usize],
        "shutdown_goaway"
    );
}

#[test]
fn http3_events_are_counted_by_kind() {
    let metrics = Metrics::new();
    metrics.http3(Http3Event::Retry);
    metrics.http3(Http3Event::Stream);
    let text = metrics.render();
    assert!(
        text.contains("berth_http3_events_total{event=\"retry\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("berth_http3_events_total{event=\"refused\"} 0\n"));
    assert_eq!(
        HTTP3_EVENTS[Http3Event::ShutdownGoaway as usize],
        "shutdown_goaway"
    );
}
