//! Tutorial level "chunked streaming": a response produced piece by piece.
//!
//! [`Body::channel`] gives a sender and a body of unknown length: berth
//! sends it with `Transfer-Encoding: chunked` (close-delimited to HTTP/1.0
//! clients) and flushes each chunk as soon as it is sent, so the client
//! sees one line every 200 ms. A send fails once the client has gone,
//! which is the producer's cue to stop.
//!
//! ```text
//! cargo run --example 10_streaming -- --port 8080
//! curl -N http://127.0.0.1:8080/count?n=10        # -N: print as it arrives
//! curl -i --raw http://127.0.0.1:8080/count?n=3   # see the chunk framing
//! ```

use std::time::Duration;

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

async fn count(req: Request) -> Response {
    let n: u32 = req
        .query()
        .get("n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let (tx, body) = Body::channel(1);
    tokio::spawn(async move {
        let mut every_200ms = tokio::time::interval(Duration::from_millis(200));
        for i in 1..=n.min(1000) {
            every_200ms.tick().await; // the first tick is at once
            if tx.send(format!("tick {i}\n")).await.is_err() {
                return; // the client went away
            }
        }
    });
    Response::new(body).with_header("content-type", "text/plain; charset=utf-8")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let app = Router::new().get("/count", count);
    println!("10_streaming: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}
