//! Tutorial levels "keep-alive" and "pipelining": many requests on one
//! connection. There is nothing to write for either: berth keeps HTTP/1.1
//! connections open (HTTP/1.0 only when asked), honours `Connection:
//! close`, and answers pipelined requests in order, batching their
//! responses into as few writes as possible.
//!
//! To watch it, this server counts requests per client address
//! ([`RequestExt::peer_addr`]): a client's port is its connection, so the
//! count climbs while one connection is reused and restarts on a new one.
//!
//! ```text
//! cargo run --example 09_keep_alive -- --port 8080
//! curl http://127.0.0.1:8080/ http://127.0.0.1:8080/ http://127.0.0.1:8080/   # 1, 2, 3
//! printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
//!   | nc 127.0.0.1 8080                                   # two pipelined answers
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let counts: Mutex<HashMap<SocketAddr, u64>> = Mutex::default();
    let app = move |req: Request| {
        let peer = req.peer_addr();
        let n = peer.map_or(0, |peer| {
            let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
            if counts.len() > 10_000 {
                counts.clear(); // an example's way to forget closed connections
            }
            let n = counts.entry(peer).or_default();
            *n += 1;
            *n
        });
        let from = peer.map_or_else(|| "an unknown peer".into(), |p| p.to_string());
        async move { format!("request {n} on the connection from {from}\n") }
    };
    println!("09_keep_alive: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}
