//! Tutorial level "the path": read the request target, split off the
//! query, and percent-decode the path.
//!
//! `req.uri().path()` is the path exactly as sent (`/caf%C3%A9`);
//! [`RequestExt::path_decoded`] decodes it once as UTF-8 (`/café`) and
//! fails with a 400 [`Rejection`] on a bad escape such as `%zz`, so the
//! handler returns `Result` and uses `?`.
//!
//! ```text
//! cargo run --example 03_path -- --port 8080
//! curl -i 'http://127.0.0.1:8080/caf%C3%A9/a%20b?x=1'
//! curl -i 'http://127.0.0.1:8080/%zz'        # 400
//! ```

use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

async fn show_path(req: Request) -> Result<String, Rejection> {
    let raw = req.uri().path();
    let decoded = req.path_decoded()?;
    let query = req.uri().query().unwrap_or("(none)");
    Ok(format!(
        "raw path:     {raw}\ndecoded path: {decoded}\nquery:        {query}\n"
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    println!("03_path: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}"))
        .serve(show_path)
        .await?;
    Ok(())
}
