//! `examples/api.rs` written with axum 0.8 and tower-http, for comparison
//! (README, "The library"): the same routes, statuses and JSON errors.
//! Served by berth through `berth::Tower`, as any axum app can be.
//!
//! ```text
//! cargo run --example api_axum -- --port 8080 --static ./public
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_http::services::ServeDir;

#[derive(Clone, Default)]
struct Items(Arc<RwLock<BTreeMap<u64, Item>>>);

#[derive(Clone, Serialize)]
struct Item {
    id: u64,
    name: String,
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

#[derive(Deserialize)]
struct ListParams {
    limit: Option<usize>,
}

async fn list(
    State(items): State<Items>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Vec<Item>>, Response> {
    let Query(params) = params.map_err(|e| error(e.status(), &e.body_text()))?;
    let items = items.0.read().unwrap();
    Ok(Json(
        items
            .values()
            .take(params.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect(),
    ))
}

async fn create(
    State(items): State<Items>,
    new: Result<Json<NewItem>, JsonRejection>,
) -> Result<Response, Response> {
    // axum answers JSON of the wrong shape with 422; the spec says 400.
    let Json(new) = new.map_err(|e| match e.status() {
        StatusCode::UNPROCESSABLE_ENTITY => error(StatusCode::BAD_REQUEST, &e.body_text()),
        status => error(status, &e.body_text()),
    })?;
    let mut items = items.0.write().unwrap();
    let item = Item {
        id: items.len() as u64 + 1,
        name: new.name,
    };
    items.insert(item.id, item.clone());
    let location = format!("/items/{}", item.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(item),
    )
        .into_response())
}

async fn show(
    State(items): State<Items>,
    id: Result<Path<u64>, PathRejection>,
) -> Result<Response, Response> {
    let Path(id) = id.map_err(|e| error(StatusCode::BAD_REQUEST, &e.body_text()))?;
    Ok(match items.0.read().unwrap().get(&id) {
        Some(item) => Json(item.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("no item {id}")),
    })
}

fn error(status: StatusCode, reason: &str) -> Response {
    let body = serde_json::json!({ "error": reason, "status": status.as_u16() });
    (status, Json(body)).into_response()
}

fn app(static_dir: &std::path::Path) -> Router {
    Router::new()
        .route(
            "/items",
            get(list).post(create).layer(DefaultBodyLimit::max(1024)),
        )
        .route("/items/{id}", get(show))
        .nest_service("/static", ServeDir::new(static_dir))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not found") })
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        })
        .with_state(Items::default())
}

// ---- end of the app: what follows runs it, as in examples/api.rs ----

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut port, mut dir) = (8080u16, std::path::PathBuf::from("public"));
    while let (Some(flag), Some(value)) = (args.next(), args.next()) {
        match flag.as_str() {
            "--port" => port = value.parse()?,
            "--static" => dir = value.into(),
            _ => return Err("usage: api_axum [--port PORT] [--static DIR]".into()),
        }
    }
    println!("api_axum: listening on http://127.0.0.1:{port}");
    berth::Server::bind(format!("127.0.0.1:{port}"))
        .serve(berth::Tower::new(app(&dir)))
        .await?;
    Ok(())
}
