//! The `berth` binary over HTTP/3: `--http3 --tls-self-signed` serves
//! QUIC on UDP at the TLS port, its HTTPS responses over TCP say so
//! (`Alt-Svc`), the access log names the requests `HTTP/3.0`, and SIGTERM
//! still ends it cleanly.

mod support;

#[path = "support/h3client.rs"]
mod h3client;

use std::net::SocketAddr;
use std::time::Duration;

use h3client::{H3, from_rustls};
use support::{
    BIG_LEN, Berth, HELLO_TXT, big_content, spawn_berth, temp_root, tls_client_config_any_cert,
};

const LIMIT: Duration = Duration::from_secs(5);

fn berth(args: &[&str]) -> (Berth, tempfile::TempDir) {
    let (tmp, root) = temp_root();
    let mut all = vec!["--port", "0", "--bind", "127.0.0.1"];
    all.extend_from_slice(args);
    all.push(root.to_str().unwrap());
    (spawn_berth(&all, &[], tmp.path()), tmp)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(addr: SocketAddr) -> Result<H3, String> {
    H3::try_connect_with(addr, from_rustls(&tls_client_config_any_cert())).await
}

#[test]
fn http3_serves_on_the_tls_port_and_tcp_responses_advertise_it() {
    let (mut berth, _tmp) = berth(&["--tls-self-signed", "--http3"]);
    let addr = berth.addr;
    assert!(
        berth
            .wait_stdout(LIMIT, |l| l
                == format!("berth: HTTP/3 (QUIC) on udp {addr}"))
            .is_some(),
        "{:?}",
        berth.stdout_seen
    );
    runtime().block_on(async {
        let mut c = connect(addr).await.expect("HTTP/3 connection");
        let r = c.get("/hello.txt").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), HELLO_TXT);
        let r = c.get("/big.bin").await;
        assert_eq!(r.body.len(), BIG_LEN);
        assert!(r.body == big_content(), "big.bin differs");
        c.close().await;
    });
    let line = berth
        .wait_stdout(LIMIT, |l| l.contains("\"GET /hello.txt HTTP/3.0\""))
        .unwrap_or_else(|| panic!("no HTTP/3.0 log line: {:?}", berth.stdout_seen));
    assert!(line.contains("\" 200 13 "), "{line}");

    let mut tcp = support::tls_connect(addr, tls_client_config_any_cert()).unwrap();
    let r = tcp.request(support::get("/hello.txt"));
    assert_eq!(r.status, 200);
    let want = format!("h3=\":{}\"; ma=86400", addr.port());
    assert_eq!(r.header("alt-svc"), Some(want.as_str()));
    drop(tcp);
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn without_http3_nothing_answers_on_udp_and_nothing_is_advertised() {
    let (mut berth, _tmp) = berth(&["--tls-self-signed"]);
    let addr = berth.addr;
    runtime().block_on(async {
        assert!(
            connect(addr).await.is_err(),
            "QUIC answered without --http3"
        );
    });
    let mut tcp = support::tls_connect(addr, tls_client_config_any_cert()).unwrap();
    let r = tcp.request(support::get("/hello.txt"));
    assert_eq!(r.header("alt-svc"), None);
    drop(tcp);
    assert_eq!(berth.terminate().code(), Some(0));
}

#[test]
fn http3_without_tls_is_refused_at_start() {
    let (tmp, root) = temp_root();
    let (code, stderr) = support::run_berth_to_exit(
        &["--port", "0", "--http3", root.to_str().unwrap()],
        &[],
        tmp.path(),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--http3 needs HTTPS"), "{stderr}");
}
