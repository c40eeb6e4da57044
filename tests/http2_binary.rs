//! The `berth` binary over HTTP/2: h2c (prior knowledge) on its plain
//! listener and ALPN `h2` with `--tls-self-signed`, through curl and the
//! `h2` client; the access log line of an HTTP/2 request; and the flags
//! that wrap the files (`--auth`, `--cors`, `--health`, `--metrics`,
//! `--spa`, `--404`, `--listing`, compression) answering over HTTP/2 as
//! over HTTP/1.1.

mod support;

#[path = "support/h2client.rs"]
mod h2client;

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use berth::http::Method;
use h2client::H2;
use support::{
    BIG_LEN, Berth, HELLO_TXT, INDEX_HTML, big_content, curl, run_curl, spawn_berth, temp_root,
    tls_client_config_any_cert,
};

const LIMIT: Duration = Duration::from_secs(5);

/// `berth --port 0 ARGS ROOT` on a fresh test ROOT; `prepare` may add
/// files to ROOT first.
fn berth_with(args: &[&str], prepare: impl FnOnce(&Path)) -> (Berth, tempfile::TempDir) {
    let (tmp, root) = temp_root();
    prepare(&root);
    let mut all = vec!["--port", "0"];
    all.extend_from_slice(args);
    all.push(root.to_str().unwrap());
    (spawn_berth(&all, &[], tmp.path()), tmp)
}

fn berth(args: &[&str]) -> (Berth, tempfile::TempDir) {
    berth_with(args, |_| {})
}

/// The next access-log line (not one of berth's own `berth: ` lines)
/// containing `needle`.
fn log_line(berth: &mut Berth, needle: &str) -> String {
    berth
        .wait_stdout(LIMIT, |l| !l.starts_with("berth: ") && l.contains(needle))
        .unwrap_or_else(|| {
            panic!(
                "no access-log line with {needle:?}; stdout so far {:?}",
                berth.stdout_seen
            )
        })
}

/// A TLS client configuration for `--tls-self-signed` offering `h2`.
fn any_cert_h2() -> Arc<rustls::ClientConfig> {
    let mut config = (*tls_client_config_any_cert()).clone();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_plain_listener_answers_h2c_with_prior_knowledge() {
    let (mut berth, _tmp) = berth(&[]);
    if let Some(curl) = curl() {
        let out = run_curl(
            curl,
            &[
                "--http2-prior-knowledge",
                "-w",
                "\n%{http_code} %{http_version}",
                &format!("http://{}/hello.txt", berth.addr),
            ],
        );
        assert_eq!(out, format!("{HELLO_TXT}\n200 2"));
        // The status and the body bytes are logged.
        let line = log_line(&mut berth, "\"GET /hello.txt ");
        assert!(line.contains("\" 200 13 "), "{line}");
    }
    let addr = berth.addr;
    runtime().block_on(async {
        let mut c = H2::h2c(addr).await;
        let r = c.get("/hello.txt", &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body_str(), HELLO_TXT);
        assert_eq!(r.header("server"), Some("berth"));
        let r = c.get("/big.bin", &[]).await;
        assert_eq!(r.body.len(), BIG_LEN);
        assert!(r.body == big_content(), "big.bin differs");
        assert_eq!(c.get("/", &[]).await.body_str(), INDEX_HTML);
    });
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn tls_self_signed_answers_h2_by_alpn() {
    let (mut berth, _tmp) = berth(&["--tls-self-signed"]);
    assert!(
        berth.places[0].starts_with("https://"),
        "{:?}",
        berth.places
    );
    let port = berth.addr.port();
    if let Some(curl) = curl() {
        let out = run_curl(
            curl,
            &[
                "--http2",
                "-k",
                "-w",
                "\n%{http_code} %{http_version}",
                &format!("https://127.0.0.1:{port}/hello.txt"),
            ],
        );
        assert_eq!(out, format!("{HELLO_TXT}\n200 2"));
    }
    let addr = berth.addr;
    runtime().block_on(async {
        let mut c = H2::tls(addr, any_cert_h2()).await;
        let r = c.get("/hello.txt", &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body_str(), HELLO_TXT);
        assert!(c.get("/big.bin", &[]).await.body == big_content());
    });
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn the_access_log_names_http2_requests_http_2_0() {
    let Some(curl) = curl() else { return };
    for (format, want) in [
        ("common", "\"GET /hello.txt HTTP/2.0\" 200 13"),
        ("combined", "\"GET /hello.txt HTTP/2.0\" 200 13 "),
        ("json", "\"version\":\"HTTP/2.0\""),
    ] {
        let (mut berth, _tmp) = berth(&["--log", format]);
        run_curl(
            curl,
            &[
                "--http2-prior-knowledge",
                "-o",
                "/dev/null",
                &format!("http://{}/hello.txt", berth.addr),
            ],
        );
        let line = log_line(&mut berth, "/hello.txt");
        assert!(line.contains(want), "{format}: {line}");
    }
}

/// `--trusted-proxy`: a proxy in front that speaks HTTP/2 to berth has
/// its `X-Forwarded-For` believed as over HTTP/1.1 (the log names the
/// client); from an untrusted peer the field is ignored.
#[test]
fn trusted_proxies_name_the_client_over_http2() {
    let Some(curl) = curl() else { return };
    for (trusted, want) in [
        ("127.0.0.0/8", "\"remote\":\"198.51.100.9\""),
        ("10.0.0.0/8", "\"remote\":\"127.0.0.1\""),
    ] {
        let (mut berth, _tmp) = berth(&["--log", "json", "--trusted-proxy", trusted]);
        run_curl(
            curl,
            &[
                "--http2-prior-knowledge",
                "-H",
                "X-Forwarded-For: 198.51.100.9",
                "-o",
                "/dev/null",
                &format!("http://{}/hello.txt", berth.addr),
            ],
        );
        let line = log_line(&mut berth, "/hello.txt");
        assert!(line.contains(want), "{trusted}: {line}");
        assert!(line.contains("\"version\":\"HTTP/2.0\""), "{line}");
    }
}

/// The password of the `--auth` users.
const PASSWORD: &str = "correct horse battery staple";

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

#[test]
fn auth_challenges_and_admits_over_http2() {
    let spec = format!("alice:{}", bcrypt::hash(PASSWORD, 4).unwrap());
    let (mut berth, _tmp) = berth(&["--auth", &spec, "--health", "/healthz"]);
    let addr = berth.addr;
    runtime().block_on(async {
        let mut c = H2::h2c(addr).await;
        let right = basic("alice", PASSWORD);
        let wrong = basic("alice", "wrong");
        for headers in [&[][..], &[("authorization", wrong.as_str())][..]] {
            let r = c.get("/hello.txt", headers).await;
            assert_eq!(r.status, 401, "{headers:?}");
            assert_eq!(
                r.header("www-authenticate"),
                Some(r#"Basic realm="berth", charset="UTF-8""#)
            );
            assert!(!r.body_str().contains(HELLO_TXT));
        }
        let r = c.get("/hello.txt", &[("authorization", &right)]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body_str(), HELLO_TXT);
        let r = c.head("/hello.txt", &[]).await;
        assert_eq!(r.status, 401);
        // The health check needs no password.
        assert_eq!(c.get("/healthz", &[]).await.status, 200);
    });
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn cors_headers_and_preflights_over_http2() {
    let (mut berth, _tmp) = berth(&["--cors"]);
    let addr = berth.addr;
    runtime().block_on(async {
        let mut c = H2::h2c(addr).await;
        let origin = ("origin", "https://app.example");
        let r = c.get("/hello.txt", &[origin]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        let r = c
            .request(
                Method::OPTIONS,
                "/hello.txt",
                &[
                    origin,
                    ("access-control-request-method", "GET"),
                    ("access-control-request-headers", "x-token"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, 204, "{r:?}");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            r.header("access-control-allow-methods"),
            Some("GET, HEAD, OPTIONS")
        );
        assert_eq!(r.header("access-control-allow-headers"), Some("x-token"));
        assert_eq!(r.header("access-control-max-age"), Some("86400"));
        assert!(r.body.is_empty());
    });
    assert_eq!(berth.terminate().code(), Some(0));
}

/// The value of the sample `series` (as written, labels included).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn health_and_metrics_answer_over_http2_and_count_its_requests() {
    let (mut berth, _tmp) = berth(&["--health", "/healthz", "--metrics", "/metrics"]);
    let addr = berth.addr;
    let rt = runtime();
    let mut c = rt.block_on(H2::h2c(addr));
    rt.block_on(async {
        let r = c.get("/healthz", &[]).await;
        assert_eq!(r.status, 200);
        assert!(r.body_str().starts_with("ok"), "{r:?}");
        let r = c.head("/healthz", &[]).await;
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty());
        assert_eq!(c.get("/hello.txt", &[]).await.status, 200);
        assert_eq!(c.get("/hello.txt", &[]).await.status, 200);
        assert_eq!(c.get("/no-such-file", &[]).await.status, 404);
    });
    // Each exchange is counted before its access-log line is written:
    // once the five lines are out, the scrape sees all five. In any order:
    // a stream's task may log after the next stream's (the client has its
    // response once the codec wrote it, and a busy machine can deschedule
    // the task in between).
    let mut lines = Vec::new();
    for _ in 0..5 {
        lines.push(log_line(&mut berth, " HTTP/2.0\" "));
    }
    for (needle, count) in [
        ("\"GET /healthz ", 1),
        ("\"HEAD /healthz ", 1),
        ("\"GET /hello.txt ", 2),
        ("\"GET /no-such-file ", 1),
    ] {
        let found = lines.iter().filter(|l| l.contains(needle)).count();
        assert_eq!(found, count, "{needle}: {lines:?}");
    }
    let r = rt.block_on(c.get("/metrics", &[]));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = r.body_str();
    let requests = |method: &str, status: &str| {
        sample(
            text,
            &format!("berth_requests_total{{method_class=\"{method}\",status_class=\"{status}\"}}"),
        )
    };
    assert_eq!(requests("get", "2xx"), 3.0, "{text}");
    assert_eq!(requests("head", "2xx"), 1.0, "{text}");
    assert_eq!(requests("get", "4xx"), 1.0, "{text}");
    assert_eq!(sample(text, "berth_open_connections"), 1.0, "{text}");
    assert_eq!(sample(text, "berth_connections_total"), 1.0, "{text}");
    drop(c);
    drop(rt);
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn spa_and_404_pages_over_http2() {
    const NOT_FOUND_PAGE: &str = "<h1>not here</h1>\n";
    let (mut berth, _tmp) = berth_with(&["--spa", "index.html", "--404", "404.html"], |root| {
        std::fs::write(root.join("404.html"), NOT_FOUND_PAGE).unwrap()
    });
    let addr = berth.addr;
    runtime().block_on(async {
        let mut c = H2::h2c(addr).await;
        // A navigation to an app route: the SPA shell.
        let r = c
            .get("/app/settings", &[("accept", "text/html,*/*;q=0.8")])
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body_str(), INDEX_HTML);
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        // An asset: the 404 page.
        let r = c.get("/missing.js", &[("accept", "*/*")]).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.body_str(), NOT_FOUND_PAGE);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(
            r.header("content-length"),
            Some(NOT_FOUND_PAGE.len().to_string().as_str())
        );
    });
    assert_eq!(berth.terminate().code(), Some(0));
}

/// 8 KiB of text that compresses well.
fn text_page() -> String {
    "<p>berth over HTTP/2 compresses this line.</p>\n"
        .repeat(200)
        .chars()
        .take(8192)
        .collect()
}

#[test]
fn listings_and_default_compression_over_http2() {
    let (mut berth, _tmp) = berth_with(&["--listing"], |root| {
        std::fs::create_dir(root.join("files")).unwrap();
        std::fs::write(root.join("files/a-note.txt"), "a\n").unwrap();
        std::fs::write(root.join("page.html"), text_page()).unwrap();
    });
    let addr = berth.addr;
    runtime().block_on(async {
        let mut c = H2::h2c(addr).await;
        let r = c.get("/files/", &[]).await;
        assert_eq!(r.status, 200);
        assert!(r.body_str().contains("a-note.txt"), "{r:?}");
        let r = c.get("/page.html", &[("accept-encoding", "gzip")]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(r.header("vary"), Some("Accept-Encoding"));
        let mut page = String::new();
        flate2::read::GzDecoder::new(&r.body[..])
            .read_to_string(&mut page)
            .unwrap();
        assert_eq!(page, text_page());
    });
    assert_eq!(berth.terminate().code(), Some(0));
}
