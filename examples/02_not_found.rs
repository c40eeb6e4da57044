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
    Server::bind(&format!("127.0.0.1:{port}"))
        .serve(app)
        .await?;
    Ok(())
}

/// `--port PORT` (default 8080), parsed by hand as examples/plaintext.rs does.
fn port_arg() -> Result<u16, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(8080),
        [flag, port] if flag == "--port" || flag == "-p" => {
            port.parse().map_err(|_| format!("bad port {port:?}"))
        }
        _ => Err("usage: --port PORT".into()),
    }
}
