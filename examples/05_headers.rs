//! Tutorial level "headers": read the request's headers and set the
//! response's.
//!
//! [`RequestExt::header`] looks a header up by name, case-insensitively;
//! `req.headers()` has them all. [`ResponseExt::with_header`] sets one on
//! the response. `Date`, `Server: berth` and `Content-Length` (or chunked
//! framing) are added by berth: do not set them (a `Server` you set
//! replaces berth's).
//!
//! ```text
//! cargo run --example 05_headers -- --port 8080
//! curl -i http://127.0.0.1:8080/ -H 'X-Name: Ada' -H 'Accept-Language: fr'
//! ```

use std::fmt::Write;

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

async fn headers(req: Request) -> Response {
    let name = req.header("x-name").unwrap_or("stranger");
    let agent = req.header("USER-AGENT").unwrap_or("an unknown client");
    let mut body = format!("hello {name}, you are using {agent}\n\nyou sent:\n");
    for (header, value) in req.headers() {
        let value = value.to_str().unwrap_or("(not visible ASCII)");
        let _ = writeln!(body, "  {header}: {value}");
    }
    Response::text(body)
        .with_header("cache-control", "no-store")
        .with_header("x-greeting", "hello")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    println!("05_headers: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}"))
        .serve(headers)
        .await?;
    Ok(())
}
