//! The `berth` binary: parse flags, set up logging, serve ROOT until Ctrl-C
//! or SIGTERM.

mod cli;

use std::path::Path;
use std::process::ExitCode;

use berth::{ServeDir, Server};
use clap::Parser;

use cli::{Args, Config};

const WELCOME: &str = "<!doctype html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>berth</title></head>
<body>
<h1>Welcome to berth</h1>
<p>berth is serving this folder. Put your files in <code>./public</code>.</p>
</body>
</html>
";

fn main() -> ExitCode {
    let config = match Config::from_args(Args::parse()) {
        Ok(config) => config,
        Err(e) => return fail(&e.0),
    };
    tracing_subscriber::fmt()
        .with_max_level(config.log_level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    if let Err(message) = prepare_root(&config.root, config.root_is_default) {
        return fail(&message);
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    let server = match Server::try_bind(config.addr) {
        Ok(server) => server,
        Err(e) => {
            let hint = e
                .hint()
                .map(|h| format!(" (hint: {h})"))
                .unwrap_or_default();
            return fail(&format!("{e}{hint}"));
        }
    };
    let shutdown = match shutdown_signal() {
        Ok(signal) => signal,
        Err(message) => return fail(&message),
    };
    let addr = server.local_addrs().first().copied().unwrap_or(config.addr);
    println!("berth: serving {} on http://{addr}", config.root.display());
    let server = server
        .config(config.server)
        .with_graceful_shutdown(shutdown);
    match server.serve(ServeDir::new(&config.root)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

/// Checks ROOT; creates the default one with a welcome page when missing,
/// never overwriting anything.
fn prepare_root(root: &Path, is_default: bool) -> Result<(), String> {
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(format!("{} is not a directory", root.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_default => {
            std::fs::create_dir_all(root)
                .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
            let index = root.join("index.html");
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&index)
                .and_then(|mut f| std::io::Write::write_all(&mut f, WELCOME.as_bytes()))
                .map_err(|e| format!("cannot create {}: {e}", index.display()))?;
            eprintln!("berth: created {} with a welcome page", root.display());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("{}: no such directory", root.display()))
        }
        Err(e) => Err(format!("{}: {e}", root.display())),
    }
}

/// Registers SIGINT and SIGTERM handlers now (so a signal that arrives
/// right after the startup line is already ours) and returns the future
/// that completes on the first of them.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let register = |kind| signal(kind).map_err(|e| format!("cannot install signal handlers: {e}"));
    let mut interrupt = register(SignalKind::interrupt())?;
    let mut terminate = register(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("berth: shutting down");
    })
}

fn fail(message: &str) -> ExitCode {
    eprintln!("berth: {message}");
    ExitCode::from(2)
}
