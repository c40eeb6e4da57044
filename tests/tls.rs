//! TLS over real sockets: the library's `Server::tls` (handshakes in TLS 1.2
//! and 1.3, keep-alive, bodies both ways, a large file that must not take
//! the `sendfile` path, ALPN), the handshake deadline and what non-TLS bytes
//! get, certificate reload (`TlsConfig::reload`), and the binary's
//! `--tls-cert`/`--tls-key` with SIGHUP and `--tls-self-signed`.

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use berth::{Router, ServeDir, Server, ServerConfig, Timeouts, TlsConfig};
use rustls::version::{TLS12, TLS13};
use support::{
    Background, Client, HELLO_TXT, INDEX_HTML, TestCert, TlsStream, big_content, ca_signed_cert,
    get, read_until_closed, rustls_error, serve_in_background, sha256_fingerprint, spawn_berth,
    tcp_with_timeouts, temp_root, tls_client_config, tls_client_config_any_cert, tls_connect,
};

const H11: &[u8] = b"http/1.1";

/// ServeDir on `root`, plus `POST /echo` (the body back).
fn app(root: &Path) -> Router {
    Router::new()
        .post("/echo", support::echo)
        .fallback(ServeDir::new(root))
}

/// A TLS server with `tls` and `config` serving `app(root)` on 127.0.0.1.
fn tls_server(tls: TlsConfig, config: ServerConfig, root: &Path) -> Background {
    let server = Server::try_bind("127.0.0.1:0")
        .expect("bind")
        .config(config)
        .tls(tls);
    serve_in_background(server, app(root))
}

/// A fresh CA-signed certificate in `dir`, loaded with `from_pem_files`.
fn files_config(dir: &Path, cert: &TestCert) -> TlsConfig {
    let (cert_path, key_path) = cert.write_to(dir);
    TlsConfig::from_pem_files(&cert_path, &key_path).expect("load PEM files")
}

/// One server with a CA-signed certificate and default configuration.
struct Fixture {
    server: Background,
    cert: TestCert,
    tmp: tempfile::TempDir,
}

fn fixture(config: ServerConfig) -> Fixture {
    let (tmp, root) = temp_root();
    let cert = ca_signed_cert("berth test CA");
    let tls = files_config(tmp.path(), &cert);
    Fixture {
        server: tls_server(tls, config, &root),
        cert,
        tmp,
    }
}

impl Fixture {
    fn connect(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
        alpn: &[&[u8]],
    ) -> std::io::Result<Client<TlsStream>> {
        let config = tls_client_config(&[&self.cert.ca_der], versions, alpn);
        tls_connect(self.server.addr(), config)
    }
}

fn tls_timeouts(handshake: Duration) -> ServerConfig {
    ServerConfig {
        timeouts: Timeouts {
            tls_handshake: handshake,
            ..Timeouts::default()
        },
        ..ServerConfig::default()
    }
}

#[test]
fn tls13_handshake_then_several_requests_on_one_connection() {
    let f = fixture(ServerConfig::default());
    let mut c = f.connect(&[&TLS13], &[H11]).expect("TLS 1.3 handshake");
    assert_eq!(
        c.tls().protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_eq!(c.peer_cert(), f.cert.cert_der);
    let r = c.request(get("/hello.txt"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    assert!(!r.says_close(), "{r:?}");
    let r = c.request(get("/"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), INDEX_HTML);
    c.send("HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some(HELLO_TXT.len().to_string().as_str())
    );
    let r = c.request(get("/no-such-file"));
    assert_eq!(r.status, 404);
    // Pipelined: two requests in one TLS record.
    c.send([get("/hello.txt"), get("/")].concat());
    assert_eq!(c.read_response().body_str(), HELLO_TXT);
    assert_eq!(c.read_response().body_str(), INDEX_HTML);
    f.server.shutdown();
}

#[test]
fn tls12_handshake_and_keep_alive() {
    let f = fixture(ServerConfig::default());
    let mut c = f.connect(&[&TLS12], &[H11]).expect("TLS 1.2 handshake");
    assert_eq!(
        c.tls().protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(c.tls().alpn_protocol(), Some(H11));
    for _ in 0..3 {
        let r = c.request(get("/hello.txt"));
        assert_eq!(r.status, 200);
        assert_eq!(r.body_str(), HELLO_TXT);
    }
}

#[test]
fn request_bodies_are_echoed_over_tls() {
    let f = fixture(ServerConfig::default());
    let mut c = f.connect(&[&TLS13, &TLS12], &[H11]).unwrap();
    // Larger than a TLS record (16 KiB), so it spans several.
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let r = c.request([head.as_bytes(), &body].concat());
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body.len(), body.len());
    assert!(r.body == body, "echoed body differs");
    // Chunked on the same connection.
    let r = c.request(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "hello, world");
    let r = c.request(get("/hello.txt"));
    assert_eq!(r.body_str(), HELLO_TXT);
}

#[test]
fn a_1_mib_file_arrives_intact_over_tls() {
    // Files of 64 KiB and more take the sendfile path on plain TCP; over TLS
    // the bytes must go through rustls instead, or the client would get
    // plaintext in the middle of the TLS stream.
    let f = fixture(ServerConfig::default());
    let expected = big_content();
    for versions in [&[&TLS13][..], &[&TLS12][..]] {
        let mut c = f.connect(versions, &[H11]).unwrap();
        let r = c.request(get("/big.bin"));
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-length"),
            Some(expected.len().to_string().as_str())
        );
        assert_eq!(r.body.len(), expected.len());
        assert!(r.body == expected, "big.bin differs over TLS");
        // HEAD: the length, no body; the connection stays in step.
        c.send("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        let r = c.read_head_response();
        assert_eq!(
            r.header("content-length"),
            Some(expected.len().to_string().as_str())
        );
        // A large range, then the connection is still in step.
        let r = c.request("GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100000-\r\n\r\n");
        assert_eq!(r.status, 206);
        assert!(r.body == expected[100_000..], "range differs over TLS");
        let r = c.request(get("/hello.txt"));
        assert_eq!(r.body_str(), HELLO_TXT);
    }
}

#[test]
fn alpn_follows_the_clients_choice_h2_first() {
    let f = fixture(ServerConfig::default());
    // Offering h2 and http/1.1: h2 is chosen (RFC 9113 §3.2).
    let c = f.connect(&[&TLS13], &[b"h2", H11]).unwrap();
    assert_eq!(c.tls().alpn_protocol(), Some(&b"h2"[..]));
    // Only http/1.1: HTTP/1.1.
    let mut c = f.connect(&[&TLS12], &[H11]).unwrap();
    assert_eq!(c.tls().alpn_protocol(), Some(H11));
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    // No ALPN at all: plain HTTP/1.1 over TLS.
    let mut c = f.connect(&[&TLS13], &[]).unwrap();
    assert_eq!(c.tls().alpn_protocol(), None);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
}

#[test]
fn with_http2_off_alpn_is_http11_only_and_h2_only_is_refused() {
    let mut config = ServerConfig::default();
    config.http2.enabled = false;
    let f = fixture(config);
    let mut c = f.connect(&[&TLS13], &[b"h2", H11]).unwrap();
    assert_eq!(c.tls().alpn_protocol(), Some(H11));
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    // Only h2: refused with no_application_protocol (RFC 7301 §3.2).
    for versions in [&[&TLS13][..], &[&TLS12][..]] {
        let err = match f.connect(versions, &[b"h2"]) {
            Ok(c) => panic!(
                "handshake offering only h2 succeeded (ALPN {:?})",
                c.tls().alpn_protocol()
            ),
            Err(e) => e,
        };
        assert_eq!(
            rustls_error(&err),
            Some(&rustls::Error::AlertReceived(
                rustls::AlertDescription::NoApplicationProtocol
            )),
            "{err}"
        );
    }
}

#[test]
fn sessions_resume_and_a_resumed_connection_serves() {
    let f = fixture(ServerConfig::default());
    for versions in [&[&TLS13][..], &[&TLS12][..]] {
        let mut config = (*tls_client_config(&[&f.cert.ca_der], versions, &[H11])).clone();
        config.resumption = rustls::client::Resumption::default();
        let config = std::sync::Arc::new(config);
        let mut first = tls_connect(f.server.addr(), config.clone()).unwrap();
        assert_eq!(
            first.tls().handshake_kind(),
            Some(rustls::HandshakeKind::Full)
        );
        // TLS 1.3 tickets arrive after the handshake: a request makes sure
        // the client has read them.
        assert_eq!(first.request(get("/hello.txt")).status, 200);
        let mut second = tls_connect(f.server.addr(), config).unwrap();
        assert_eq!(
            second.tls().handshake_kind(),
            Some(rustls::HandshakeKind::Resumed),
            "{versions:?}"
        );
        assert_eq!(second.request(get("/hello.txt")).body_str(), HELLO_TXT);
    }
}

#[test]
fn a_client_trusting_another_ca_fails_the_handshake() {
    let f = fixture(ServerConfig::default());
    let other = ca_signed_cert("unrelated CA");
    let config = tls_client_config(&[&other.ca_der], &[&TLS13], &[H11]);
    let err = tls_connect(f.server.addr(), config)
        .err()
        .expect("handshake against an untrusted CA succeeded");
    assert!(
        matches!(
            rustls_error(&err),
            Some(rustls::Error::InvalidCertificate(_))
        ),
        "{err}"
    );
    // The server is fine afterwards.
    let mut c = f.connect(&[&TLS13], &[H11]).unwrap();
    assert_eq!(c.request(get("/hello.txt")).status, 200);
}

#[test]
fn a_silent_client_is_closed_at_the_handshake_deadline() {
    let f = fixture(tls_timeouts(Duration::from_millis(300)));
    let mut tcp = tcp_with_timeouts(f.server.addr());
    let (bytes, closed) = read_until_closed(&mut tcp, Duration::from_secs(5));
    let after = closed.expect("silent connection still open after 5 s");
    assert!(bytes.is_empty(), "{bytes:?}");
    assert!(
        after >= Duration::from_millis(250) && after < Duration::from_millis(2500),
        "closed after {after:?}, handshake timeout 300 ms"
    );
}

#[test]
fn a_client_stalling_mid_handshake_is_closed_at_the_deadline() {
    let f = fixture(tls_timeouts(Duration::from_millis(300)));
    let hello = client_hello();
    let mut tcp = tcp_with_timeouts(f.server.addr());
    // Half a ClientHello, then nothing.
    tcp.write_all(&hello[..hello.len() / 2]).unwrap();
    let (bytes, closed) = read_until_closed(&mut tcp, Duration::from_secs(5));
    let after = closed.expect("stalled handshake still open after 5 s");
    assert!(!bytes.starts_with(b"HTTP/"), "{bytes:?}");
    assert!(
        after >= Duration::from_millis(250) && after < Duration::from_millis(2500),
        "closed after {after:?}, handshake timeout 300 ms"
    );
    // A complete handshake right after still works.
    let mut c = f.connect(&[&TLS13], &[H11]).unwrap();
    assert_eq!(c.request(get("/hello.txt")).status, 200);
}

#[test]
fn garbage_instead_of_a_handshake_is_closed_at_once() {
    // The default 10 s handshake timeout: a close within 2 s comes from
    // rejecting the bytes, not from the deadline.
    let f = fixture(ServerConfig::default());
    for garbage in [
        &b"\x00\x01\x02\x03 this is not TLS at all \xff\xfe\r\n\r\n"[..],
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0x00, 0x00][..], // record too long
        &[0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5][..], // data before handshake
    ] {
        let mut tcp = tcp_with_timeouts(f.server.addr());
        tcp.write_all(garbage).unwrap();
        let (bytes, closed) = read_until_closed(&mut tcp, Duration::from_secs(5));
        let after = closed.unwrap_or_else(|| panic!("{garbage:?}: still open after 5 s"));
        assert!(after < Duration::from_secs(2), "{garbage:?}: {after:?}");
        assert!(!bytes.windows(5).any(|w| w == b"HTTP/"), "{bytes:?}");
        // At most a TLS alert record (content type 21).
        assert!(
            bytes.is_empty() || bytes[0] == 0x15,
            "{garbage:?}: unexpected bytes {bytes:?}"
        );
    }
}

#[test]
fn plain_http_on_the_tls_port_is_a_400_saying_so_then_close() {
    // As nginx: "The plain HTTP request was sent to HTTPS port".
    let f = fixture(ServerConfig::default());
    let mut tcp = tcp_with_timeouts(f.server.addr());
    tcp.write_all(&get("/hello.txt")).unwrap();
    let (bytes, closed) = read_until_closed(&mut tcp, Duration::from_secs(5));
    let after = closed.expect("plain HTTP on the TLS port: still open after 5 s");
    assert!(after < Duration::from_secs(2), "{after:?}");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
    assert!(text.contains("this port speaks HTTPS"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    // Never the file itself.
    assert!(!text.contains("hello"), "{text}");
}

/// The bytes of a real ClientHello (rustls's first flight).
fn client_hello() -> Vec<u8> {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(tls_client_config_any_cert(), name).unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    assert_eq!(out[0], 0x16, "not a handshake record");
    out
}

#[test]
fn a_client_hello_on_a_plain_port_is_a_400_then_close() {
    // 0x16 cannot start a method (not a token character): the parser
    // refuses the request line at once.
    let server = support::start();
    let mut tcp = tcp_with_timeouts(server.addr);
    tcp.write_all(&client_hello()).unwrap();
    let (bytes, closed) = read_until_closed(&mut tcp, Duration::from_secs(5));
    let after = closed.expect("still open 5 s after a ClientHello on a plain port");
    assert!(after < Duration::from_secs(2), "{after:?}");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 400 "), "{text:?}");
    assert!(
        text.to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{text:?}"
    );
}

#[test]
fn reload_swaps_the_certificate_for_new_connections_only() {
    let (tmp, root) = temp_root();
    let first = ca_signed_cert("first CA");
    let second = ca_signed_cert("second CA");
    let tls = files_config(tmp.path(), &first);
    assert_eq!(tls.fingerprint(), sha256_fingerprint(&first.cert_der));
    assert!(
        tls.certificate_pem().is_none(),
        "files have no generated PEM"
    );
    let server = tls_server(tls.clone(), ServerConfig::default(), &root);
    let both = tls_client_config(&[&first.ca_der, &second.ca_der], &[&TLS13], &[H11]);
    let connect = || tls_connect(server.addr(), both.clone()).expect("handshake");

    let mut before = connect();
    assert_eq!(before.peer_cert(), first.cert_der);
    assert_eq!(before.request(get("/hello.txt")).status, 200);

    // New files (another CA, another key), then reload.
    second.write_to(tmp.path());
    tls.reload().expect("reload with valid files");
    assert_eq!(tls.fingerprint(), sha256_fingerprint(&second.cert_der));
    let mut after = connect();
    assert_eq!(after.peer_cert(), second.cert_der, "reload not seen");
    assert_eq!(after.request(get("/hello.txt")).body_str(), HELLO_TXT);
    // A client trusting only the first CA now fails.
    let only_first = tls_client_config(&[&first.ca_der], &[&TLS13], &[H11]);
    assert!(tls_connect(server.addr(), only_first).is_err());
    // The connection made before the reload goes on.
    assert_eq!(before.request(get("/hello.txt")).body_str(), HELLO_TXT);

    // A broken certificate file: the reload fails, naming the file, and
    // nothing changes.
    let cert_path = tmp.path().join("cert.pem");
    std::fs::write(&cert_path, "this is not a certificate\n").unwrap();
    let err = tls
        .reload()
        .expect_err("reload of a garbage cert succeeded");
    assert!(err.to_string().contains("cert.pem"), "{err}");
    assert_eq!(tls.fingerprint(), sha256_fingerprint(&second.cert_der));
    assert_eq!(connect().peer_cert(), second.cert_der);

    // A certificate whose key is not the key file's: refused as well.
    let third = ca_signed_cert("third CA");
    std::fs::write(&cert_path, &third.cert_pem).unwrap();
    let err = tls.reload().expect_err("mismatched key accepted");
    assert!(err.to_string().contains("does not match"), "{err}");
    assert_eq!(connect().peer_cert(), second.cert_der);

    // A missing key file.
    std::fs::write(&cert_path, &second.cert_pem).unwrap();
    std::fs::remove_file(tmp.path().join("key.pem")).unwrap();
    assert!(tls.reload().is_err());
    assert_eq!(connect().peer_cert(), second.cert_der);
    server.shutdown();
}

#[test]
fn from_pem_files_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let a = ca_signed_cert("a");
    let b = ca_signed_cert("b");
    let (cert, key) = a.write_to(tmp.path());
    assert!(TlsConfig::from_pem_files(&cert, &key).is_ok());
    let missing = tmp.path().join("missing.pem");
    assert!(TlsConfig::from_pem_files(&missing, &key).is_err());
    assert!(TlsConfig::from_pem_files(&cert, &missing).is_err());
    let other_key = tmp.path().join("other-key.pem");
    std::fs::write(&other_key, &b.key_pem).unwrap();
    let err = TlsConfig::from_pem_files(&cert, &other_key).expect_err("mismatched key");
    assert!(err.to_string().contains("does not match"), "{err}");
    let empty = tmp.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    assert!(TlsConfig::from_pem_files(&empty, &key).is_err());
    assert!(TlsConfig::from_pem_files(&cert, &empty).is_err());
    // The key in the certificate's place.
    assert!(TlsConfig::from_pem_files(&key, &key).is_err());
    // The Debug form names the files and the fingerprint, never the key.
    let tls = TlsConfig::from_pem_files(&cert, &key).unwrap();
    let debug = format!("{tls:?}");
    assert!(debug.contains("cert.pem"), "{debug}");
    assert!(debug.contains(&tls.fingerprint()), "{debug}");
    assert!(!debug.contains("PRIVATE"), "{debug}");
}

#[test]
fn self_signed_config_serves_the_certificate_it_describes() {
    let (_tmp, root) = temp_root();
    let tls = TlsConfig::self_signed(&["localhost", "127.0.0.1"]).unwrap();
    let pem = tls
        .certificate_pem()
        .expect("a generated certificate has a PEM");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    // Reloading a generated certificate changes nothing.
    let fingerprint = tls.fingerprint();
    tls.reload().unwrap();
    assert_eq!(tls.fingerprint(), fingerprint);
    let server = tls_server(tls.clone(), ServerConfig::default(), &root);
    // Trust exactly the PEM it gives.
    let der = rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
        .map(|d: rustls_pki_types::CertificateDer<'static>| d.to_vec())
        .unwrap();
    let config = tls_client_config(&[&der], &[&TLS13, &TLS12], &[H11]);
    let mut c = tls_connect(server.addr(), config).expect("handshake trusting the PEM");
    assert_eq!(c.peer_cert(), der);
    assert_eq!(sha256_fingerprint(&der), fingerprint);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    server.shutdown();
}

#[test]
fn curl_fetches_over_tls_trusting_the_ca() {
    // A cross-check with another TLS stack (skipped without curl).
    if !Path::new("/usr/bin/curl").exists() {
        eprintln!("skipped: no /usr/bin/curl");
        return;
    }
    let f = fixture(ServerConfig::default());
    let ca = f.tmp.path().join("ca.pem");
    std::fs::write(&ca, &f.cert.ca_pem).unwrap();
    let port = f.server.addr().port();
    let url = format!("https://localhost:{port}/hello.txt");
    let resolve = format!("localhost:{port}:127.0.0.1");
    // curl negotiates h2 in ALPN when it can (`--http2` is its default
    // over TLS), HTTP/1.1 when told to.
    for (version, protocol) in [
        (&["--tlsv1.3"][..], "2"),
        (&["--tlsv1.2", "--tls-max", "1.2"][..], "2"),
        (&["--tlsv1.3", "--http1.1"][..], "1.1"),
    ] {
        let out = std::process::Command::new("/usr/bin/curl")
            .args(["-sS", "--max-time", "5", "--cacert"])
            .arg(&ca)
            .args(["--resolve", &resolve])
            .args(version)
            .args(["-w", "\n%{http_code} %{http_version}", &url])
            .output()
            .expect("run curl");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "curl {version:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stdout,
            format!("{HELLO_TXT}\n200 {protocol}"),
            "{version:?}"
        );
    }
}

// ---- the binary ----

const LIMIT: Duration = Duration::from_secs(5);

/// New handshakes until one presents `want` (polling with a deadline).
fn wait_for_cert(addr: SocketAddr, config: &std::sync::Arc<rustls::ClientConfig>, want: &[u8]) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let mut c = tls_connect(addr, config.clone()).expect("handshake");
        if c.peer_cert() == want {
            assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served within {LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn binary_serves_pem_files_and_reloads_them_on_sighup() {
    let (tmp, root) = temp_root();
    let first = ca_signed_cert("first CA");
    let second = ca_signed_cert("second CA");
    let (cert, key) = first.write_to(tmp.path());
    let mut berth = spawn_berth(
        &[
            "--port",
            "0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    assert!(
        berth.places[0].starts_with("https://"),
        "{:?}",
        berth.places
    );
    let addr = berth.addr;
    let both = tls_client_config(&[&first.ca_der, &second.ca_der], &[&TLS13], &[H11]);
    let mut c = tls_connect(addr, both.clone()).unwrap();
    assert_eq!(c.peer_cert(), first.cert_der);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    // Plain HTTP on the same port is told so (400), never served.
    let mut plain = Client::connect(addr);
    plain.send(get("/hello.txt"));
    let (bytes, closed) = plain.read_until_close();
    assert!(closed && bytes.starts_with(b"HTTP/1.1 400 "), "{bytes:?}");
    assert!(
        !bytes
            .windows(HELLO_TXT.len())
            .any(|w| w == HELLO_TXT.as_bytes())
    );

    second.write_to(tmp.path());
    berth.signal("-HUP");
    wait_for_cert(addr, &both, &second.cert_der);
    let line = berth
        .wait_stderr(LIMIT, |l| l.contains("certificate reloaded"))
        .expect("no reload line on stderr");
    assert!(
        line.contains(&sha256_fingerprint(&second.cert_der)),
        "{line}"
    );
    // The connection from before the reload still works.
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);

    // A broken file: the reload fails loudly and the second certificate
    // stays.
    std::fs::write(&cert, "garbage\n").unwrap();
    berth.signal("-HUP");
    let line = berth
        .wait_stderr(LIMIT, |l| l.contains("reload failed"))
        .expect("no line on stderr for a failed reload");
    assert!(line.contains("keeping the current one"), "{line}");
    let mut c = tls_connect(addr, both.clone()).unwrap();
    assert_eq!(c.peer_cert(), second.cert_der);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    drop(c);
    let status = berth.terminate();
    assert_eq!(status.code(), Some(0), "stderr: {:?}", berth.stderr_seen);
}

#[test]
fn binary_refuses_unusable_tls_files_at_startup() {
    let (tmp, root) = temp_root();
    let a = ca_signed_cert("a");
    let (cert, _) = a.write_to(tmp.path());
    let bad_key = tmp.path().join("bad-key.pem");
    std::fs::write(&bad_key, ca_signed_cert("b").key_pem).unwrap();
    let root = root.to_str().unwrap();
    let (code, stderr) = support::run_berth_to_exit(
        &[
            "--port",
            "0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            bad_key.to_str().unwrap(),
            root,
        ],
        &[],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("does not match"), "{stderr}");
    // --tls-cert without --tls-key.
    let (code, stderr) = support::run_berth_to_exit(
        &["--port", "0", "--tls-cert", cert.to_str().unwrap(), root],
        &[],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn binary_self_signed_prints_the_served_certificates_fingerprint() {
    let (tmp, root) = temp_root();
    let mut berth = spawn_berth(
        &["--port", "0", "--tls-self-signed", root.to_str().unwrap()],
        &[],
        tmp.path(),
    );
    let line = berth
        .wait_stdout(LIMIT, |l| l.contains("fingerprint"))
        .expect("no fingerprint line");
    let printed = line.rsplit(' ').next().unwrap().to_string();
    assert_eq!(printed.len(), 32 * 3 - 1, "{line}");
    let mut c = tls_connect(berth.addr, tls_client_config_any_cert()).unwrap();
    let der = c.peer_cert();
    assert_eq!(sha256_fingerprint(&der), printed, "{line}");
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    // The certificate is valid for localhost: trusting it alone verifies.
    let pinned = tls_client_config(&[&der], &[&TLS13], &[H11]);
    let mut c = tls_connect(berth.addr, pinned).expect("verify against the pinned cert");
    assert_eq!(c.request(get("/")).body_str(), INDEX_HTML);
    // SIGHUP with a generated certificate keeps it.
    berth.signal("-HUP");
    let again = tls_connect(berth.addr, tls_client_config_any_cert()).unwrap();
    assert_eq!(again.peer_cert(), der);
    let _ = TcpStream::connect(berth.addr).unwrap();
    let status = berth.terminate();
    assert_eq!(status.code(), Some(0), "stderr: {:?}", berth.stderr_seen);
}

#[test]
fn binary_self_signed_writes_its_certificate_for_curl_and_names_itself() {
    let (tmp, root) = temp_root();
    let pem = tmp.path().join("berth.pem");
    let mut berth = spawn_berth(
        &[
            "--port",
            "0",
            "--tls-self-signed",
            "--tls-self-signed-pem",
            pem.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    let line = berth
        .wait_stdout(LIMIT, |l| l.contains("--cacert"))
        .expect("no line saying where the certificate is");
    assert!(line.contains(pem.to_str().unwrap()), "{line}");
    let text = std::fs::read_to_string(&pem).unwrap();
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{text}");
    // A subject that says what it is.
    let c = tls_connect(berth.addr, tls_client_config_any_cert()).unwrap();
    let subject = b"berth self-signed development certificate for localhost";
    assert!(c.peer_cert().windows(subject.len()).any(|w| w == subject));
    if let Some(curl) = support::curl() {
        let url = format!("https://localhost:{}/hello.txt", berth.addr.port());
        let out = support::run_curl(curl, &["--cacert", pem.to_str().unwrap(), &url]);
        assert_eq!(out, HELLO_TXT);
    }
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn graceful_shutdown_closes_idle_tls_connections_promptly() {
    let f = fixture(ServerConfig::default());
    let mut c = f.connect(&[&TLS13], &[H11]).unwrap();
    assert_eq!(c.request(get("/hello.txt")).status, 200);
    // Shutdown grace and keep-alive are 10 s and 5 s: an idle connection
    // must be closed at once, not waited for.
    let took = f
        .server
        .shutdown_timed(Duration::from_secs(4))
        .expect("serve() still running 4 s after shutdown with an idle TLS connection");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(c.is_closed());
}

#[test]
fn idle_tls_keep_alive_connections_time_out() {
    let f = fixture(ServerConfig {
        timeouts: Timeouts {
            keep_alive: Duration::from_millis(300),
            ..Timeouts::default()
        },
        ..ServerConfig::default()
    });
    let mut c = f.connect(&[&TLS13], &[H11]).unwrap();
    assert_eq!(c.request(get("/hello.txt")).status, 200);
    let start = Instant::now();
    assert!(c.is_closed(), "idle TLS connection still open");
    let after = start.elapsed();
    assert!(
        after >= Duration::from_millis(250) && after < Duration::from_millis(2500),
        "{after:?}"
    );
}

#[test]
fn graceful_shutdown_does_not_wait_for_a_stalled_handshake() {
    // A plain server closes a silent new connection at shutdown at once;
    // on a TLS listener the same client holds serve() until the handshake
    // timeout (10 s by default) or the grace period ends.
    for stall in [&b""[..], &client_hello()[..40]] {
        let f = fixture(ServerConfig::default());
        let mut silent = tcp_with_timeouts(f.server.addr());
        silent.write_all(stall).unwrap();
        // The server has accepted it once a complete handshake after it
        // succeeded (accepts are in order on one listener).
        let mut c = f.connect(&[&TLS13], &[H11]).unwrap();
        assert_eq!(c.request(get("/hello.txt")).status, 200);
        let took = f.server.shutdown_timed(Duration::from_secs(4));
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(2)),
            "shutdown took {took:?} with a connection stalled in the TLS handshake"
        );
    }
}

/// Streams `part 0\n` .. `part 4\n` (chunked to HTTP/1.1, close-delimited
/// to HTTP/1.0).
async fn streamed(_req: berth::Request) -> berth::Response {
    let (tx, body) = berth::Body::channel(1);
    tokio::spawn(async move {
        for i in 0..5 {
            if tx.send(format!("part {i}\n")).await.is_err() {
                return;
            }
        }
    });
    berth::Response::new(body)
}

const STREAMED: &str = "part 0\npart 1\npart 2\npart 3\npart 4\n";

/// Reads the raw TLS stream to its end: `Ok(bytes)` only when the server
/// ended it with close_notify (rustls reports a bare TCP close as
/// `UnexpectedEof`).
fn read_to_close_notify(c: &mut Client<TlsStream>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut c.stream, &mut out)?;
    Ok(out)
}

#[test]
fn streamed_bodies_and_closes_over_tls() {
    let (_tmp, root) = temp_root();
    let tls = TlsConfig::self_signed(&["localhost"]).unwrap();
    let server = Server::try_bind("127.0.0.1:0").unwrap().tls(tls);
    let server = serve_in_background(
        server,
        Router::new()
            .get("/stream", streamed)
            .fallback(ServeDir::new(&root)),
    );
    let config = tls_client_config_any_cert();
    // Chunked to HTTP/1.1, then the connection goes on.
    let mut c = tls_connect(server.addr(), config.clone()).unwrap();
    let r = c.request(get("/stream"));
    assert_eq!(r.framing, support::Framing::Chunked);
    assert_eq!(r.body_str(), STREAMED);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    // `Connection: close`: the response, then close_notify.
    c.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.body_str(), HELLO_TXT);
    let rest = read_to_close_notify(&mut c).expect("closed without close_notify");
    assert!(rest.is_empty(), "{rest:?}");
    drop(c);
    // HTTP/1.0: the body is delimited by the close, so only close_notify
    // tells a complete body from a truncated one.
    let mut c = tls_connect(server.addr(), config).unwrap();
    c.send("GET /stream HTTP/1.0\r\n\r\n");
    let all = read_to_close_notify(&mut c).expect("close-delimited body without close_notify");
    let text = String::from_utf8(all).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    assert_eq!(body, STREAMED);
    drop(c);
    server.shutdown();
}

#[test]
fn binary_tls_handshake_timeout_flag() {
    let (tmp, root) = temp_root();
    let mut berth = spawn_berth(
        &[
            "--port",
            "0",
            "--tls-self-signed",
            "--tls-handshake-timeout",
            "300ms",
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    let mut tcp = tcp_with_timeouts(berth.addr);
    let (bytes, closed) = read_until_closed(&mut tcp, LIMIT);
    let after = closed.expect("silent client still connected");
    assert!(bytes.is_empty(), "{bytes:?}");
    assert!(
        after >= Duration::from_millis(250) && after < Duration::from_millis(2500),
        "closed after {after:?} with --tls-handshake-timeout 300ms"
    );
    let status = berth.terminate();
    assert_eq!(status.code(), Some(0));
}
