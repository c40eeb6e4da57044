//! HTTP/1.1 Upgrade and WebSockets, with a real WebSocket client
//! (tokio-tungstenite's) against the echo app of examples/websocket.rs.

use std::io::{Read, Write};
use std::time::Duration;

use berth::{Request, Response, ServerConfig, Timeouts};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{self, TestServer};
use crate::websocket_app;

fn serve(config: ServerConfig) -> TestServer {
    support::start_with(config, websocket_app::app())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &TestServer) -> Client {
    let url = format!("ws://{}/ws", server.addr);
    let (client, res) = tokio_tungstenite::connect_async(url)
        .await
        .expect("handshake");
    assert_eq!(res.status(), 101);
    client
}

/// The next message that is not a pong or ping, within 10 s.
async fn next(client: &mut Client) -> Option<Message> {
    tokio::time::timeout(Duration::from_secs(10), client.next())
        .await
        .expect("no message within 10 s")
        .map(|m| m.expect("websocket error"))
}

#[test]
fn echoes_text_a_1_mib_binary_message_and_pings() {
    let server = serve(ServerConfig::default());
    runtime().block_on(async {
        let mut client = connect(&server).await;
        client.send(Message::text("hello, berth")).await.unwrap();
        assert_eq!(next(&mut client).await, Some(Message::text("hello, berth")));

        let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        client.send(Message::binary(big.clone())).await.unwrap();
        match next(&mut client).await {
            Some(Message::Binary(got)) => assert!(got[..] == big[..], "1 MiB message differs"),
            other => panic!("expected the binary echo, got {other:?}"),
        }

        client
            .send(Message::Ping("are you there".into()))
            .await
            .unwrap();
        assert_eq!(
            next(&mut client).await,
            Some(Message::Pong("are you there".into()))
        );

        // The client closes; the server answers with the same code.
        client
            .close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "bye".into(),
            }))
            .await
            .unwrap();
        match next(&mut client).await {
            Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::Away),
            other => panic!("expected the close echo, got {other:?}"),
        }
        assert!(client.next().await.is_none());
    });
}

#[test]
fn a_message_over_the_limit_is_closed_with_1009() {
    let server = serve(ServerConfig::default());
    runtime().block_on(async {
        let mut client = connect(&server).await;
        let too_big = vec![7u8; websocket_app::MAX_MESSAGE + 1];
        // The server may close before the whole message is sent.
        let _ = client.send(Message::binary(too_big)).await;
        match next(&mut client).await {
            Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::Size),
            other => panic!("expected close 1009, got {other:?}"),
        }
    });
}

/// The handshake and a first WebSocket frame in one write: the frame,
/// read with the request, reaches the upgraded stream.
#[test]
fn bytes_sent_with_the_request_reach_the_new_protocol() {
    let server = serve(ServerConfig::default());
    let mut client = server.connect();
    let mut bytes = handshake("13", Some("dGhlIHNhbXBsZSBub25jZQ==")).into_bytes();
    // A masked text frame "hi" (mask key 1,2,3,4).
    bytes.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
    client.send(&bytes);
    let res = client.read_head_response();
    assert_eq!(res.status, 101, "{res:?}");
    assert_eq!(res.header("upgrade"), Some("websocket"));
    assert_eq!(res.header("connection"), Some("upgrade"));
    assert_eq!(
        res.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert_eq!(res.header("content-length"), None);
    assert_eq!(res.header("transfer-encoding"), None);
    assert_eq!(client.read_bytes(4), [0x81, 2, b'h', b'i']);
}

/// The same over TLS: the upgraded stream is the TLS session.
#[test]
fn upgrades_work_over_tls() {
    let tmp = tempfile::tempdir().unwrap();
    let cert = support::ca_signed_cert("berth test CA");
    let (cert_path, key_path) = cert.write_to(tmp.path());
    let tls = berth::TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    let server = berth::Server::try_bind("127.0.0.1:0").unwrap().tls(tls);
    let server = support::serve_in_background(server, websocket_app::app());
    let config =
        support::tls_client_config(&[&cert.ca_der], &[&rustls::version::TLS13], &[b"http/1.1"]);
    let mut client = support::tls_connect(server.addr(), config).unwrap();
    let mut bytes = handshake("13", Some("dGhlIHNhbXBsZSBub25jZQ==")).into_bytes();
    bytes.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
    client.send(&bytes);
    let res = client.read_head_response();
    assert_eq!(res.status, 101, "{res:?}");
    assert_eq!(client.read_bytes(4), [0x81, 2, b'h', b'i']);
}

fn handshake(version: &str, key: Option<&str>) -> String {
    let key = key
        .map(|k| format!("Sec-WebSocket-Key: {k}\r\n"))
        .unwrap_or_default();
    format!(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: {version}\r\n{key}\r\n"
    )
}

#[test]
fn bad_upgrade_requests_get_a_clear_status() {
    let server = serve(ServerConfig::default());
    let mut client = server.connect();
    // No upgrade offered: 426 naming the protocol (RFC 9110 §15.5.22),
    // with its connection option.
    let res = client.request(support::get("/ws"));
    assert_eq!(res.status, 426, "{res:?}");
    assert_eq!(res.header("upgrade"), Some("websocket"));
    assert_eq!(res.header("connection"), Some("upgrade"));
    // An Upgrade without `Connection: upgrade` is no offer either.
    let res = client.request("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n");
    assert_eq!(res.status, 426, "{res:?}");
    // A version the server does not speak: 426 with the one it does.
    let res = client.request(handshake("8", Some("dGhlIHNhbXBsZSBub25jZQ==")));
    assert_eq!(res.status, 426, "{res:?}");
    assert_eq!(res.header("sec-websocket-version"), Some("13"));
    // No key, or one that is not 16 bytes of base64: 400.
    let res = client.request(handshake("13", None));
    assert_eq!(res.status, 400, "{res:?}");
    let res = client.request(handshake("13", Some("short")));
    assert_eq!(res.status, 400, "{res:?}");
    // The connection is still HTTP/1.1 after each refusal.
    assert_eq!(client.request(support::get("/")).status, 200);
    // Another method: 405 from the router.
    let res = client.request("POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(res.status, 405, "{res:?}");
    assert_eq!(res.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[test]
fn http2_cannot_upgrade() {
    let server = serve(ServerConfig::default());
    let Some(curl) = support::curl() else {
        return;
    };
    let url = format!("http://{}/ws", server.addr);
    let out = support::run_curl(
        curl,
        &[
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{http_version}",
            &url,
        ],
    );
    assert_eq!(out, "426 2");
}

/// A 101 that answers no offer (none was made, or the handler let go of
/// it) is a handler bug: 500, and the connection stays HTTP.
#[test]
fn a_101_without_an_offer_is_a_500() {
    async fn rogue(mut req: Request) -> Response {
        if req.uri().path() == "/dropped" {
            drop(berth::upgrade::on(&mut req));
        }
        berth::upgrade::switching("websocket")
    }
    let server = support::start_with(ServerConfig::default(), rogue);
    let mut client = server.connect();
    let res = client.request(support::get("/plain"));
    assert_eq!(res.status, 500, "{res:?}");
    let res = client.request(
        "GET /dropped HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    );
    assert_eq!(res.status, 500, "{res:?}");
    assert_eq!(client.request(support::get("/plain")).status, 500);
}

fn with(timeouts: Timeouts, max_connections: usize) -> ServerConfig {
    ServerConfig {
        timeouts,
        max_connections,
        ..ServerConfig::default()
    }
}

/// An upgraded connection keeps its place under the connection cap until
/// it ends.
#[test]
fn the_connection_cap_counts_upgraded_connections() {
    let server = serve(with(Timeouts::default(), 1));
    runtime().block_on(async {
        let mut ws = connect(&server).await;
        ws.send(Message::text("x")).await.unwrap();
        assert_eq!(next(&mut ws).await, Some(Message::text("x")));
        // A second client waits in the backlog, unanswered.
        let mut waiting = std::net::TcpStream::connect(server.addr).unwrap();
        waiting.write_all(&support::get("/")).unwrap();
        waiting
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 64];
        assert!(waiting.read(&mut buf).is_err(), "served past the cap");
        // Once the WebSocket ends, it is served.
        ws.close(None).await.unwrap();
        while ws.next().await.is_some() {}
        drop(ws);
        waiting
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = waiting.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    });
}

#[test]
fn a_silent_upgraded_connection_times_out() {
    let timeouts = Timeouts {
        upgraded_idle: Duration::from_millis(300),
        ..Timeouts::default()
    };
    let server = serve(with(timeouts, 100));
    runtime().block_on(async {
        let mut ws = connect(&server).await;
        let (ended, took) = {
            let start = std::time::Instant::now();
            let ended = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
            (ended, start.elapsed())
        };
        // The echo task's read fails; it drops the stream: the client sees
        // the connection end (no close frame).
        let ended = ended.expect("still open 5 s later");
        assert!(!matches!(ended, Some(Ok(Message::Text(_)))), "{ended:?}");
        assert!(took >= Duration::from_millis(250), "{took:?}");
    });
}

/// Shutdown gives an upgraded connection the grace period, then closes it,
/// and the server stops.
#[test]
fn shutdown_closes_upgraded_connections_after_the_grace_period() {
    let timeouts = Timeouts {
        shutdown_grace: Duration::from_millis(500),
        ..Timeouts::default()
    };
    let mut server = serve(with(timeouts, 100));
    runtime().block_on(async {
        let mut ws = connect(&server).await;
        server.trigger_shutdown();
        // Still served during the grace period.
        ws.send(Message::text("still here")).await.unwrap();
        assert_eq!(next(&mut ws).await, Some(Message::text("still here")));
        let ended = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
        assert!(ended.is_ok(), "the WebSocket outlived the grace period");
    });
    assert!(server.wait_stopped(Duration::from_secs(5)));
}
