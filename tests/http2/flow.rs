//! HTTP/2 response bodies under flow control: many large downloads at once
//! on one connection, with a connection buffer budget smaller than one
//! file, all complete intact (a stream must use capacity left over from an
//! earlier grant: the `h2` crate announces only increases).

use std::time::Duration;

use berth::{Http2Config, ServerConfig};
use bytes::Bytes;

use crate::support::{BIG_LEN, big_content, start_serve_dir};

async fn get_all(addr: std::net::SocketAddr, streams: usize) -> Vec<Bytes> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut tasks = Vec::new();
    for _ in 0..streams {
        let mut client = client.clone().ready().await.unwrap();
        let request = http::Request::get(format!("http://{addr}/big.bin"))
            .body(())
            .unwrap();
        let (response, _) = client.send_request(request, true).unwrap();
        tasks.push(tokio::spawn(async move {
            let response = response.await.unwrap();
            assert_eq!(response.status(), 200);
            let mut body = response.into_body();
            let mut got = Vec::with_capacity(BIG_LEN);
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                let _ = body.flow_control().release_capacity(chunk.len());
                got.extend_from_slice(&chunk);
            }
            Bytes::from(got)
        }));
    }
    let mut bodies = Vec::new();
    for task in tasks {
        bodies.push(task.await.unwrap());
    }
    bodies
}

#[test]
fn concurrent_large_downloads_on_one_connection_complete_intact() {
    let config = ServerConfig {
        http2: Http2Config {
            // Smaller than one file, so streams get less room than they
            // were granted and must come back for the rest.
            max_buffered_bytes: 64 * 1024,
            ..Http2Config::default()
        },
        ..ServerConfig::default()
    };
    let server = start_serve_dir(config);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bodies = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), get_all(server.addr, 24))
            .await
            .expect("downloads stalled")
    });
    let expected = big_content();
    assert_eq!(bodies.len(), 24);
    for body in bodies {
        assert!(body == expected, "a body differs ({} bytes)", body.len());
    }
}
