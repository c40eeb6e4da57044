//! The `berth` binary: parse flags (and `BERTH_*` variables and the
//! `--config` file), set up logging, serve ROOT through the [`app::Site`]
//! layer (inside a [`Compress`] layer unless `--no-compress`) until Ctrl-C
//! or SIGTERM.
#![forbid(unsafe_code)]

mod access_log;
mod app;
mod cli;
mod config_file;

use std::path::Path;
use std::process::ExitCode;

use berth::{Compress, Handler, ListenOptions, Server};

use app::Site;
use cli::{Config, ParseError};

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
    let args = match cli::parse_args(std::env::args_os()) {
        Ok(args) => args,
        Err(ParseError::Clap(e)) => e.exit(),
        Err(ParseError::Config(e)) => return fail(&e.0),
    };
    let config = match Config::from_args(args) {
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
    warn_missing_pages(&config);
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
    let listen = ListenOptions::reuse_port(config.reuse_port);
    let server = match Server::try_bind_with([config.addr], listen) {
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
    let site = Site::new(&config.root, config.site);
    let app: Box<dyn Handler> = match config.compress {
        None => Box::new(site),
        Some(options) => {
            let mut layer = Compress::new(site);
            if let Some(level) = options.level {
                layer = layer.level(level);
            }
            Box::new(layer)
        }
    };
    match server.serve(app).await {
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

/// A `--spa` or `--404` file that is not there yet is worth a warning, not
/// a refusal to start (it may be deployed later).
fn warn_missing_pages(config: &Config) {
    let pages = [
        ("--spa", &config.site.spa),
        ("--404", &config.site.not_found),
    ];
    for (flag, uri) in pages {
        let Some(uri) = uri else { continue };
        let rel = percent_encoding::percent_decode_str(uri.path().trim_start_matches('/'))
            .decode_utf8_lossy()
            .into_owned();
        if !config.root.join(&rel).is_file() {
            tracing::warn!("{flag} {rel}: no such file in ROOT yet; requests get the plain 404");
        }
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
