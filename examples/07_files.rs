//! Tutorial levels "static files" and "content types": serve a directory,
//! with routes first and the files as the fallback.
//!
//! [`ServeDir`] never serves anything outside its root (`..`, `%2e%2e`,
//! encoded slashes and symlinks are refused), hides dotfiles, serves
//! `index.html` for directories and redirects `/dir` to `/dir/`. Each file
//! goes out streamed, with `Content-Type` from its extension (`; charset=utf-8`
//! on text types, `application/octet-stream` when unknown): `/type/NAME`
//! shows which type a name gets.
//!
//! ```text
//! cargo run --example 07_files -- --port 8080 --root .
//! curl -i http://127.0.0.1:8080/Cargo.toml
//! curl -i http://127.0.0.1:8080/examples/        # no index.html: 404
//! curl -i http://127.0.0.1:8080/type/photo.JPG
//! curl -i --path-as-is http://127.0.0.1:8080/../etc/passwd  # 400, never served
//! ```

use std::path::Path;

use berth::prelude::*;
use berth::serve_dir::content_type;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (port, root) = args()?;
    let app = Router::new()
        .get("/type/{name}", |req: Request| async move {
            let name = req.param("name").unwrap_or("");
            let mime = content_type(Path::new(name));
            format!("{name}: {}\n", mime.to_str().unwrap_or("?"))
        })
        .fallback(ServeDir::new(&root));
    println!("07_files: serving {root} on http://127.0.0.1:{port}");
    Server::bind(format!("127.0.0.1:{port}")).serve(app).await?;
    Ok(())
}

/// `--port PORT` (default 8080) and `--root DIR` (default `.`), parsed by
/// hand as examples/plaintext.rs does.
fn args() -> Result<(u16, String), String> {
    let mut args = std::env::args().skip(1);
    let (mut port, mut root) = (8080, String::from("."));
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" | "-p" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
            }
            "--root" => root = args.next().ok_or("--root needs a value")?,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: --port PORT --root DIR"
                ));
            }
        }
    }
    Ok((port, root))
}
