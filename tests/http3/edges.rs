//! The edges of HTTP/3: bad input ends only its own connection (garbage
//! datagrams, malformed frames); a new client is asked to validate its
//! address (Retry) past the handshake threshold, as under a flood of
//! Initials from addresses that never answer; the connection cap is
//! shared with TCP; TLS responses over TCP advertise HTTP/3 with
//! `Alt-Svc` when it is on, and only then; a certificate reload reaches
//! QUIC handshakes.

use berth::Metrics;
use rustls::version::{TLS12, TLS13};

use super::*;

#[tokio::test]
async fn garbage_datagrams_change_nothing_for_anyone() {
    let site = Site::start(ServerConfig::default(), app);
    let mut c = site.connect().await;
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for size in [1, 7, 20, 100, 1200, 1350, 1500] {
        let mut junk = vec![0u8; size];
        for b in &mut junk {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        // Some of it dressed as a long-header Initial of QUIC v1.
        if size >= 1200 {
            junk[0] = 0xc3;
            junk[1..5].copy_from_slice(&1u32.to_be_bytes());
            junk[5] = 8;
        }
        socket.send_to(&junk, site.addr).unwrap();
    }
    // The connection made before, and a new one, both serve.
    let r = c.get("/hello.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    c.close().await;
    still_serves(&site).await;
}

/// A raw QUIC connection speaking ALPN `h3`, for frames the h3 client
/// never sends.
async fn raw_quic(site: &Site) -> quinn::Connection {
    let endpoint = h3client::client_endpoint(&site.cert.ca_der);
    let connecting = endpoint.connect(site.addr, "localhost").unwrap();
    within("QUIC handshake", connecting).await.unwrap()
}

#[tokio::test]
async fn a_malformed_request_stream_ends_only_its_connection() {
    let site = Site::start(ServerConfig::default(), app);
    let mut bystander = site.connect().await;
    let quic = raw_quic(&site).await;
    let (mut send, _recv) = quic.open_bi().await.unwrap();
    // RFC 9114 §4.1: a request stream must open with HEADERS; a DATA
    // frame first is a connection error of type H3_FRAME_UNEXPECTED.
    send.write_all(&[0x00, 0x03, b'a', b'b', b'c'])
        .await
        .unwrap();
    send.finish().unwrap();
    let e = within("the connection to close", quic.closed()).await;
    assert!(
        matches!(&e, quinn::ConnectionError::ApplicationClosed(close) if close.error_code == 0x105u32.into()),
        "closed with {e:?}"
    );
    // Bytes that are no HTTP/3 frame at all, on another connection.
    let quic = raw_quic(&site).await;
    let (mut send, _recv) = quic.open_bi().await.unwrap();
    send.write_all(&[0x01, 0xff, 0xff]).await.unwrap();
    send.finish().unwrap();
    let _ = within("the stream or connection to fail", quic.closed()).await;

    let r = bystander.get("/hello.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    bystander.close().await;
    still_serves(&site).await;
}

#[tokio::test]
async fn past_the_threshold_new_clients_prove_their_address_with_a_retry() {
    let metrics = Metrics::new();
    let mut config = ServerConfig {
        metrics: Some(metrics.clone()),
        ..ServerConfig::default()
    };
    // Zero: every client is asked (quinn's client answers a Retry itself).
    config.http3.retry_threshold = 0;
    let site = Site::start(config, app);
    for _ in 0..2 {
        still_serves(&site).await;
    }
    let text = metrics.render();
    // At least one Retry per client: a client's Initial sent again
    // under load (before the Retry reached it) is asked again.
    let retries: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("berth_http3_events_total{event=\"retry\"} "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(retries >= 2, "{text}");
    assert!(text.contains("berth_http3_events_total{event=\"connection\"} 2\n"));

    // Under the threshold nobody is asked.
    let metrics = Metrics::new();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        ..ServerConfig::default()
    };
    let site = Site::start(config, app);
    still_serves(&site).await;
    assert!(
        metrics
            .render()
            .contains("berth_http3_events_total{event=\"retry\"} 0\n")
    );
}

#[tokio::test]
async fn the_connection_cap_is_shared_with_tcp() {
    // Two places: the TCP accept loop always holds one for the next TCP
    // connection (it takes a place before it accepts, so that TCP clients
    // wait in the listen backlog at the cap).
    let config = ServerConfig {
        max_connections: 2,
        ..ServerConfig::default()
    };
    let site = Site::start(config, app);
    // A TLS connection over TCP takes one, the accept loop the other...
    let tls = support::tls_client_config(&[&site.cert.ca_der], &[&TLS13, &TLS12], &[b"http/1.1"]);
    let mut tcp = support::tls_connect(site.addr, tls).unwrap();
    let r = tcp.request(support::get("/hello.txt"));
    assert_eq!(r.status, 200);
    // ...so a QUIC client is refused (it would fall back to TCP).
    let refused = H3::try_connect(site.addr, &site.cert.ca_der).await;
    assert!(refused.is_err(), "a QUIC connection was taken over the cap");
    drop(tcp);
    // Once the TCP connection is gone, QUIC gets the place.
    let connected = within("a place under the cap", async {
        loop {
            if let Ok(c) = H3::try_connect(site.addr, &site.cert.ca_der).await {
                break c;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    connected.close().await;
}

#[tokio::test]
async fn tls_responses_over_tcp_advertise_http3_only_when_it_is_on() {
    let want = |port: u16| format!("h3=\":{port}\"; ma=86400");
    for http3 in [true, false] {
        let site = Site::start_with(ServerConfig::default(), http3, app);
        let expected = http3.then(|| want(site.addr.port()));
        // HTTP/1.1 over TLS.
        let tls =
            support::tls_client_config(&[&site.cert.ca_der], &[&TLS13, &TLS12], &[b"http/1.1"]);
        let mut c = support::tls_connect(site.addr, tls).unwrap();
        let r = c.request(support::get("/hello.txt"));
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("alt-svc"),
            expected.as_deref(),
            "HTTP/1.1, http3={http3}"
        );
        // Error responses too: the client may switch whatever it asked.
        let r = c.request(support::get("/missing"));
        assert_eq!(r.header("alt-svc"), expected.as_deref());
        // HTTP/2 over TLS.
        let tls = support::tls_client_config(&[&site.cert.ca_der], &[&TLS13, &TLS12], &[b"h2"]);
        let mut h2 = h2client::H2::tls(site.addr, tls).await;
        let r = h2.get("/hello.txt", &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("alt-svc"),
            expected.as_deref(),
            "HTTP/2, http3={http3}"
        );
        // And QUIC answers only when it is on.
        let quic = H3::try_connect(site.addr, &site.cert.ca_der).await;
        assert_eq!(quic.is_ok(), http3);
        if let Ok(c) = quic {
            c.close().await;
        }
    }
}

#[tokio::test]
async fn http3_without_tls_is_an_error_from_serve() {
    let server = Server::try_bind("127.0.0.1:0").unwrap().http3(true);
    let e = server
        .serve(|_req: Request| async { "never" })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("HTTP/3 needs TLS"), "{e}");
}

#[tokio::test]
async fn a_certificate_reload_reaches_quic_handshakes() {
    let (tmp, root) = temp_root();
    let first = ca_signed_cert("berth h3 first CA");
    let (cert_path, key_path) = first.write_to(tmp.path());
    let tls = TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    let server = Server::try_bind("127.0.0.1:0")
        .unwrap()
        .tls(tls.clone())
        .http3(true);
    let server = serve_in_background(server, ServeDir::new(&root));
    let addr = server.addr();
    let c = H3::connect(addr, &first.ca_der).await;
    c.close().await;

    let second = ca_signed_cert("berth h3 second CA");
    second.write_to(tmp.path());
    tls.reload().expect("reload");
    let c = H3::try_connect(addr, &second.ca_der).await;
    assert!(
        c.is_ok(),
        "the new certificate is not served: {:?}",
        c.err()
    );
    c.unwrap().close().await;
    assert!(
        H3::try_connect(addr, &first.ca_der).await.is_err(),
        "the old certificate is still served"
    );
    server.shutdown();
}

/// `n` QUIC Initial packets, each opening a different connection (its own
/// connection ID): what a real client sends first, captured on a socket
/// that never answers.
async fn captured_initials(n: usize, ca_der: &[u8]) -> Vec<Vec<u8>> {
    let sink = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let endpoint = h3client::client_endpoint(ca_der);
    let mut initials = Vec::new();
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 65536];
    while initials.len() < n {
        pending.push(
            endpoint
                .connect(sink.local_addr().unwrap(), "localhost")
                .unwrap(),
        );
        let (len, _) = within("a client's Initial", sink.recv_from(&mut buf))
            .await
            .unwrap();
        initials.push(buf[..len].to_vec());
    }
    initials
}

#[tokio::test]
async fn a_flood_of_initials_from_unverified_addresses_is_answered_with_retry() {
    let metrics = Metrics::new();
    let mut config = ServerConfig {
        metrics: Some(metrics.clone()),
        ..ServerConfig::default()
    };
    config.http3.retry_threshold = 4;
    let site = Site::start(config, app);
    // Twelve Initials from twelve addresses that never answer (spoofed, as
    // far as the server can tell): the first four start handshakes that
    // hang; past the threshold, each new one gets a Retry, for which the
    // server keeps no state.
    let initials = captured_initials(12, &site.cert.ca_der).await;
    let mut spoofed = Vec::new();
    for initial in &initials {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.send_to(initial, site.addr).unwrap();
        spoofed.push(socket);
    }
    let retries = |text: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.starts_with("berth_http3_events_total{event=\"retry\"}"))
            .unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    within("the Retries", async {
        while retries(&metrics.render()) < 8 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    // A real client meanwhile proves its address (quinn's client answers
    // the Retry) and is served.
    still_serves(&site).await;
    assert_eq!(retries(&metrics.render()), 9);
    drop(spoofed);
}
