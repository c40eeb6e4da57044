//! berth's own handlers under tower layers: `Handler::into_service` makes
//! any berth handler (`Router`, `ServeDir`, `Compress`, a closure) a
//! `tower::Service`, so tower and tower-http layers wrap it, and
//! `berth::Tower` serves the result. Files keep their `Content-Length`,
//! and `sendfile` under layers that leave the body alone (CORS, headers,
//! timeouts, concurrency limits).
//!
//! ```text
//! cargo run --example tower_layers -- --port 8080   # serves ./public
//! curl -i http://127.0.0.1:8080/api/hello
//! curl -i http://127.0.0.1:8080/index.html
//! ```

use std::time::Duration;

use berth::prelude::*;
use tower::ServiceBuilder;
use tower_http::cors::CorsLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let app = Router::new()
        .get("/api/hello", |_req| async {
            "hello from berth, through tower\n"
        })
        .fallback(ServeDir::new("./public"));
    let layered = ServiceBuilder::new()
        .layer(CorsLayer::permissive())
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("public, max-age=60"),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(10),
        ))
        .concurrency_limit(1024)
        .service(app.into_service());
    println!("tower_layers: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}"))
        .serve(berth::Tower::new(layered))
        .await?;
    Ok(())
}
