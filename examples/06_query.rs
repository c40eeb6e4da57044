//! Tutorial level "query string": parameters as a multi-map.
//!
//! [`RequestExt::query`] parses `?q=pizza&filter=red&filter=blue` into a
//! [`berth::QueryMap`] that keeps every value of a repeated name, in order.
//! It is lenient, as browsers are (a bad `%` escape is kept as it is);
//! [`RequestExt::try_query`] is strict and answers 400 instead, as
//! `/strict` does here. `+` is a space in both.
//!
//! ```text
//! cargo run --example 06_query -- --port 8080
//! curl -i 'http://127.0.0.1:8080/search?q=big+pizza&filter=red&filter=blue'
//! curl -i 'http://127.0.0.1:8080/search?q=%zz'          # kept as "%zz"
//! curl -i 'http://127.0.0.1:8080/strict?q=%zz'          # 400
//! ```

use std::fmt::Write;

use berth::QueryMap;
use berth::prelude::*;

#[path = "common/args.rs"]
mod args;
use args::port_arg;

fn describe(query: &QueryMap) -> String {
    let mut out = format!("q = {:?}\n", query.get("q").unwrap_or("(none)"));
    for name in query.keys() {
        let values: Vec<&str> = query.get_all(name).collect();
        let _ = writeln!(out, "{name:?}: {values:?}");
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = port_arg()?;
    let app = Router::new()
        .get(
            "/search",
            |req: Request| async move { describe(&req.query()) },
        )
        .get("/strict", |req: Request| async move {
            req.try_query().map(|query| describe(&query))
        });
    println!("06_query: listening on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}
