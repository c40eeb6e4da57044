//! Operating the binary: the Prometheus endpoint (`--metrics`), health
//! draining on SIGTERM (`--health`, `--drain-delay`), the plain-HTTP
//! redirect listener (`--redirect-http`), HSTS, HTTP Basic authentication
//! (`--auth`, `--auth-path`, `--auth-insecure`), and the client address in
//! the access log behind a trusted proxy (`--trusted-proxy`).

mod support;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::{
    Berth, Client, HELLO_TXT, INDEX_HTML, Resp, get, read_until_closed, spawn_berth,
    tcp_with_timeouts, temp_root, tls_client_config_any_cert, tls_connect,
};

const LIMIT: Duration = Duration::from_secs(5);

/// `berth --port 0 ARGS ROOT` on a fresh test ROOT.
fn berth(args: &[&str]) -> (Berth, tempfile::TempDir) {
    let (tmp, root) = temp_root();
    let mut all = vec!["--port", "0"];
    all.extend_from_slice(args);
    all.push(root.to_str().unwrap());
    (spawn_berth(&all, &[], tmp.path()), tmp)
}

fn request(method: &str, path: &str, headers: &[&str]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// A free TCP port on 127.0.0.1 (the probe is closed before it is used).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---- metrics ----

/// The samples of a Prometheus text exposition, by series (`name{labels}`
/// as written). Checks every family has `# HELP` and `# TYPE`.
fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    let mut typed = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.push(rest.split(' ').next().unwrap().to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let name = series.split('{').next().unwrap();
        assert!(
            typed.iter().any(|t| name.starts_with(t.as_str())),
            "{name} has no # TYPE"
        );
        assert!(
            samples.insert(series.to_string(), value).is_none(),
            "{series} twice"
        );
    }
    samples
}

fn requests(m: &HashMap<String, f64>, method: &str, status: &str) -> f64 {
    let key =
        format!("berth_requests_total{{method_class=\"{method}\",status_class=\"{status}\"}}");
    *m.get(&key).unwrap_or_else(|| panic!("no {key}"))
}

fn total_requests(m: &HashMap<String, f64>) -> f64 {
    m.iter()
        .filter(|(k, _)| k.starts_with("berth_requests_total{"))
        .map(|(_, v)| v)
        .sum()
}

fn scrape<S: std::io::Read + Write>(c: &mut Client<S>) -> HashMap<String, f64> {
    let r = c.request(get("/metrics"));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    parse_metrics(r.body_str())
}

#[test]
fn metrics_count_requests_bytes_and_connections() {
    let (mut berth, _tmp) = berth(&["--metrics", "/metrics", "--no-compress"]);
    let mut c = Client::connect(berth.addr);
    let sent = [
        get("/"),
        get("/no-such-file"),
        request("HEAD", "/hello.txt", &[]),
    ];
    assert_eq!(c.request(&sent[0]).status, 200);
    assert_eq!(c.request(&sent[1]).status, 404);
    c.send(&sent[2]);
    assert_eq!(c.read_head_response().status, 200);
    // One connection, in order: each exchange is counted before the next
    // request is read.
    let m = scrape(&mut c);
    assert_eq!(requests(&m, "get", "2xx"), 1.0);
    assert_eq!(requests(&m, "get", "4xx"), 1.0);
    assert_eq!(requests(&m, "head", "2xx"), 1.0);
    assert_eq!(total_requests(&m), 3.0, "{m:?}");
    assert_eq!(m["berth_request_duration_seconds_count"], 3.0);
    assert_eq!(m["berth_request_duration_seconds_bucket{le=\"+Inf\"}"], 3.0);
    assert!(m["berth_request_duration_seconds_sum"] >= 0.0);
    assert!(m["berth_open_connections"] >= 1.0, "{m:?}");
    assert!(m["berth_connections_total"] >= 1.0);
    let request_bytes: usize = sent.iter().map(Vec::len).sum();
    assert_eq!(
        m["berth_received_bytes_total"], request_bytes as f64,
        "received bytes are the three requests"
    );
    let bodies = INDEX_HTML.len() + "404 Not Found".len();
    assert!(m["berth_sent_bytes_total"] > bodies as f64, "{m:?}");
    assert_eq!(m["berth_tls_handshake_failures_total"], 0.0);
    assert_eq!(m["berth_proxy_header_failures_total"], 0.0);

    // The first scrape counts too.
    let m = scrape(&mut c);
    assert_eq!(requests(&m, "get", "2xx"), 2.0);
    assert_eq!(m["berth_request_duration_seconds_count"], 4.0);
    // Other methods on the endpoint: 405; HEAD is answered.
    let r = c.request(request("POST", "/metrics", &["Content-Length: 0"]));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    c.send(request("HEAD", "/metrics", &[]));
    assert_eq!(c.read_head_response().status, 200);
    let m = scrape(&mut c);
    assert_eq!(requests(&m, "post", "4xx"), 1.0);
    assert_eq!(requests(&m, "head", "2xx"), 2.0);
    assert_eq!(
        total_requests(&m),
        m["berth_request_duration_seconds_count"]
    );
    // A second connection shows in the gauge and the total.
    let mut d = Client::connect(berth.addr);
    let m = scrape(&mut d);
    assert!(m["berth_open_connections"] >= 2.0, "{m:?}");
    assert!(m["berth_connections_total"] >= 2.0);
    drop((c, d));
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn metrics_count_failed_tls_handshakes() {
    let (mut berth, _tmp) = berth(&["--tls-self-signed", "--metrics", "/metrics"]);
    let config = tls_client_config_any_cert();
    let mut c = tls_connect(berth.addr, config.clone()).unwrap();
    assert_eq!(scrape(&mut c)["berth_tls_handshake_failures_total"], 0.0);
    for garbage in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"\x00\x00garbage\xff",
    ] {
        let mut tcp = tcp_with_timeouts(berth.addr);
        tcp.write_all(garbage).unwrap();
        assert!(read_until_closed(&mut tcp, LIMIT).1.is_some());
    }
    // Counted just after the close: poll.
    let deadline = Instant::now() + LIMIT;
    loop {
        let m = scrape(&mut c);
        let failures = m["berth_tls_handshake_failures_total"];
        if failures == 2.0 {
            break;
        }
        assert!(failures < 2.0, "{failures}");
        assert!(Instant::now() < deadline, "failures stayed at {failures}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Successful handshakes are not failures.
    let mut d = tls_connect(berth.addr, config).unwrap();
    assert_eq!(scrape(&mut d)["berth_tls_handshake_failures_total"], 2.0);
    drop((c, d));
    assert_eq!(berth.terminate().code(), Some(0));
}

// ---- health and draining ----

fn health(addr: SocketAddr) -> Resp {
    Client::connect(addr).request(get("/healthz"))
}

#[test]
fn sigterm_drains_with_a_failing_health_check_then_exits_0() {
    let (mut berth, _tmp) = berth(&["--health", "/healthz", "--drain-delay", "2s"]);
    let addr = berth.addr;
    let r = health(addr);
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "ok");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(!r.says_close());
    let mut kept = Client::connect(addr);
    let r = kept.request(get("/hello.txt"));
    assert!(!r.says_close());

    let signalled = Instant::now();
    berth.signal("-TERM");
    let deadline = signalled + Duration::from_millis(1500);
    let r = loop {
        let r = health(addr);
        if r.status == 503 {
            break r;
        }
        assert_eq!(r.status, 200);
        assert!(Instant::now() < deadline, "health still 200 after SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(r.body_str(), "draining");
    assert!(r.says_close(), "503 without Connection: close: {r:?}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Still serving meanwhile, but closing connections after each answer.
    let r = kept.request(get("/hello.txt"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    assert!(r.says_close(), "{r:?}");
    assert!(kept.is_closed());
    let r = Client::connect(addr).request(get("/hello.txt"));
    assert_eq!(r.status, 200);
    assert!(r.says_close());
    assert!(
        signalled.elapsed() < Duration::from_millis(1900),
        "too slow to check the drain window"
    );
    berth
        .wait_stderr(LIMIT, |l| l.contains("draining for 2000 ms"))
        .expect("no draining line");

    let status = berth
        .wait_exit(LIMIT)
        .expect("berth did not exit after the drain delay");
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "{:?}", berth.stderr_seen);
    assert!(
        took >= Duration::from_millis(1900),
        "exited {took:?} after SIGTERM, before the 2 s drain delay"
    );
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "still accepting after exit"
    );
}

#[test]
fn a_second_sigterm_cuts_the_drain_delay_short() {
    let (mut berth, _tmp) = berth(&["--health", "/healthz", "--drain-delay", "30s"]);
    berth.signal("-TERM");
    let deadline = Instant::now() + LIMIT;
    while health(berth.addr).status != 503 {
        assert!(Instant::now() < deadline, "never drained");
        std::thread::sleep(Duration::from_millis(10));
    }
    berth.signal("-TERM");
    let status = berth
        .wait_exit(Duration::from_secs(3))
        .expect("the second SIGTERM did not end the drain delay");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn health_answers_get_and_head_only_without_the_disk() {
    let (mut berth, tmp) = berth(&["--health", "/healthz"]);
    let mut c = Client::connect(berth.addr);
    c.send(request("HEAD", "/healthz", &[]));
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    // The path is exact.
    assert_eq!(c.request(get("/healthz/")).status, 404);
    assert_eq!(c.request(get("/healthz?x=1")).status, 200);
    // Even with ROOT gone.
    std::fs::remove_dir_all(tmp.path().join("root")).unwrap();
    assert_eq!(c.request(get("/healthz")).status, 200);
    assert_eq!(berth.terminate().code(), Some(0));
}

// ---- redirect listener and HSTS ----

struct Redirecting {
    berth: Berth,
    https: SocketAddr,
    http: SocketAddr,
    _tmp: tempfile::TempDir,
}

fn redirecting(https_port: u16, http_port: u16) -> Redirecting {
    let (tmp, root) = temp_root();
    let (https, http) = (https_port.to_string(), http_port.to_string());
    let mut berth = spawn_berth(
        &[
            "--port",
            &https,
            "--tls-self-signed",
            "--redirect-http",
            &http,
            "--hsts",
            "600",
            "--health",
            "/healthz",
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    let line = berth
        .wait_stdout(LIMIT, |l| l.starts_with("berth: redirecting http://"))
        .expect("no redirect line");
    let http = line
        .strip_prefix("berth: redirecting http://")
        .and_then(|rest| rest.strip_suffix(" to https"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("bad redirect line {line:?}"));
    Redirecting {
        https: berth.addr,
        http,
        berth,
        _tmp: tmp,
    }
}

fn redirect_of(http: SocketAddr, raw: &str) -> Resp {
    let mut c = Client::connect(http);
    c.send(raw);
    if raw.starts_with("HEAD ") {
        c.read_head_response()
    } else {
        c.read_response()
    }
}

#[test]
fn plain_http_is_redirected_to_https_on_the_clients_host() {
    let mut r = redirecting(free_port(), free_port());
    let (http, p) = (r.http, r.https.port());
    assert_ne!(http.port(), p);
    let cases = [
        (
            "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: localhost\r\n\r\n",
            format!("https://localhost:{p}/a/b?x=1&y=%20"),
        ),
        (
            "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
            format!("https://example.com:{p}/"),
        ),
        (
            "GET /x HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
            format!("https://example.com:{p}/x"),
        ),
        (
            "GET /x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
            format!("https://[::1]:{p}/x"),
        ),
        (
            "GET //evil.com/x HTTP/1.1\r\nHost: localhost\r\n\r\n",
            format!("https://localhost:{p}//evil.com/x"),
        ),
        (
            "HEAD /h HTTP/1.1\r\nHost: localhost\r\n\r\n",
            format!("https://localhost:{p}/h"),
        ),
        (
            "POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc",
            format!("https://localhost:{p}/form"),
        ),
        (
            "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n",
            format!("https://localhost:{p}/"),
        ),
    ];
    for (raw, location) in cases {
        let res = redirect_of(http, raw);
        assert_eq!(res.status, 308, "{raw:?}: {res:?}");
        assert_eq!(res.header("location"), Some(location.as_str()), "{raw:?}");
        assert_eq!(
            res.header("strict-transport-security"),
            None,
            "HSTS over plain HTTP (RFC 6797 §7.2): {raw:?}"
        );
    }
    // Nothing from the request may move the redirect to another host.
    for raw in [
        "GET / HTTP/1.1\r\nHost: evil.com@x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: user:pw@localhost\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: \r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a.com/evil\r\n\r\n",
    ] {
        let res = redirect_of(http, raw);
        assert_eq!(res.status, 400, "{raw:?}: {res:?}");
        assert_eq!(res.header("location"), None, "{raw:?}");
    }
    // The https side answers, with HSTS on every response.
    let config = tls_client_config_any_cert();
    let mut c = tls_connect(r.https, config).unwrap();
    for (path, status) in [("/hello.txt", 200), ("/nope", 404), ("/healthz", 200)] {
        let res = c.request(get(path));
        assert_eq!(res.status, status, "{path}");
        assert_eq!(
            res.header("strict-transport-security"),
            Some("max-age=600"),
            "{path}"
        );
    }
    drop(c);
    assert_eq!(r.berth.terminate().code(), Some(0));
    // Both listeners are closed.
    for addr in [r.https, http] {
        assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
    }
}

#[test]
fn redirect_with_port_0_names_the_bound_https_port() {
    let mut r = redirecting(0, 0);
    let res = redirect_of(r.http, "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(res.status, 308);
    let want = format!("https://localhost:{}/x", r.https.port());
    assert_eq!(res.header("location"), Some(want.as_str()));
    assert_eq!(r.berth.terminate().code(), Some(0));
}

#[test]
fn hsts_and_redirect_need_tls() {
    let (tmp, root) = temp_root();
    let root = root.to_str().unwrap();
    for flags in [["--hsts", "600"], ["--redirect-http", "0"]] {
        let mut args = vec!["--port", "0", root];
        args.extend_from_slice(&flags);
        let (code, stderr) = support::run_berth_to_exit(&args, &[], tmp.path());
        assert_eq!(code, Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(flags[0]), "{stderr}");
    }
    // Without --hsts, HTTPS responses carry no HSTS header.
    let (mut berth, _tmp) = berth(&["--tls-self-signed"]);
    let mut c = tls_connect(berth.addr, tls_client_config_any_cert()).unwrap();
    let res = c.request(get("/hello.txt"));
    assert_eq!(res.status, 200);
    assert_eq!(res.header("strict-transport-security"), None);
    drop(c);
    assert_eq!(berth.terminate().code(), Some(0));
}

// ---- basic authentication ----

const PASSWORD: &str = "correct horse battery";

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Authorization: Basic {}",
        b64(format!("{user}:{password}").as_bytes())
    )
}

fn bcrypt_spec(user: &str) -> String {
    format!("{user}:{}", bcrypt::hash(PASSWORD, 4).unwrap())
}

fn argon2_spec(user: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let hash = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(PASSWORD.as_bytes())
        .unwrap();
    format!("{user}:{hash}")
}

fn assert_challenge(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {r:?}");
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Basic realm="berth", charset="UTF-8""#),
        "{what}"
    );
    assert!(!r.body_str().contains(HELLO_TXT), "{what}");
}

/// Waits until berth has written `n` lines to stdout after its startup
/// lines (the access log).
fn wait_log_lines(berth: &mut Berth, n: usize) -> Vec<String> {
    let log = |b: &Berth| {
        b.stdout_seen
            .iter()
            .filter(|l| !l.starts_with("berth: "))
            .cloned()
            .collect::<Vec<_>>()
    };
    while log(berth).len() < n {
        if berth.wait_stdout(LIMIT, |_| true).is_none() {
            panic!("only {:?} logged, wanted {n}", log(berth));
        }
    }
    log(berth)
}

#[test]
fn basic_auth_through_the_binary() {
    let (alice, bob) = (bcrypt_spec("alice"), argon2_spec("bob"));
    let (mut berth, _tmp) = berth(&[
        "--auth",
        &alice,
        "--auth",
        &bob,
        "--health",
        "/healthz",
        "--metrics",
        "/metrics",
    ]);
    let addr = berth.addr;
    let ask =
        |headers: &[&str]| Client::connect(addr).request(request("GET", "/hello.txt", headers));
    let mut sent = 0;
    assert_challenge(&ask(&[]), "no credentials");
    for user in ["alice", "bob"] {
        let r = ask(&[&basic(user, PASSWORD)]);
        assert_eq!(r.status, 200, "{user}: {r:?}");
        assert_eq!(r.body_str(), HELLO_TXT);
    }
    assert_challenge(&ask(&[&basic("alice", "wrong")]), "wrong password");
    assert_challenge(&ask(&[&basic("bob", "")]), "empty password");
    assert_challenge(&ask(&[&basic("mallory", PASSWORD)]), "unknown user");
    sent += 6;
    for malformed in [
        "Authorization: Basic !!!not-base64!!!".to_string(),
        format!(
            "Authorization: Bearer {}",
            b64(format!("alice:{PASSWORD}").as_bytes())
        ),
        format!(
            "Authorization: Basic {}",
            b64(format!("alice{PASSWORD}").as_bytes())
        ),
        "Authorization: Basic".to_string(),
    ] {
        assert_challenge(&ask(&[&malformed]), &malformed);
        sent += 1;
    }
    // Two Authorization fields, one of them right: refused.
    assert_challenge(
        &ask(&[&basic("alice", PASSWORD), &basic("alice", PASSWORD)]),
        "repeated field",
    );
    // Every method is protected.
    let mut c = Client::connect(addr);
    c.send(request("HEAD", "/hello.txt", &[]));
    assert_eq!(c.read_head_response().status, 401);
    sent += 2;
    // Operations endpoints need no password.
    let mut c = Client::connect(addr);
    assert_eq!(c.request(get("/healthz")).status, 200);
    assert_eq!(c.request(get("/metrics")).status, 200);
    sent += 2;

    // Nothing of the credentials reaches the access log.
    let log = wait_log_lines(&mut berth, sent);
    let token = b64(format!("alice:{PASSWORD}").as_bytes());
    for line in &log {
        for secret in [
            PASSWORD,
            token.as_str(),
            "Basic ",
            "uthorization",
            "$2b$",
            "$argon2",
        ] {
            assert!(!line.contains(secret), "{secret:?} in log line {line:?}");
        }
    }
    assert_eq!(
        log.iter().filter(|l| l.contains("\" 401 ")).count(),
        10,
        "{log:#?}"
    );
    // The users let in are the access log's `%u`; the others are `-`.
    for user in ["alice", "bob"] {
        let logged = format!("127.0.0.1 - {user} [");
        assert_eq!(
            log.iter().filter(|l| l.starts_with(&logged)).count(),
            1,
            "{user}: {log:#?}"
        );
    }
    assert!(
        log.iter()
            .filter(|l| l.contains("\" 401 "))
            .all(|l| l.starts_with("127.0.0.1 - - [")),
        "{log:#?}"
    );
    assert_eq!(berth.terminate().code(), Some(0));
    for line in &berth.stderr_seen {
        assert!(!line.contains(PASSWORD) && !line.contains(&token), "{line}");
    }
}

#[test]
fn auth_path_protects_only_its_prefix() {
    let alice = bcrypt_spec("alice");
    let (tmp, root) = temp_root();
    std::fs::create_dir(root.join("private")).unwrap();
    std::fs::write(root.join("private/doc.txt"), "private doc\n").unwrap();
    let mut berth = spawn_berth(
        &[
            "--port",
            "0",
            "--auth",
            &alice,
            "--auth-path",
            "/private",
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    let mut c = Client::connect(berth.addr);
    assert_eq!(c.request(get("/")).body_str(), INDEX_HTML);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    for path in [
        "/private/doc.txt",
        "/private/",
        "/%70rivate/doc.txt",
        "/PRIVATE/doc.txt",
        "//private/doc.txt",
        "/x/../private/doc.txt",
    ] {
        assert_challenge(&Client::connect(berth.addr).request(get(path)), path);
    }
    let r = c.request(request(
        "GET",
        "/private/doc.txt",
        &[&basic("alice", PASSWORD)],
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "private doc\n");
    drop(c);
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn auth_refusals_at_startup() {
    let (tmp, root) = temp_root();
    let root = root.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["--port", "0", root];
        all.extend_from_slice(args);
        support::run_berth_to_exit(&all, &[], tmp.path())
    };
    // A plain password instead of a hash.
    let (code, stderr) = run(&["--auth", "alice:hunter2"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--auth"), "{stderr}");
    assert!(
        stderr.contains("bcrypt") || stderr.contains("argon2"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "the password echoed: {stderr}");
    // No colon at all.
    let (code, _) = run(&["--auth", "alice"]);
    assert_eq!(code, Some(2));
    // --auth-path without --auth, or not a path.
    let alice = bcrypt_spec("alice");
    assert_eq!(run(&["--auth-path", "/private"]).0, Some(2));
    assert_eq!(
        run(&["--auth", &alice, "--auth-path", "private"]).0,
        Some(2)
    );
    // Passwords over plain HTTP on a public address.
    let (code, stderr) = run(&["--auth", &alice, "--bind", "0.0.0.0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--auth-insecure"), "{stderr}");
}

#[test]
fn auth_on_a_public_address_with_auth_insecure_or_tls() {
    let alice = bcrypt_spec("alice");
    for extra in [&["--auth-insecure"][..], &["--tls-self-signed"][..]] {
        let mut args = vec!["--auth", &alice, "--bind", "0.0.0.0"];
        args.extend_from_slice(extra);
        let (mut berth, _tmp) = berth(&args);
        assert!(berth.addr.ip().is_unspecified(), "{}", berth.addr);
        let local = SocketAddr::from(([127, 0, 0, 1], berth.addr.port()));
        let hello = request("GET", "/hello.txt", &[&basic("alice", PASSWORD)]);
        let (status, challenge) = if extra[0] == "--tls-self-signed" {
            let mut c = tls_connect(local, tls_client_config_any_cert()).unwrap();
            let ok = c.request(&hello).status;
            (ok, c.request(get("/hello.txt")).status)
        } else {
            let mut c = Client::connect(local);
            let ok = c.request(&hello).status;
            (ok, c.request(get("/hello.txt")).status)
        };
        assert_eq!((status, challenge), (200, 401), "{extra:?}");
        assert_eq!(berth.terminate().code(), Some(0));
    }
}

// ---- trusted proxy in the access log ----

/// Sends `headers` on GET /hello.txt and returns its access-log line.
fn logged(berth: &mut Berth, marker: &str, headers: &[&str]) -> String {
    let path = format!("/hello.txt?{marker}");
    let r = Client::connect(berth.addr).request(request("GET", &path, headers));
    assert_eq!(r.status, 200);
    berth
        .wait_stdout(LIMIT, |l| l.contains(&path))
        .unwrap_or_else(|| panic!("no log line for {path}: {:?}", berth.stdout_seen))
}

#[test]
fn a_trusted_proxy_names_the_client_in_the_access_log() {
    let (mut berth, _tmp) = berth(&["--trusted-proxy", "127.0.0.1"]);
    let xff = "X-Forwarded-For: 203.0.113.9";
    let line = logged(&mut berth, "xff", &[xff]);
    assert!(line.starts_with("203.0.113.9 - - ["), "{line}");
    let line = logged(
        &mut berth,
        "chain",
        &["X-Forwarded-For: 6.6.6.6, 198.51.100.4"],
    );
    assert!(line.starts_with("198.51.100.4 - - ["), "{line}");
    let line = logged(
        &mut berth,
        "fwd",
        &["Forwarded: for=\"[2001:db8::7]:4711\""],
    );
    assert!(line.starts_with("2001:db8::7 - - ["), "{line}");
    let line = logged(&mut berth, "none", &[]);
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    let line = logged(&mut berth, "junk", &["X-Forwarded-For: not-an-address"]);
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    for args in [&[][..], &["--trusted-proxy", "10.0.0.0/8"][..]] {
        let (mut berth, _tmp) = berth(args);
        let line = logged(&mut berth, "xff", &["X-Forwarded-For: 203.0.113.9"]);
        assert!(line.starts_with("127.0.0.1 - - ["), "{args:?}: {line}");
        let line = logged(&mut berth, "fwd", &["Forwarded: for=203.0.113.9"]);
        assert!(line.starts_with("127.0.0.1 - - ["), "{args:?}: {line}");
        assert_eq!(berth.terminate().code(), Some(0));
    }
}

#[test]
fn trusted_proxy_in_the_json_log_and_bad_values() {
    let (mut berth, tmp) = berth(&["--trusted-proxy", "127.0.0.0/8,::1", "--log", "json"]);
    let line = logged(&mut berth, "json", &["X-Forwarded-For: 203.0.113.9"]);
    assert!(line.contains("\"remote\":\"203.0.113.9\""), "{line}");
    assert_eq!(berth.terminate().code(), Some(0));
    let root = tmp.path().join("root");
    for bad in ["10.0.0.1/8", "not-an-ip", "10.0.0.0/33"] {
        let (code, stderr) = support::run_berth_to_exit(
            &[
                "--port",
                "0",
                "--trusted-proxy",
                bad,
                root.to_str().unwrap(),
            ],
            &[],
            tmp.path(),
        );
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert!(stderr.contains(bad), "{stderr}");
    }
}

#[test]
fn unparsable_requests_are_not_counted_as_get() {
    let (mut berth, _tmp) = berth(&["--metrics", "/metrics"]);
    // Not a method (`@` is not a token character): 400 before any method
    // is known. Counting it as a GET skews the GET error rate.
    let mut bad = Client::connect(berth.addr);
    let r = bad.request("B@D / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 400);
    assert!(bad.read_until_close().1);
    // The record lands right after the close: poll for it.
    let deadline = Instant::now() + LIMIT;
    let m = loop {
        let m = scrape(&mut Client::connect(berth.addr));
        let errors: f64 = m
            .iter()
            .filter(|(k, _)| k.contains("status_class=\"4xx\""))
            .map(|(_, v)| v)
            .sum();
        if errors >= 1.0 {
            break m;
        }
        assert!(Instant::now() < deadline, "the 400 was never counted");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        requests(&m, "get", "4xx"),
        0.0,
        "a 400 without a method counted as GET"
    );
    assert_eq!(requests(&m, "other", "4xx"), 1.0);
    assert_eq!(berth.terminate().code(), Some(0));
}
