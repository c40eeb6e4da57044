//! A small JSON API: shared state, typed extraction, a per-route body
//! limit, a folder of static files, and JSON for every error.
//!
//! ```text
//! cargo run --example api -- --port 8080 --static ./public
//! curl -i -H 'content-type: application/json' -d '{"name":"tea"}' localhost:8080/items
//! curl -i 'localhost:8080/items?limit=10'
//! curl -i localhost:8080/items/1
//! ```
//!
//! | Request | Answer |
//! |---|---|
//! | `GET /items?limit=N` | 200, the first N items as a JSON array (400 if N is not a number) |
//! | `POST /items` `{"name": "…"}` | 201, `Location: /items/{id}`, the item (400 bad JSON, 415 not `application/json`, 413 over 1 KiB) |
//! | `GET /items/{id}` | 200 the item, 404 if there is none, 400 if `id` is not a number |
//! | `/static/…` | the files of `--static DIR` (`/static/dir` redirects to `/static/dir/`) |
//! | anything else | 404, or 405 with `Allow` for a wrong method, in JSON |

#[path = "common/api_app.rs"]
mod api_app;

use std::path::PathBuf;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (port, static_dir) = args()?;
    let app = api_app::app(&static_dir);
    println!(
        "api: listening on http://127.0.0.1:{port} (static files from {})",
        static_dir.display()
    );
    berth::Server::bind(format!("127.0.0.1:{port}"))
        .serve(app)
        .await?;
    Ok(())
}

/// `--port PORT` (default 8080) and `--static DIR` (default `./public`).
fn args() -> Result<(u16, PathBuf), String> {
    let mut port = 8080;
    let mut static_dir = PathBuf::from("public");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--port" | "-p" => port = value.parse().map_err(|_| format!("bad port {value:?}"))?,
            "--static" => static_dir = value.into(),
            _ => return Err("usage: api [--port PORT] [--static DIR]".into()),
        }
    }
    Ok((port, static_dir))
}
