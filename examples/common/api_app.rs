//! The JSON API of `examples/api.rs`, as README.md shows it: items kept in
//! the router's state, typed query, path and body extraction, a route with
//! its own body limit, a folder nested under `/static`, and one JSON error
//! format for every failure, the router's own included.

use berth::prelude::*;
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

#[derive(Clone, Default)]
pub struct Items(Arc<RwLock<BTreeMap<u64, Item>>>);

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

// GET /items?limit=N: `limit` that is not a number is a 400 naming it.
async fn list(State(items): State<Items>, req: Request) -> Result<Json<Vec<Item>>, Rejection> {
    let params: ListParams = req.query_as()?;
    let items = items.0.read().unwrap();
    Ok(Json(
        items
            .values()
            .take(params.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect(),
    ))
}

// POST /items: 415 without `content-type: application/json`, 400 for bad
// JSON (naming the field), 413 over the route's limit.
async fn create(State(items): State<Items>, req: Request) -> Result<Response, Rejection> {
    let new: NewItem = req.json(1024).await?;
    let mut items = items.0.write().unwrap();
    let item = Item {
        id: items.len() as u64 + 1,
        name: new.name,
    };
    items.insert(item.id, item.clone());
    let location = format!("/items/{}", item.id);
    Ok((StatusCode::CREATED, Json(item))
        .into_response()
        .with_header("location", location))
}

// GET /items/{id}: a non-numeric id is a 400.
async fn show(State(items): State<Items>, req: Request) -> Result<Response, Rejection> {
    let id: u64 = req.param_as("id")?;
    Ok(match items.0.read().unwrap().get(&id) {
        Some(item) => Json(item.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("no item {id}")),
    })
}

fn error(status: StatusCode, reason: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": reason, "status": status.as_u16() })),
    )
        .into_response()
}

/// The app, serving `static_dir` under `/static`.
pub fn app(static_dir: &std::path::Path) -> Router<Items> {
    Router::with_state(Items::default())
        .get("/items", list)
        .post("/items", berth::body_limit(1024, create))
        .get("/items/{id}", show)
        .nest("/static", ServeDir::new(static_dir)) // /static/dir redirects to /static/dir/
        .render_errors(error) // 404, 405 (Allow kept), 400, 413, 415: all JSON
}
