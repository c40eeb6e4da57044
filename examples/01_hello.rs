//! Tutorial level "hello world": bind a port, accept connections, and
//! answer every request with `200 OK` and a greeting.
//!
//! Everything the level does by hand on a raw socket is berth's job here:
//! [`Server::bind`] listens and accepts, each request is parsed, and the
//! response goes out with its `Content-Length`, `Date` and `Server` headers.
//! A handler is just an async function (or closure) from a request to
//! something that becomes a response; a `&str` becomes `200 text/plain`.
//!
//! ```text
//! cargo run --example 01_hello -- --port 8080
//! curl -i http://127.0.0.1:8080/
//! curl -i http://127.0.0.1:8080/any/path/at/all
//! ```

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    println!("01_hello: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}"))
        .serve(|_req: Request| async { "Hello, World!\n" })
        .await?;
    Ok(())
}
