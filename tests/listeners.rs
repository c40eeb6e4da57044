//! The ways berth listens: the PROXY protocol (v1 and v2, whole or split,
//! malformed, with TLS, over a Unix socket), Unix domain sockets (serving,
//! cleanup, refusing to clobber), several and dual-stack TCP binds, and the
//! binary's `--unix`, `--bind` (repeated), `--proxy-protocol` and systemd
//! socket activation.

mod support;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth::server::Metrics;
use berth::{
    AccessLog, Request, RequestExt, Response, ServeDir, Server, ServerConfig, Timeouts, TlsConfig,
};
use support::{
    Background, Client, HELLO_TXT, big_content, get, ipv6_loopback_available, read_until_closed,
    serve_in_background, spawn_berth, tcp_with_timeouts, temp_root, tls_client_config_any_cert,
    tls_handshake,
};

const LIMIT: Duration = Duration::from_secs(5);

/// Answers with the peer address the server recorded.
async fn whoami(req: Request) -> Response {
    let peer = req
        .peer_addr()
        .map_or_else(|| "none".into(), |a| a.to_string());
    berth::response::text(peer)
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A PROXY-protocol server on 127.0.0.1 answering `whoami`.
fn proxy_server(config: ServerConfig) -> Background {
    let server = Server::try_bind(loopback())
        .unwrap()
        .config(config)
        .proxy_protocol(true);
    serve_in_background(server, whoami)
}

/// A version 2 header: command (0 LOCAL, 1 PROXY), family byte, block.
fn v2(command: u8, family: u8, block: &[u8]) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.push(0x20 | command);
    out.push(family);
    out.extend_from_slice(&u16::try_from(block.len()).unwrap().to_be_bytes());
    out.extend_from_slice(block);
    out
}

fn v2_inet(src: SocketAddr, dst: SocketAddr, tlvs: &[u8]) -> Vec<u8> {
    let mut block = Vec::new();
    let family = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            block.extend_from_slice(&s.octets());
            block.extend_from_slice(&d.octets());
            0x11
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            block.extend_from_slice(&s.octets());
            block.extend_from_slice(&d.octets());
            0x21
        }
        _ => panic!("mixed families"),
    };
    block.extend_from_slice(&src.port().to_be_bytes());
    block.extend_from_slice(&dst.port().to_be_bytes());
    block.extend_from_slice(tlvs);
    v2(1, family, &block)
}

/// Sends `header` then a GET in one write; the body of the answer.
fn peer_through(addr: SocketAddr, header: &[u8]) -> String {
    let mut c = Client::connect(addr);
    let r = c.request([header, &get("/")].concat());
    assert_eq!(r.status, 200, "{r:?}");
    r.body_str().to_string()
}

#[test]
fn proxy_v1_tcp4_and_tcp6_set_the_peer() {
    let server = proxy_server(ServerConfig::default());
    let addr = server.addr();
    // Header and request in one write; keep-alive keeps the address.
    let mut c = Client::connect(addr);
    let header = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
    let r = c.request([&header[..], &get("/")].concat());
    assert_eq!(r.body_str(), "192.0.2.1:56324");
    let r = c.request(get("/again"));
    assert_eq!(r.body_str(), "192.0.2.1:56324");
    assert_eq!(
        peer_through(addr, b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n"),
        "[2001:db8::1]:4000"
    );
    assert_eq!(
        peer_through(
            addr,
            b"PROXY TCP6 ::ffff:192.0.2.7 ::ffff:192.0.2.8 1 2\r\n"
        ),
        "[::ffff:192.0.2.7]:1"
    );
    // Port 0 is a valid port.
    assert_eq!(
        peer_through(addr, b"PROXY TCP4 10.1.2.3 10.1.2.4 0 80\r\n"),
        "10.1.2.3:0"
    );
}

#[test]
fn proxy_v1_unknown_keeps_the_real_peer() {
    let server = proxy_server(ServerConfig::default());
    for header in [
        &b"PROXY UNKNOWN\r\n"[..],
        b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
    ] {
        let mut c = Client::connect(server.addr());
        let me = c.stream.local_addr().unwrap();
        let r = c.request([header, &get("/")].concat());
        assert_eq!(r.body_str(), me.to_string());
    }
}

#[test]
fn proxy_v2_ipv4_and_ipv6_set_the_peer() {
    let server = proxy_server(ServerConfig::default());
    let addr = server.addr();
    let src4: SocketAddr = "203.0.113.5:40000".parse().unwrap();
    let dst4: SocketAddr = "198.51.100.1:443".parse().unwrap();
    assert_eq!(
        peer_through(addr, &v2_inet(src4, dst4, &[])),
        "203.0.113.5:40000"
    );
    // TLVs after the addresses (NOOP, AUTHORITY) are skipped.
    let tlvs = [&[0x04, 0x00, 0x02, 0, 0][..], &[0x02, 0x00, 0x03], b"a.b"].concat();
    assert_eq!(
        peer_through(addr, &v2_inet(src4, dst4, &tlvs)),
        "203.0.113.5:40000"
    );
    let src6: SocketAddr = "[2001:db8::5]:40001".parse().unwrap();
    let dst6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
    assert_eq!(
        peer_through(addr, &v2_inet(src6, dst6, &[])),
        "[2001:db8::5]:40001"
    );
}

#[test]
fn proxy_v2_local_keeps_the_real_peer() {
    let server = proxy_server(ServerConfig::default());
    // LOCAL with an empty block, and LOCAL with an address block (ignored).
    let dummy = v2_inet(
        "203.0.113.5:1".parse().unwrap(),
        "198.51.100.1:2".parse().unwrap(),
        &[],
    );
    for header in [v2(0, 0x00, &[]), v2(0, 0x11, &dummy[16..])] {
        let mut c = Client::connect(server.addr());
        let me = c.stream.local_addr().unwrap();
        let r = c.request([&header[..], &get("/")].concat());
        assert_eq!(r.body_str(), me.to_string());
    }
}

#[test]
fn proxy_headers_split_byte_by_byte_are_read_whole() {
    let server = proxy_server(ServerConfig::default());
    let v1 = b"PROXY TCP4 192.0.2.9 198.51.100.2 1234 443\r\n".to_vec();
    let v2 = v2_inet(
        "[2001:db8::9]:5678".parse().unwrap(),
        "[2001:db8::1]:443".parse().unwrap(),
        &[0x04, 0x00, 0x01, 0xaa],
    );
    for (header, want) in [(v1, "192.0.2.9:1234"), (v2, "[2001:db8::9]:5678")] {
        let mut c = Client::connect(server.addr());
        c.stream.set_nodelay(true).unwrap();
        for byte in &header {
            c.stream.write_all(&[*byte]).unwrap();
        }
        // The request byte by byte too: none of it may be taken for the
        // header.
        for byte in get("/") {
            c.stream.write_all(&[byte]).unwrap();
        }
        let r = c.read_response();
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body_str(), want);
    }
}

#[test]
fn a_connection_without_a_proxy_header_is_closed_unanswered() {
    let server = proxy_server(ServerConfig::default());
    let hello_tls = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00];
    for first in [
        get("/"),
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
        hello_tls.to_vec(),
        // A PROXY header after the request does not count.
        [get("/"), b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n".to_vec()].concat(),
    ] {
        let mut tcp = tcp_with_timeouts(server.addr());
        tcp.write_all(&first).unwrap();
        let (bytes, closed) = read_until_closed(&mut tcp, LIMIT);
        let after = closed.unwrap_or_else(|| panic!("{first:?}: still open"));
        assert!(bytes.is_empty(), "{first:?} got {bytes:?}");
        assert!(after < Duration::from_secs(2), "{first:?}: {after:?}");
    }
}

#[test]
fn malformed_proxy_headers_are_closed_unanswered() {
    let server = proxy_server(ServerConfig::default());
    let long = [
        b"PROXY UNKNOWN ".to_vec(),
        vec![b'x'; 120],
        b"\r\n".to_vec(),
    ]
    .concat();
    let mut cases: Vec<Vec<u8>> = [
        &b"PROXY TCP4 192.0.2.999 198.51.100.2 1 2\r\n"[..],
        b"PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n",
        b"PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\r\n",
        b"PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n",
        b"PROXY TCP4 192.0.2.1 198.51.100.2 1 65536\r\n",
        b"PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n",
        b"PROXY TCP4 2001:db8::1 2001:db8::2 1 2\r\n",
        b"PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n",
        b"PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",
        b"PROXY  TCP4 192.0.2.1 198.51.100.2 1 2\r\n",
        b"proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n",
        b"PROXY\r\n",
    ]
    .iter()
    .map(|c| c.to_vec())
    .collect();
    cases.push(long);
    let good = v2_inet(
        "203.0.113.5:1".parse().unwrap(),
        "198.51.100.1:2".parse().unwrap(),
        &[],
    );
    let mut bad_version = good.clone();
    bad_version[12] = 0x11;
    let mut bad_command = good.clone();
    bad_command[12] = 0x2f;
    let mut bad_family = good.clone();
    bad_family[13] = 0x51;
    let mut udp = good.clone();
    udp[13] = 0x12;
    let mut short = good.clone();
    short[15] = 4; // IPv4 needs 12 address bytes
    short.truncate(16 + 4);
    let mut bad_tlv = v2_inet(
        "203.0.113.5:1".parse().unwrap(),
        "198.51.100.1:2".parse().unwrap(),
        &[0x04, 0x00, 0x09, 0xaa],
    );
    bad_tlv.extend_from_slice(&[0; 8]); // the announced length, not the TLV's
    let mut too_long = v2(1, 0x11, &[0; 2000]);
    too_long.truncate(16);
    cases.extend([bad_version, bad_command, bad_family, udp, short, too_long]);
    let mut sig = good.clone();
    sig[5] = b'X'; // signature broken
    cases.push(sig);
    for header in cases {
        let mut tcp = tcp_with_timeouts(server.addr());
        let _ = tcp.write_all(&[&header[..], &get("/")].concat());
        let (bytes, closed) = read_until_closed(&mut tcp, LIMIT);
        let after = closed.unwrap_or_else(|| {
            panic!(
                "{:?}: still open after {LIMIT:?}",
                String::from_utf8_lossy(&header)
            )
        });
        assert!(
            bytes.is_empty(),
            "{:?} got {:?}",
            String::from_utf8_lossy(&header),
            String::from_utf8_lossy(&bytes)
        );
        assert!(after < Duration::from_secs(2), "{header:?}: {after:?}");
    }
}

#[test]
fn a_stalled_proxy_header_is_closed_at_the_head_deadline() {
    let config = ServerConfig {
        timeouts: Timeouts {
            head_read: Duration::from_millis(300),
            ..Timeouts::default()
        },
        ..ServerConfig::default()
    };
    let server = proxy_server(config);
    for partial in [
        &b""[..],
        b"PROXY TCP4 192.0.2.1 ",
        &v2(1, 0x11, &[0; 12])[..20],
    ] {
        let mut tcp = tcp_with_timeouts(server.addr());
        tcp.write_all(partial).unwrap();
        let (bytes, closed) = read_until_closed(&mut tcp, LIMIT);
        let after = closed.unwrap_or_else(|| panic!("{partial:?}: still open"));
        assert!(bytes.is_empty(), "{bytes:?}");
        assert!(
            after >= Duration::from_millis(250) && after < Duration::from_millis(2500),
            "{partial:?}: closed after {after:?} (head timeout 300 ms)"
        );
    }
}

#[test]
fn proxy_failures_are_counted_and_the_access_log_shows_the_client() {
    let metrics = Metrics::new();
    let peers = Arc::new(Mutex::new(Vec::new()));
    let seen = peers.clone();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        access_log: Some(AccessLog::new(move |r| seen.lock().unwrap().push(r.peer))),
        ..ServerConfig::default()
    };
    let server = proxy_server(config);
    for _ in 0..2 {
        let mut tcp = tcp_with_timeouts(server.addr());
        tcp.write_all(&get("/")).unwrap();
        assert!(read_until_closed(&mut tcp, LIMIT).1.is_some());
    }
    let mut c = Client::connect(server.addr());
    let r = c.request(
        [
            &b"PROXY TCP4 192.0.2.44 198.51.100.2 999 80\r\n"[..],
            &get("/"),
        ]
        .concat(),
    );
    assert_eq!(r.body_str(), "192.0.2.44:999");
    // The failure count and the log entry land just after the close and
    // the response: poll briefly.
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let text = metrics.render();
        let logged = peers.lock().unwrap().clone();
        if text.contains("berth_proxy_header_failures_total 2\n") && !logged.is_empty() {
            let want: SocketAddr = "192.0.2.44:999".parse().unwrap();
            assert_eq!(logged, vec![want]);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}\n{logged:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn proxy_header_then_tls() {
    let (_tmp, root) = temp_root();
    let tls = TlsConfig::self_signed(&["localhost"]).unwrap();
    let server = Server::try_bind(loopback())
        .unwrap()
        .proxy_protocol(true)
        .tls(tls);
    let server = serve_in_background(
        server,
        berth::Router::new()
            .get("/whoami", whoami)
            .fallback(ServeDir::new(&root)),
    );
    for header in [
        b"PROXY TCP4 192.0.2.77 198.51.100.2 4242 443\r\n".to_vec(),
        v2_inet(
            "192.0.2.77:4242".parse().unwrap(),
            "198.51.100.2:443".parse().unwrap(),
            &[],
        ),
    ] {
        let mut tcp = tcp_with_timeouts(server.addr());
        tcp.write_all(&header).unwrap();
        let mut c = tls_handshake(tcp, tls_client_config_any_cert()).expect("handshake");
        assert_eq!(c.request(get("/whoami")).body_str(), "192.0.2.77:4242");
        assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    }
    // TLS without the header first is refused.
    let tcp = tcp_with_timeouts(server.addr());
    assert!(tls_handshake(tcp, tls_client_config_any_cert()).is_err());
}

// ---- Unix domain sockets ----

/// Serves `ServeDir` (with `/whoami`) on a Unix socket at `path`.
fn unix_server(path: &Path, root: &Path, proxy: bool) -> Background {
    let server = Server::new()
        .bind_unix(path)
        .expect("bind_unix")
        .proxy_protocol(proxy);
    serve_in_background(
        server,
        berth::Router::new()
            .get("/whoami", whoami)
            .fallback(ServeDir::new(root)),
    )
}

fn is_socket(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

#[test]
fn a_unix_socket_serves_and_is_removed_at_shutdown() {
    let (tmp, root) = temp_root();
    let path = tmp.path().join("berth.sock");
    let server = unix_server(&path, &root, false);
    assert!(server.addrs.is_empty(), "{:?}", server.addrs);
    assert!(is_socket(&path));
    let mut c = Client::unix(&path);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    // A Unix peer has no IP address: the unspecified one stands for it.
    assert_eq!(c.request(get("/whoami")).body_str(), "0.0.0.0:0");
    // Files above the sendfile threshold go through the generic path.
    let r = c.request(get("/big.bin"));
    assert_eq!(r.status, 200);
    assert!(
        r.body == big_content(),
        "big.bin differs over a Unix socket"
    );
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    drop(c);
    server.shutdown();
    assert!(
        !path.exists(),
        "socket file left behind after graceful shutdown"
    );
}

#[test]
fn proxy_protocol_over_a_unix_socket() {
    let (tmp, root) = temp_root();
    let path = tmp.path().join("proxied.sock");
    let _server = unix_server(&path, &root, true);
    let mut c = Client::unix(&path);
    let r = c.request(
        [
            &b"PROXY TCP4 192.0.2.3 198.51.100.2 7 80\r\n"[..],
            &get("/whoami"),
        ]
        .concat(),
    );
    assert_eq!(r.body_str(), "192.0.2.3:7");
    let mut c = Client::unix(&path);
    let r = c.request([&v2(0, 0, &[])[..], &get("/whoami")].concat());
    assert_eq!(r.body_str(), "0.0.0.0:0");
    let mut c = Client::unix(&path);
    c.send(get("/whoami"));
    assert!(c.is_closed(), "no PROXY header on a PROXY Unix listener");
}

#[test]
fn bind_unix_refuses_a_regular_file_and_leaves_it() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("data.sock");
    std::fs::write(&path, "precious").unwrap();
    let err = Server::new()
        .bind_unix(&path)
        .err()
        .expect("bind_unix over a regular file succeeded");
    assert!(err.to_string().contains("data.sock"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
    // A directory is not replaced either.
    let dir = tmp.path().join("dir.sock");
    std::fs::create_dir(&dir).unwrap();
    assert!(Server::new().bind_unix(&dir).is_err());
    assert!(dir.is_dir());
}

#[test]
fn bind_unix_replaces_a_stale_socket() {
    let (tmp, root) = temp_root();
    let path = tmp.path().join("stale.sock");
    drop(UnixListener::bind(&path).unwrap());
    assert!(is_socket(&path), "std leaves the socket file behind");
    let server = unix_server(&path, &root, false);
    let mut c = Client::unix(&path);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    drop(c);
    server.shutdown();
    assert!(!path.exists());
}

#[test]
fn bind_unix_refuses_a_live_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("live.sock");
    let live = UnixListener::bind(&path).unwrap();
    let err = Server::new()
        .bind_unix(&path)
        .err()
        .expect("bind_unix took over a live socket");
    assert!(err.to_string().contains("live.sock"), "{err}");
    // The live listener still owns the path (berth's probe connection sits
    // in its backlog; a new client connects too).
    assert!(is_socket(&path));
    let _client = UnixStream::connect(&path).expect("live socket still reachable");
    live.set_nonblocking(false).unwrap();
    let (_a, _) = live.accept().unwrap();
}

#[test]
fn shutdown_removes_only_the_socket_berth_created() {
    let (tmp, root) = temp_root();
    let path = tmp.path().join("swap.sock");
    let server = unix_server(&path, &root, false);
    assert_eq!(Client::unix(&path).request(get("/hello.txt")).status, 200);
    // Someone replaces the socket with a file of their own meanwhile.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, "not berth's").unwrap();
    server.shutdown();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not berth's");
}

#[test]
fn tcp_and_unix_listeners_on_one_server() {
    let (tmp, root) = temp_root();
    let path = tmp.path().join("both.sock");
    let tcp = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = tcp.local_addr().unwrap();
    let extra = UnixListener::bind(tmp.path().join("extra.sock")).unwrap();
    let server = Server::try_bind(loopback())
        .unwrap()
        .listen_on(tcp)
        .listen_on(extra)
        .bind_unix(&path)
        .unwrap();
    let addrs = server.local_addrs();
    assert_eq!(addrs.len(), 2, "{addrs:?}");
    let server = serve_in_background(server, ServeDir::new(&root));
    for a in [addrs[0], addr] {
        assert_eq!(
            Client::connect(a).request(get("/hello.txt")).body_str(),
            HELLO_TXT
        );
    }
    for p in [path.clone(), tmp.path().join("extra.sock")] {
        assert_eq!(
            Client::unix(&p).request(get("/hello.txt")).body_str(),
            HELLO_TXT
        );
    }
    server.shutdown();
    assert!(!path.exists());
    // A socket passed in (not created by berth) is not removed.
    assert!(is_socket(&tmp.path().join("extra.sock")));
}

#[test]
fn a_server_without_listeners_fails_to_serve() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result =
        rt.block_on(async { tokio::time::timeout(LIMIT, Server::new().serve(whoami)).await });
    assert!(
        matches!(result, Ok(Err(_))),
        "serve() with no listener: {result:?}"
    );
    assert!(Server::try_bind_all(Vec::<SocketAddr>::new()).is_err());
}

// ---- several addresses, dual stack ----

#[test]
fn try_bind_all_serves_every_address() {
    if !ipv6_loopback_available() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let server = Server::try_bind_all([loopback(), "[::1]:0".parse().unwrap()]).unwrap();
    let addrs = server.local_addrs();
    assert_eq!(addrs.len(), 2);
    assert!(addrs[0].is_ipv4() && addrs[1].is_ipv6(), "{addrs:?}");
    let server = serve_in_background(server, whoami);
    for addr in &addrs {
        let mut c = Client::connect(*addr);
        let me = c.stream.local_addr().unwrap();
        assert_eq!(c.request(get("/")).body_str(), me.to_string());
    }
    server.shutdown();
}

#[test]
fn an_ipv6_wildcard_alone_takes_ipv4_clients() {
    if !ipv6_loopback_available() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let server = Server::try_bind("[::]:0").unwrap();
    let port = server.local_addrs()[0].port();
    let server = serve_in_background(server, whoami);
    for ip in [IpAddr::V4(Ipv4Addr::LOCALHOST), "::1".parse().unwrap()] {
        let mut c = Client::connect(SocketAddr::new(ip, port));
        let me = c.stream.local_addr().unwrap();
        let body = c.request(get("/")).body_str().to_string();
        let seen: SocketAddr = body.parse().unwrap();
        // An IPv4 client shows as its IPv4-mapped address.
        assert_eq!(seen.ip().to_canonical(), me.ip(), "{body}");
        assert_eq!(seen.port(), me.port());
    }
    server.shutdown();
}

#[test]
fn ipv4_and_ipv6_wildcards_share_a_port() {
    if !ipv6_loopback_available() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    // A free port (the probe is closed before berth binds it).
    let port = std::net::TcpListener::bind("[::]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server::try_bind_all([
        SocketAddr::from(([0, 0, 0, 0], port)),
        SocketAddr::from(([0u16; 8], port)),
    ])
    .expect("0.0.0.0 and [::] on one port: the IPv6 socket must be v6-only");
    let server = serve_in_background(server, whoami);
    for ip in [IpAddr::V4(Ipv4Addr::LOCALHOST), "::1".parse().unwrap()] {
        let mut c = Client::connect(SocketAddr::new(ip, port));
        let me = c.stream.local_addr().unwrap();
        // Each family's own socket: the IPv4 client is not mapped.
        assert_eq!(c.request(get("/")).body_str(), me.to_string());
    }
    server.shutdown();
}

#[test]
fn binding_a_port_in_use_fails_at_once() {
    let taken = std::net::TcpListener::bind(loopback()).unwrap();
    let err = Server::try_bind(taken.local_addr().unwrap())
        .err()
        .expect("bound a port in use");
    assert!(
        err.to_string()
            .contains(&taken.local_addr().unwrap().to_string()),
        "{err}"
    );
}

// ---- the binary ----

#[test]
fn binary_binds_ipv4_and_ipv6_loopback() {
    if !ipv6_loopback_available() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let (tmp, root) = temp_root();
    let mut berth = spawn_berth(
        &[
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--bind",
            "::1",
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    berth
        .wait_stdout(LIMIT, |l| l.starts_with("berth: also on "))
        .expect("no second address printed");
    let addrs: Vec<SocketAddr> = berth
        .places
        .iter()
        .filter_map(|p| support::place_addr(p))
        .collect();
    assert_eq!(addrs.len(), 2, "{:?}", berth.places);
    assert!(addrs[0].is_ipv4() && addrs[1].is_ipv6(), "{addrs:?}");
    for addr in addrs {
        assert_eq!(
            Client::connect(addr).request(get("/hello.txt")).body_str(),
            HELLO_TXT,
            "{addr}"
        );
    }
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn binary_serves_a_unix_socket_alongside_tcp() {
    let (tmp, root) = temp_root();
    let path = tmp.path().join("berth.sock");
    let mut berth = spawn_berth(
        &[
            "--port",
            "0",
            "--unix",
            path.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    let line = berth
        .wait_stdout(LIMIT, |l| l.starts_with("berth: also on unix:"))
        .expect("no unix: line");
    assert!(line.ends_with(path.to_str().unwrap()), "{line}");
    assert_eq!(
        Client::connect(berth.addr)
            .request(get("/hello.txt"))
            .body_str(),
        HELLO_TXT
    );
    let mut c = Client::unix(&path);
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    drop(c);
    // The access log line for the Unix client.
    berth
        .wait_stdout(LIMIT, |l| {
            l.starts_with("unix: - - [") && l.contains("GET /hello.txt")
        })
        .unwrap_or_else(|| panic!("no log line: {:?}", berth.stdout_seen));
    assert_eq!(berth.terminate().code(), Some(0));
    assert!(!path.exists(), "socket file left behind by the binary");
    // A second berth on a path where a file is refuses to start.
    std::fs::write(&path, "x").unwrap();
    let (code, stderr) = support::run_berth_to_exit(
        &[
            "--port",
            "0",
            "--unix",
            path.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "x");
}

#[test]
fn binary_proxy_protocol_logs_the_proxied_client() {
    let (tmp, root) = temp_root();
    let mut berth = spawn_berth(
        &["--port", "0", "--proxy-protocol", root.to_str().unwrap()],
        &[],
        tmp.path(),
    );
    let mut c = Client::connect(berth.addr);
    let r = c.request(
        [
            &b"PROXY TCP4 198.51.100.61 192.0.2.1 5000 80\r\n"[..],
            &get("/hello.txt"),
        ]
        .concat(),
    );
    assert_eq!(r.body_str(), HELLO_TXT);
    berth
        .wait_stdout(LIMIT, |l| l.contains("GET /hello.txt"))
        .expect("no access log line");
    let line = berth.stdout_seen.last().unwrap().clone();
    assert!(line.starts_with("198.51.100.61 - - ["), "{line}");
    let mut plain = Client::connect(berth.addr);
    plain.send(get("/hello.txt"));
    assert!(plain.is_closed());
    assert_eq!(berth.terminate().code(), Some(0));
}

/// berth started as systemd starts a socket-activated service: `listener`
/// becomes fd 3 of a shell that execs berth (so `LISTEN_PID=$$` is berth's
/// pid) with `LISTEN_FDS=1`. Returns the process and its first stdout line
/// (`None`: it exited without one).
fn spawn_activated(
    listener: std::net::TcpListener,
    args: &[&str],
    cwd: &Path,
) -> (KillOnDrop, Option<String>) {
    use std::os::fd::OwnedFd;
    let script = "exec 3<&0 0</dev/null; LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"";
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args(["-c", script, env!("CARGO_BIN_EXE_berth")])
        .args(args)
        .current_dir(cwd)
        .stdin(std::process::Stdio::from(OwnedFd::from(listener)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .env_remove("LISTEN_FDNAMES");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BERTH_") {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd.spawn().expect("spawn sh");
    let stdout = child.stdout.take().unwrap();
    let guard = KillOnDrop(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        let _ = tx.send(lines.next().and_then(Result::ok));
    });
    let line = rx.recv_timeout(LIMIT).expect("no startup line in time");
    (guard, line)
}

#[test]
fn binary_takes_a_socket_from_systemd() {
    let (tmp, root) = temp_root();
    let listener = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (guard, line) = spawn_activated(
        listener,
        &["--port", "1", root.to_str().unwrap()],
        tmp.path(),
    );
    // --port is not used: the passed socket is what berth serves on.
    assert_eq!(
        line.expect("berth exited without a startup line"),
        format!("berth: serving {} on http://{addr}", root.display())
    );
    assert_eq!(
        Client::connect(addr).request(get("/hello.txt")).body_str(),
        HELLO_TXT
    );
    drop(guard);
}

#[test]
fn auth_over_plain_http_on_a_public_activated_socket_is_refused() {
    // `--auth` without TLS is refused on a non-loopback address unless
    // --auth-insecure; a public socket from systemd must be refused too.
    let (tmp, root) = temp_root();
    let hash = bcrypt::hash("pw", 4).unwrap();
    let auth = format!("alice:{hash}");
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let (mut guard, line) = spawn_activated(
        listener,
        &["--auth", &auth, root.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(
        line, None,
        "berth serves passwords over plain HTTP on 0.0.0.0"
    );
    let deadline = std::time::Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(2));
}

#[test]
fn a_failed_startup_leaves_no_unix_socket_file() {
    let (tmp, root) = temp_root();
    let path = tmp.path().join("early.sock");
    let missing = tmp.path().join("missing.pem");
    let (code, stderr) = support::run_berth_to_exit(
        &[
            "--port",
            "0",
            "--unix",
            path.to_str().unwrap(),
            "--tls-cert",
            missing.to_str().unwrap(),
            "--tls-key",
            missing.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        !path.exists(),
        "socket file left behind by a berth that never served"
    );
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_server_that_shut_down_refuses_connections() {
    // A PROXY server that shuts down closes its listener: connecting fails.
    let server = proxy_server(ServerConfig::default());
    let addr = server.addr();
    server.shutdown();
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[test]
fn graceful_shutdown_does_not_wait_for_a_missing_proxy_header() {
    // Without PROXY, a silent new connection is closed at shutdown at once;
    // waiting for its PROXY header holds serve() until the head timeout
    // (10 s by default) or the grace period ends.
    for partial in [&b""[..], b"PROXY TCP4 "] {
        let server = proxy_server(ServerConfig::default());
        let mut silent = tcp_with_timeouts(server.addr());
        silent.write_all(partial).unwrap();
        // Accepts are in order: once a later connection is answered, the
        // silent one is waiting for its header.
        let r = peer_through(server.addr(), b"PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n");
        assert_eq!(r, "192.0.2.1:1");
        let took = server.shutdown_timed(Duration::from_secs(4));
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(2)),
            "shutdown took {took:?} with a connection that sent no PROXY header"
        );
    }
}

#[test]
fn graceful_shutdown_closes_a_silent_plain_connection_promptly() {
    // The behaviour the PROXY and TLS preludes should match.
    let server = serve_in_background(Server::try_bind(loopback()).unwrap(), whoami);
    let _silent = tcp_with_timeouts(server.addr());
    let mut c = Client::connect(server.addr());
    assert_eq!(c.request(get("/")).status, 200);
    let took = server
        .shutdown_timed(Duration::from_secs(4))
        .expect("serve() still running 4 s after shutdown");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn large_proxy_v2_headers_are_read_whole() {
    // More than the first peek (256 bytes) and up to the 1040-byte cap.
    let server = proxy_server(ServerConfig::default());
    let src: SocketAddr = "203.0.113.50:5050".parse().unwrap();
    let dst: SocketAddr = "198.51.100.1:443".parse().unwrap();
    for tlv_len in [300usize, 1024 - 12 - 3] {
        let tlv = [
            &[0xe0, (tlv_len >> 8) as u8, tlv_len as u8][..],
            &vec![b'z'; tlv_len],
        ]
        .concat();
        let header = v2_inet(src, dst, &tlv);
        assert!(header.len() <= 1040, "{}", header.len());
        assert_eq!(peer_through(server.addr(), &header), "203.0.113.50:5050");
        // Split in two writes around the first peek's size.
        let mut c = Client::connect(server.addr());
        c.stream.set_nodelay(true).unwrap();
        c.stream.write_all(&header[..200]).unwrap();
        c.stream.write_all(&header[200..]).unwrap();
        let r = c.request(get("/"));
        assert_eq!(r.body_str(), "203.0.113.50:5050");
    }
    // One byte over the cap: refused.
    let tlv_len = 1024 - 12 - 3 + 1;
    let tlv = [
        &[0xe0, (tlv_len >> 8) as u8, tlv_len as u8][..],
        &vec![b'z'; tlv_len],
    ]
    .concat();
    let mut tcp = tcp_with_timeouts(server.addr());
    let _ = tcp.write_all(&[v2_inet(src, dst, &tlv), get("/")].concat());
    let (bytes, closed) = read_until_closed(&mut tcp, LIMIT);
    assert!(closed.is_some() && bytes.is_empty(), "{bytes:?}");
}

#[test]
fn a_dual_stack_peer_is_trusted_by_its_ipv4_address() {
    // `[::]` maps IPv4 clients to ::ffff:a.b.c.d; --trusted-proxy 127.0.0.1
    // must still match them.
    if !ipv6_loopback_available() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let (tmp, root) = temp_root();
    let mut berth = spawn_berth(
        &[
            "--port",
            "0",
            "--bind",
            "::",
            "--trusted-proxy",
            "127.0.0.1",
            root.to_str().unwrap(),
        ],
        &[],
        tmp.path(),
    );
    let v4 = SocketAddr::from(([127, 0, 0, 1], berth.addr.port()));
    let r = Client::connect(v4).request(
        "GET /hello.txt?mapped HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    let line = berth
        .wait_stdout(LIMIT, |l| l.contains("?mapped"))
        .expect("no log line");
    assert!(line.starts_with("203.0.113.9 - - ["), "{line}");
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn a_tls_server_speaks_tls_on_its_unix_socket_too() {
    let (tmp, root) = temp_root();
    let path = tmp.path().join("tls.sock");
    let tls = TlsConfig::self_signed(&["localhost"]).unwrap();
    let server = Server::new().bind_unix(&path).unwrap().tls(tls);
    let _server = serve_in_background(server, ServeDir::new(&root));
    // Plain HTTP is told it reached a TLS socket, never served...
    let mut plain = Client::unix(&path);
    plain.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let (bytes, closed) = plain.read_until_close();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        closed && text.starts_with("HTTP/1.1 400 ") && text.contains("speaks HTTPS"),
        "plain HTTP on the Unix socket of a TLS server: {text:?}"
    );
    // ...and a TLS client is.
    let unix = UnixStream::connect(&path).unwrap();
    unix.set_read_timeout(Some(LIMIT)).unwrap();
    unix.set_write_timeout(Some(LIMIT)).unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(tls_client_config_any_cert(), name).unwrap();
    let mut c = Client::new(rustls::StreamOwned::new(conn, unix));
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
}

// ---- the PeerAddr extension switch ----

#[test]
fn requests_carry_the_peer_address_unless_the_config_turns_it_off() {
    for (on, want_some) in [(true, true), (false, false)] {
        let config = ServerConfig {
            peer_addr: on,
            ..ServerConfig::default()
        };
        let server =
            serve_in_background(Server::try_bind(loopback()).unwrap().config(config), whoami);
        let mut c = Client::connect(server.addr());
        let local = c.stream.local_addr().unwrap().to_string();
        let body = c.request(get("/")).body_str().to_owned();
        if want_some {
            assert_eq!(body, local, "peer_addr on");
        } else {
            assert_eq!(body, "none", "peer_addr off");
        }
        server.shutdown();
    }
}
