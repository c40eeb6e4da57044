//! Tutorial level "404": answer the paths you know and `404 Not Found`
//! for everything else.
//!
//! A [`Router`] with no route for a path answers `404` by itself (a short
//! plain-text body). To say more, give it a fallback handler: here a
//! custom 404 that names the path it could not find. Returning
//! `(StatusCode, body)` sets the status of any response.
//!
//! ```text
//! cargo run --example 02_not_found -- --port 8080
//! curl -i http://127.0.0.1:8080/
//! curl -i http://127.0.0.1:8080/nope
//! ```

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let app = Router::new()
        .get("/", |_req: Request| async {
            Response::html("<h1>Welcome Home</h1>\n")
        })
        .fallback(|req: Request| async move {
            let message = format!("nothing at {}\n", req.uri().path());
            (StatusCode::NOT_FOUND, message)
        });
    println!("02_not_found: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}
