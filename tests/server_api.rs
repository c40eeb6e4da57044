//! The `Server` builder's API: several addresses, the shutdown handle, the
//! access-log callback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth::{AccessLog, Request, Server, ServerConfig};

fn get(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(request).expect("write");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn one_server_answers_on_every_bound_address_and_stops_on_its_handle() {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let server = Server::try_bind_all([any, any]).expect("bind");
    let addrs = server.local_addrs();
    assert_eq!(addrs.len(), 2);
    let handle = server.shutdown_handle();
    let rt = runtime();
    let serving = rt.spawn(server.serve(|_req: Request| async { "hi" }));
    let thread = std::thread::spawn(move || {
        let answers: Vec<String> = addrs
            .iter()
            .map(|a| {
                get(
                    *a,
                    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                )
            })
            .collect();
        handle.shutdown();
        answers
    });
    rt.block_on(async {
        let result = tokio::time::timeout(Duration::from_secs(5), serving).await;
        assert!(
            matches!(result, Ok(Ok(Ok(())))),
            "serve did not return after shutdown()"
        );
    });
    for answer in thread.join().expect("client thread") {
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\nhi"), "{answer}");
    }
}

#[test]
fn access_log_sees_every_response_including_rejected_requests() {
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    let config = ServerConfig {
        access_log: Some(AccessLog::new(move |r| {
            let line = format!(
                "{} {} {} {} {}",
                r.method.map(|m| m.as_str()).unwrap_or("-"),
                r.target
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "-".into()),
                r.status.as_u16(),
                r.body_bytes,
                r.user_agent.and_then(|v| v.to_str().ok()).unwrap_or("-"),
            );
            sink.lock().expect("lock").push(line);
        })),
        ..ServerConfig::default()
    };
    let server = Server::try_bind("127.0.0.1:0")
        .expect("bind")
        .config(config);
    let addr = server.local_addrs()[0];
    let handle = server.shutdown_handle();
    let rt = runtime();
    let serving = rt.spawn(server.serve(|_req: Request| async { "hello" }));
    let thread = std::thread::spawn(move || {
        get(
            addr,
            b"GET /a?b HTTP/1.1\r\nHost: x\r\nUser-Agent: t/1\r\nConnection: close\r\n\r\n",
        );
        get(
            addr,
            b"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        get(addr, b"GET / HTTP/1.1\r\n\r\n");
        handle.shutdown();
    });
    rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), serving).await;
    });
    thread.join().expect("client thread");
    let lines = lines.lock().expect("lock");
    assert_eq!(
        *lines,
        ["GET /a?b 200 5 t/1", "HEAD /h 200 0 -", "- - 400 16 -"]
    );
}
