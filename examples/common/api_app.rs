//! The JSON API of `examples/api.rs`: items kept in the router's state,
//! typed query, path and body extraction, a route with its own body limit,
//! a folder nested under `/static`, and one JSON error format for every
//! failure, the router's own included.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use berth::prelude::*;
use serde::{Deserialize, Serialize};

/// The app's state: the items, behind a lock shared by every request.
#[derive(Clone, Default)]
pub struct Items(Arc<RwLock<Store>>);

#[derive(Default)]
struct Store {
    next_id: u64,
    items: BTreeMap<u64, Item>,
}

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

/// `GET /items?limit=N`
async fn list(State(items): State<Items>, req: Request) -> Result<Json<Vec<Item>>, Rejection> {
    let params: ListParams = req.query_as()?;
    let store = items.0.read().unwrap();
    let limit = params.limit.unwrap_or(usize::MAX);
    Ok(Json(store.items.values().take(limit).cloned().collect()))
}

/// `POST /items` with `{"name": "…"}`
async fn create(State(items): State<Items>, req: Request) -> Result<Response, Rejection> {
    let new: NewItem = req.json(1024).await?;
    let mut store = items.0.write().unwrap();
    store.next_id += 1;
    let item = Item {
        id: store.next_id,
        name: new.name,
    };
    store.items.insert(item.id, item.clone());
    let location = format!("/items/{}", item.id);
    Ok((StatusCode::CREATED, Json(item))
        .into_response()
        .with_header("location", location))
}

/// `GET /items/{id}`
async fn show(State(items): State<Items>, req: Request) -> Result<Response, Rejection> {
    let id: u64 = req.param_as("id")?;
    Ok(match items.0.read().unwrap().items.get(&id) {
        Some(item) => Json(item.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("no item {id}")),
    })
}

/// Every error, as `{"error": "…", "status": 404}`.
fn error(status: StatusCode, reason: &str) -> Response {
    let body = serde_json::json!({ "error": reason, "status": status.as_u16() });
    (status, Json(body)).into_response()
}

/// The app, serving `static_dir` under `/static`.
pub fn app(static_dir: &Path) -> Router<Items> {
    Router::with_state(Items::default())
        .get("/items", list)
        .post("/items", berth::body_limit(1024, create))
        .get("/items/{id}", show)
        .nest("/static", ServeDir::new(static_dir))
        .render_errors(error)
}
