//! A WebSocket echo server at `/ws` (RFC 6455) on berth's HTTP/1.1
//! upgrade: the handler checks the opening handshake, answers `101
//! Switching Protocols`, and takes the connection over with
//! `berth::upgrade::on`; `tokio-tungstenite` speaks the WebSocket protocol
//! on it. `/` is a page that talks to it from a browser.
//!
//! Text and binary messages are echoed (up to 16 MiB; a larger one is
//! refused with close code 1009), pings are answered with pongs, and a
//! close from the client is answered with the same code.
//!
//! ```text
//! cargo run --example websocket -- --port 8080
//! # then open http://127.0.0.1:8080/, or: websocat ws://127.0.0.1:8080/ws
//! ```

#[path = "common/args.rs"]
mod args;
#[path = "common/websocket_app.rs"]
mod websocket_app;

use args::port_arg;
use berth::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let app = websocket_app::app();
    println!("websocket: listening on http://127.0.0.1:{port} (WebSocket at /ws)");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}
