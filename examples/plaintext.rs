//! The benchmark server: `GET /plaintext` answers `Hello, World!`; every
//! other path is served from ROOT as the binary does (with compression). Accepts the binary's arguments:
//! `cargo run --release --example plaintext -- ROOT --bind ADDR --port PORT`.
//!
//! `--per-core` runs one current-thread runtime per CPU, each with its own
//! `SO_REUSEPORT` listener (the kernel spreads connections), instead of one
//! work-stealing runtime on a shared listener: the two layouts DESIGN.md
//! compares.

use std::net::SocketAddr;

use berth::{Compress, Handler, Request, Response, ServeDir, Server};
use bytes::Bytes;
use http::{HeaderValue, header};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut root = String::from("./public");
    let (mut bind, mut port) = (String::from("127.0.0.1"), String::from("8080"));
    let mut per_core = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--per-core" => per_core = true,
            "--bind" | "-b" => bind = args.next().ok_or("--bind needs a value")?,
            "--port" | "-p" => port = args.next().ok_or("--port needs a value")?,
            _ => root = arg,
        }
    }
    let addr: SocketAddr = format!("{bind}:{port}").parse()?;
    // The same file stack as the binary: compression (cached) over ServeDir.
    let files = Compress::new(
        ServeDir::new(&root)
            .precompressed(true)
            .open_file_cache(std::time::Duration::from_secs(1)),
    );
    let app = move |req: Request| {
        let files = if req.uri().path() == "/plaintext" {
            None
        } else {
            Some(files.call(req))
        };
        async move {
            match files {
                Some(response) => response.await,
                None => plaintext(),
            }
        }
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if per_core {
        let listen = berth::ListenOptions::reuse_port(true);
        let servers = (0..workers)
            .map(|_| Server::try_bind_with([addr], listen).map(|s| s.config(config())))
            .collect::<Result<Vec<_>, _>>()?;
        println!("plaintext: listening on http://{addr} ({workers} runtimes)");
        let threads: Vec<_> = servers
            .into_iter()
            .map(|server| {
                let app = app.clone();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime
                        .block_on(server.serve(app))
                        .map_err(std::io::Error::other)
                })
            })
            .collect();
        for thread in threads {
            thread.join().map_err(|_| "a server thread panicked")??;
        }
        return Ok(());
    }
    let mut builder = if workers == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = builder.enable_all().build()?;
    runtime.block_on(async move {
        let server = Server::try_bind(addr)?.config(config());
        println!("plaintext: listening on http://{addr}");
        server.serve(app).await
    })?;
    Ok(())
}

/// As the binary configures it: no handler here reads the client's
/// address, so requests do not carry it.
fn config() -> berth::ServerConfig {
    berth::ServerConfig {
        peer_addr: false,
        ..berth::ServerConfig::default()
    }
}

fn plaintext() -> Response {
    let mut res = Response::new(Bytes::from_static(b"Hello, World!").into());
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    res
}
