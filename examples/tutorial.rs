//! The tutorial's final server, done in berth: every level together.
//!
//! It serves the files under ROOT (like the `berth` binary) and answers:
//!
//! - `GET /test`: a dynamic HTML page (the time, your request's headers);
//! - `GET /search?q=pizza&sort=price`: every query parameter as a list of
//!   values, as JSON: `{"q":["pizza"],"sort":["price"]}`;
//! - `POST /echo`: the request body back, byte for byte, with its
//!   `Content-Type` (Content-Length or chunked, up to 16 MiB);
//! - `GET /users/{id}`: `user {id}` (`DELETE` is `405` with `Allow`);
//! - `GET /stream?n=N`: `N` lines, chunked, each flushed as produced.
//!
//! The routes live in `examples/common/tutorial_app.rs`, which the
//! integration tests (`tests/tutorial.rs`) drive as well. Ctrl-C stops the
//! server gracefully.
//!
//! ```text
//! cargo run --release --example tutorial -- --port 8080 --root ./public
//! curl -i http://127.0.0.1:8080/test
//! curl -i 'http://127.0.0.1:8080/search?q=pizza&sort=price&filter=red&filter=blue'
//! curl -i http://127.0.0.1:8080/echo -H 'content-type: text/plain' -d 'hello'
//! curl -i http://127.0.0.1:8080/echo -H 'transfer-encoding: chunked' -d @Cargo.toml
//! curl -i http://127.0.0.1:8080/users/42
//! curl -i -X DELETE http://127.0.0.1:8080/users/42
//! curl -N http://127.0.0.1:8080/stream?n=5
//! ```

#[path = "common/tutorial_app.rs"]
mod tutorial_app;

use std::net::SocketAddr;
use std::path::PathBuf;

use berth::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (addr, root) = args()?;
    let server = Server::try_bind(addr)?
        .config(tutorial_app::config())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        });
    let app = tutorial_app::app(&root);
    println!("tutorial: serving {} on http://{addr}", root.display());
    server.serve(app).await?;
    Ok(())
}

/// `--bind ADDR` (default 127.0.0.1), `--port PORT` (default 8080) and
/// `--root DIR` (default ./public), parsed by hand as examples/plaintext.rs
/// does.
fn args() -> Result<(SocketAddr, PathBuf), String> {
    let mut args = std::env::args().skip(1);
    let (mut bind, mut port) = (String::from("127.0.0.1"), String::from("8080"));
    let mut root = PathBuf::from("./public");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bind" | "-b" => bind = args.next().ok_or("--bind needs a value")?,
            "--port" | "-p" => port = args.next().ok_or("--port needs a value")?,
            "--root" | "-r" => root = args.next().ok_or("--root needs a value")?.into(),
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: --port PORT --root DIR [--bind ADDR]"
                ));
            }
        }
    }
    let addr = match bind.parse::<std::net::IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port.parse().map_err(|_| format!("bad port {port:?}"))?),
        Err(_) => return Err(format!("bad bind address {bind:?}")),
    };
    if !root.is_dir() {
        return Err(format!("{} is not a directory", root.display()));
    }
    Ok((addr, root))
}
