//! Tutorial level "routing": pick a handler by method and path, with
//! parameters.
//!
//! `{id}` captures one segment (percent-decoded), `{*path}` the rest of the
//! path. A path that exists with another method is `405 Method Not Allowed`
//! with an `Allow` header; `HEAD` and `OPTIONS` are answered for every
//! route; `/users/7/` redirects (308) to `/users/7`; anything else is 404.
//!
//! ```text
//! cargo run --example 04_routing -- --port 8080
//! curl -i http://127.0.0.1:8080/users/42
//! curl -i http://127.0.0.1:8080/users/42/posts/7
//! curl -i http://127.0.0.1:8080/files/a/b/c.txt
//! curl -i -X POST http://127.0.0.1:8080/users     # 201
//! curl -i -X DELETE http://127.0.0.1:8080/users/42 # 405, Allow: GET, HEAD, OPTIONS
//! curl -i http://127.0.0.1:8080/users/42/          # 308 to /users/42
//! ```

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

async fn user(req: Request) -> String {
    format!("user {}\n", req.param("id").unwrap_or(""))
}

async fn post(req: Request) -> String {
    let (id, post) = (
        req.param("id").unwrap_or(""),
        req.param("post").unwrap_or(""),
    );
    format!("post {post} of user {id}\n")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let app = Router::new()
        .get("/", |_req: Request| async { "try /users/42\n" })
        .get("/users/{id}", user)
        .post("/users", |_req: Request| async {
            (StatusCode::CREATED, "created\n")
        })
        .get("/users/{id}/posts/{post}", post)
        .get("/files/{*path}", |req: Request| async move {
            format!("file {}\n", req.param("path").unwrap_or(""))
        });
    println!("04_routing: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}
