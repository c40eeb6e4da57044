//! Server-Sent Events: a `text/event-stream` response that never ends, one
//! event a second, each flushed as it is produced (the chunked streaming
//! level put to use). `/` is a page whose `EventSource` prints them.
//!
//! The events come from a [`Body::channel`]; when the browser or curl goes
//! away the next send fails and the producing task stops.
//!
//! ```text
//! cargo run --example sse -- --port 8080
//! curl -N http://127.0.0.1:8080/events
//! # or open http://127.0.0.1:8080/ in a browser
//! ```

use std::time::Duration;

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

const PAGE: &str = r#"<!doctype html><title>berth SSE</title><ul id="log"></ul>
<script>
  new EventSource("/events").addEventListener("tick", (e) => {
    const li = document.createElement("li");
    li.textContent = e.data;
    document.getElementById("log").append(li);
  });
</script>
"#;

async fn events(_req: Request) -> Response {
    let (tx, body) = Body::channel(1);
    tokio::spawn(async move {
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        for id in 1u64.. {
            every_second.tick().await;
            let event = format!("id: {id}\nevent: tick\ndata: tick {id}\n\n");
            if tx.send(event).await.is_err() {
                return; // the client went away
            }
        }
    });
    Response::new(body)
        .with_header("content-type", "text/event-stream")
        .with_header("cache-control", "no-cache")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let app = Router::new()
        .get("/", |_req: Request| async { Response::html(PAGE) })
        .get("/events", events);
    println!("sse: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}
