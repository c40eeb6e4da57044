//! The access log and metrics over HTTP/2: one record per stream, requests,
//! connections and bytes counted.

use super::*;

/// What an access record says, owned.
#[derive(Debug, Clone, PartialEq)]
struct Logged {
    method: String,
    target: String,
    version: Version,
    status: u16,
    body_bytes: u64,
}

fn logging() -> (ServerConfig, std::sync::mpsc::Receiver<Logged>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let log = AccessLog::new(move |r| {
        let logged = Logged {
            method: r.method.map(|m| m.to_string()).unwrap_or_default(),
            target: r.target.map(|t| t.to_string()).unwrap_or_default(),
            version: r.version,
            status: r.status.as_u16(),
            body_bytes: r.body_bytes,
        };
        let _ = tx.lock().unwrap().send(logged);
    });
    let config = ServerConfig {
        access_log: Some(log),
        ..ServerConfig::default()
    };
    (config, rx)
}

#[tokio::test]
async fn the_access_log_has_one_http2_record_per_stream() {
    for via in BOTH {
        let (config, records) = logging();
        let mut site = Site::start(via, config, app);
        let mut c = site.connect().await;
        let expected = [
            ("GET", "/hello.txt", 200, HELLO_TXT.len() as u64),
            ("GET", "/big.bin", 200, BIG_LEN as u64),
            ("HEAD", "/big.bin", 200, 0),
            ("GET", "/no-such-file", 404, "404 Not Found\n".len() as u64),
            (
                "GET",
                "/panic",
                500,
                "500 Internal Server Error\n".len() as u64,
            ),
        ];
        for (method, path, status, _) in expected {
            let method: Method = method.parse().unwrap();
            let r = c.request(method, path, &[], None).await;
            assert_eq!(r.status, status, "{path}");
        }
        let r = c.get("/hello.txt", &[("range", "bytes=0-4")]).await;
        assert_eq!(r.status, 206);
        // Everything logged is logged by the time serve() returns.
        drop(c);
        site.shut_down().await;
        let got: Vec<Logged> = records.try_iter().collect();
        let mut want: Vec<Logged> = expected
            .iter()
            .map(|&(method, target, status, body_bytes)| Logged {
                method: method.to_string(),
                target: target.to_string(),
                version: Version::HTTP_2,
                status,
                body_bytes,
            })
            .collect();
        want.push(Logged {
            method: "GET".into(),
            target: "/hello.txt".into(),
            version: Version::HTTP_2,
            status: 206,
            body_bytes: 5,
        });
        let key = |l: &Logged| (l.target.clone(), l.method.clone(), l.status);
        let (mut got, mut want) = (got, want);
        got.sort_by_key(key);
        want.sort_by_key(key);
        assert_eq!(got, want, "{via:?}");
    }
}

#[tokio::test]
async fn metrics_count_http2_requests_and_the_one_connection() {
    let metrics = berth::server::Metrics::new();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        ..ServerConfig::default()
    };
    let mut site = Site::start(Via::H2c, config, app);
    let mut c = site.connect().await;
    for _ in 0..3 {
        assert_eq!(c.get("/hello.txt", &[]).await.status, 200);
    }
    assert_eq!(c.get("/no-such-file", &[]).await.status, 404);
    assert_eq!(c.head("/hello.txt", &[]).await.status, 200);
    let (r, _) = c
        .post_streamed("/echo", &[], vec![Bytes::from_static(b"hi")])
        .await;
    assert_eq!(r.unwrap().status, 200);
    drop(c);
    site.shut_down().await;
    let text = metrics.render();
    for line in [
        "berth_requests_total{method_class=\"get\",status_class=\"2xx\"} 3\n",
        "berth_requests_total{method_class=\"get\",status_class=\"4xx\"} 1\n",
        "berth_requests_total{method_class=\"head\",status_class=\"2xx\"} 1\n",
        "berth_requests_total{method_class=\"post\",status_class=\"2xx\"} 1\n",
        "berth_request_duration_seconds_count 6\n",
        "berth_connections_total 1\n",
        "berth_open_connections 0\n",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn metrics_count_http2_bytes_received_and_sent() {
    let metrics = berth::server::Metrics::new();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        ..big_limits()
    };
    let mut site = Site::start(Via::H2c, config, app);
    let mut c = site.connect().await;
    assert_eq!(c.get("/big.bin", &[]).await.body.len(), BIG_LEN);
    let (r, _) = c
        .post_streamed("/echo", &[], vec![Bytes::from(vec![b'u'; 100_000])])
        .await;
    assert_eq!(r.unwrap().body.len(), 100_000);
    drop(c);
    site.shut_down().await;
    let text = metrics.render();
    let value = |name: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(
        value("berth_sent_bytes_total") >= (BIG_LEN + 100_000) as u64,
        "{text}"
    );
    assert!(value("berth_received_bytes_total") >= 100_000, "{text}");
}

/// Behind a load balancer: a PROXY protocol header (v1) before the HTTP/2
/// preface names the client, and the access log and `PeerAddr` use it,
/// as over HTTP/1.1.
#[test]
fn a_proxy_protocol_header_before_the_preface_names_the_client() {
    let peers = Arc::new(Mutex::new(Vec::new()));
    let logged = peers.clone();
    let config = ServerConfig {
        access_log: Some(AccessLog::new(move |r| {
            logged.lock().unwrap().push((r.peer, r.version));
        })),
        ..ServerConfig::default()
    };
    let server = Server::try_bind("127.0.0.1:0")
        .unwrap()
        .proxy_protocol(true)
        .config(config);
    let server = serve_in_background(server, |req: Request| async move {
        let peer = berth::RequestExt::peer_addr(&req)
            .map(|p| p.to_string())
            .unwrap_or_default();
        berth::response::text(peer)
    });
    let mut c = h2wire::Conn::connect_raw(server.addr());
    c.send(b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 443\r\n");
    c.send(h2wire::PREFACE);
    c.send(&h2wire::settings(&[]));
    c.send(&h2wire::get(1, "/"));
    let r = c.read_response(1, LIMIT).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(String::from_utf8_lossy(&r.body), "203.0.113.7:40000");
    drop(c);
    server.shutdown();
    let peers = peers.lock().unwrap();
    assert_eq!(
        *peers,
        [("203.0.113.7:40000".parse().unwrap(), Version::HTTP_2)]
    );
}
