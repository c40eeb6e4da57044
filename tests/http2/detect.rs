//! How a connection becomes HTTP/2: the h2c switch on a cleartext listener
//! (the preface, whole, in pieces or late; `Upgrade: h2c` not honoured),
//! ALPN on TLS; and curl as a second client.

use super::*;

#[tokio::test]
async fn http11_and_http2_share_the_cleartext_listener() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let addr = site.addr;
    let r = tokio::task::spawn_blocking(move || Client::connect(addr).request(get("/hello.txt")))
        .await
        .unwrap();
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    let mut c = site.connect().await;
    assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
    // HTTP/1.1 handlers see HTTP/1.1.
    let r = tokio::task::spawn_blocking(move || Client::connect(addr).request(get("/whoami/x")))
        .await
        .unwrap();
    assert!(r.body_str().contains("version=HTTP/1.1\n"), "{r:?}");
}

#[test]
fn upgrade_h2c_is_answered_over_http11_not_101() {
    let server = support::start_serve_dir(ServerConfig::default());
    let mut c = server.connect();
    let r = c.request(
        "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n\
         Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
    );
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_str(), HELLO_TXT);
    assert_eq!(r.header("upgrade"), None);
    // Still HTTP/1.1 on the same connection.
    let r = c.request(get("/"));
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.body_str(), INDEX_HTML);
}

#[test]
fn with_h2c_off_the_preface_gets_an_http11_error() {
    let mut config = ServerConfig::default();
    config.http2.h2c = false;
    let server = support::start_serve_dir(config);
    let mut c = server.connect();
    let mut hello = h2wire::PREFACE.to_vec();
    hello.extend(h2wire::settings(&[]));
    c.send(&hello);
    let r = c
        .try_read_response(false)
        .expect("an HTTP/1.1 response to the preface");
    assert_eq!(r.version, "HTTP/1.1");
    // "PRI * HTTP/2.0" read as an HTTP/1.1 request line: its version.
    assert_eq!(r.status, 505, "{r:?}");
    assert!(r.says_close(), "{r:?}");
    // And plain HTTP/1.1 still works there.
    assert_eq!(
        server.connect().request(get("/hello.txt")).body_str(),
        HELLO_TXT
    );
}

#[test]
fn a_preface_arriving_in_pieces_is_still_recognised() {
    use std::io::Write;
    let server = support::start_serve_dir(ServerConfig::default());
    let mut hello = h2wire::PREFACE.to_vec();
    hello.extend(h2wire::settings(&[]));
    // Within the 18 bytes that decide, at their end, and in the part the
    // h2 crate checks.
    for split in [1, 5, 17, 18, 20] {
        let stream = std::net::TcpStream::connect(server.addr).unwrap();
        stream.set_nodelay(true).unwrap();
        stream.set_write_timeout(Some(LIMIT)).unwrap();
        let mut conn = h2wire::Conn::new(stream);
        conn.authority = server.addr.to_string();
        conn.stream.write_all(&hello[..split]).unwrap();
        conn.stream.flush().unwrap();
        conn.stream.write_all(&hello[split..]).unwrap();
        let settings = conn
            .read_until(|f| f.kind == h2wire::Kind::Settings && !f.is_ack(), LIMIT)
            .unwrap_or_else(|e| panic!("split at {split}: {e}"))
            .unwrap_or_else(|| panic!("split at {split}: closed before SETTINGS"));
        assert!(!settings.is_ack());
        conn.send(&h2wire::settings_ack());
        let id = conn.get("/hello.txt");
        let r = conn
            .read_response(id, LIMIT)
            .unwrap_or_else(|e| panic!("split at {split}: {e}"));
        assert_eq!(r.status, 200, "split at {split}");
        assert_eq!(r.body, HELLO_TXT.as_bytes(), "split at {split}");
    }
}

#[test]
fn a_preface_arriving_after_the_connection_parked_is_still_http2() {
    // A client slow to send its preface (over 10 ms after connecting,
    // e.g. a loaded machine) finds its idle connection parked; the
    // connection must still be recognised as HTTP/2 when the preface
    // comes.
    let metrics = berth::server::Metrics::new();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        park_idle_after: Some(Duration::from_millis(10)),
        ..ServerConfig::default()
    };
    let site = Site::start(Via::H2c, config, app);
    let stream = std::net::TcpStream::connect(site.addr).unwrap();
    stream.set_nodelay(true).unwrap();
    stream.set_write_timeout(Some(LIMIT)).unwrap();
    // Bounded polling of the server's own gauge: parking is asynchronous.
    let parked = || {
        let text = metrics.render();
        text.contains("\nberth_parked_connections 1\n")
    };
    let start = std::time::Instant::now();
    while !parked() {
        assert!(start.elapsed() < LIMIT, "the idle connection never parked");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut conn = h2wire::Conn::new(stream);
    conn.authority = site.addr.to_string();
    let mut hello = h2wire::PREFACE.to_vec();
    hello.extend(h2wire::settings(&[]));
    conn.send(&hello);
    // What came back, looked at before it is parsed as frames.
    conn.stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut first = [0u8; 64];
    let n = conn
        .stream
        .peek(&mut first)
        .expect("an answer to the preface");
    assert!(
        !first[..n].starts_with(b"HTTP/"),
        "the late preface was answered as HTTP/1.1: {:?}",
        String::from_utf8_lossy(&first[..n])
    );
    let settings = conn
        .read_until(|f| f.kind == h2wire::Kind::Settings && !f.is_ack(), LIMIT)
        .expect("the server's SETTINGS")
        .expect("closed before SETTINGS");
    assert!(!settings.is_ack());
    conn.send(&h2wire::settings_ack());
    let id = conn.get("/hello.txt");
    let r = conn.read_response(id, LIMIT).expect("/hello.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, HELLO_TXT.as_bytes());
}

#[test]
fn a_short_http10_request_is_answered_at_once() {
    // 18 bytes, fewer than the preface's 24: it must not wait for more.
    let server = support::start_serve_dir(ServerConfig::default());
    let request = b"GET / HTTP/1.0\r\n\r\n";
    assert_eq!(request.len(), 18);
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    std::io::Write::write_all(&mut stream, request).unwrap();
    // The server's head timeout is 10 s: an answer within 3 s was not held.
    let (bytes, closed) = support::read_until_closed(&mut stream, Duration::from_secs(3));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text:?}");
    assert!(text.ends_with(INDEX_HTML), "{text:?}");
    assert!(
        closed.is_some(),
        "HTTP/1.0 without keep-alive: closed after"
    );
}

// ---- TLS: ALPN ----

#[cfg(feature = "self-signed")]
#[tokio::test]
async fn over_tls_alpn_picks_the_protocol() {
    let site = Site::start(Via::Tls, ServerConfig::default(), app);
    // h2 offered: HTTP/2.
    let mut c = H2::tls(site.addr, site.tls_config(&[b"h2", b"http/1.1"])).await;
    let r = c.get("/whoami/x", &[]).await;
    assert_eq!(r.version, Version::HTTP_2);
    assert!(r.body_str().contains("version=HTTP/2.0\n"));
    // Only http/1.1: HTTP/1.1 over TLS.
    let (addr, config) = (site.addr, site.tls_config(&[b"http/1.1"]));
    let r = tokio::task::spawn_blocking(move || {
        let mut c = tls_connect(addr, config).expect("handshake");
        assert_eq!(c.tls().alpn_protocol(), Some(&b"http/1.1"[..]));
        c.request(get("/whoami/x"))
    })
    .await
    .unwrap();
    assert_eq!(r.version, "HTTP/1.1");
    assert!(r.body_str().contains("version=HTTP/1.1\n"), "{r:?}");
}

#[cfg(feature = "self-signed")]
#[tokio::test]
async fn over_tls_with_http2_off_h2_is_not_offered() {
    let mut config = ServerConfig::default();
    config.http2.enabled = false;
    let site = Site::start(Via::Tls, config, app);
    let (addr, config) = (site.addr, site.tls_config(&[b"h2", b"http/1.1"]));
    let r = tokio::task::spawn_blocking(move || {
        let mut c = tls_connect(addr, config).expect("handshake");
        assert_eq!(c.tls().alpn_protocol(), Some(&b"http/1.1"[..]));
        c.request(get("/hello.txt"))
    })
    .await
    .unwrap();
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.body_str(), HELLO_TXT);
}

// ---- curl ----

#[test]
fn curl_speaks_http2_with_prior_knowledge() {
    let Some(curl) = curl() else { return };
    let server = support::start_serve_dir(ServerConfig::default());
    let base = format!("http://{}", server.addr);
    let out = run_curl(
        curl,
        &[
            "--http2-prior-knowledge",
            "-w",
            "\n%{http_code} %{http_version}",
            &format!("{base}/hello.txt"),
        ],
    );
    assert_eq!(out, format!("{HELLO_TXT}\n200 2"));
    // The big file, byte for byte.
    let file = server.tmp().join("big.out");
    let out = run_curl(
        curl,
        &[
            "--http2-prior-knowledge",
            "-o",
            file.to_str().unwrap(),
            "-w",
            "%{http_code} %{http_version} %{size_download}",
            &format!("{base}/big.bin"),
        ],
    );
    assert_eq!(out, format!("200 2 {BIG_LEN}"));
    assert!(std::fs::read(&file).unwrap() == big_content());
}

#[cfg(feature = "self-signed")]
#[test]
fn curl_negotiates_http2_over_tls_trusting_the_ca() {
    let Some(curl) = curl() else { return };
    let site = Site::start(Via::Tls, ServerConfig::default(), app);
    let ca = site.root.join("../ca.pem");
    std::fs::write(&ca, &site.cert.ca_pem).unwrap();
    let port = site.addr.port();
    let resolve = format!("localhost:{port}:127.0.0.1");
    for (extra, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let out = run_curl(
            curl,
            &[
                extra,
                "--cacert",
                ca.to_str().unwrap(),
                "--resolve",
                &resolve,
                "-w",
                "\n%{http_code} %{http_version}",
                &format!("https://localhost:{port}/hello.txt"),
            ],
        );
        assert_eq!(out, format!("{HELLO_TXT}\n200 {version}"), "{extra}");
    }
}
