//! An unmodified axum 0.8 app, with tower-http layers, served by berth:
//! `berth::Tower` turns any `tower::Service` into a berth handler. axum's
//! extractors (`Path`, `Query`, `Json`, `State`; `ConnectInfo` with
//! berth's `axum` feature) work as under hyper, over HTTP/1.1 and HTTP/2.
//!
//! ```text
//! cargo run --example axum_app -- --port 8080
//! curl http://127.0.0.1:8080/users/7?verbose=true
//! curl -d '{"name":"berth"}' -H 'content-type: application/json' http://127.0.0.1:8080/items
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

#[derive(Clone, Default)]
struct AppState {
    next_id: Arc<AtomicU64>,
}

#[derive(Deserialize)]
struct Options {
    #[serde(default)]
    verbose: bool,
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

#[derive(Serialize)]
struct Item {
    id: u64,
    name: String,
}

async fn user(Path(id): Path<u64>, Query(options): Query<Options>) -> String {
    if options.verbose {
        format!("user number {id}, at your service\n")
    } else {
        format!("user {id}\n")
    }
}

async fn create(
    State(state): State<AppState>,
    Json(new): Json<NewItem>,
) -> (StatusCode, Json<Item>) {
    let id = state.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    (StatusCode::CREATED, Json(Item { id, name: new.name }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    // The app, exactly as it would be written for `axum::serve`.
    let app = axum::Router::new()
        .route("/users/{id}", get(user))
        .route("/items", post(create))
        .with_state(AppState::default())
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(10),
        ))
        .layer(CorsLayer::permissive())
        .layer(TraceLayer::new_for_http());
    println!("axum_app: listening on http://127.0.0.1:{port}");
    // The one line that differs from `axum::serve(listener, app)`.
    berth::Server::bind(format!("127.0.0.1:{port}"))
        .serve(berth::Tower::new(app))
        .await?;
    Ok(())
}
