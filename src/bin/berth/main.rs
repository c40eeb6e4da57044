//! The `berth` binary: parse flags (and `BERTH_*` variables and the
//! `--config` file), set up logging, serve ROOT through the [`app::Site`]
//! layer (inside a [`Compress`] layer unless `--no-compress`) until Ctrl-C
//! or SIGTERM.
#![forbid(unsafe_code)]

mod access_log;
mod addresses;
mod app;
mod auth;
mod cli;
mod cli_http2;
mod cli_http3;
mod config_file;
mod forwarded;
mod ops;
mod rules;
mod systemd;
mod upload;

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use berth::http::HeaderValue;
use berth::server::Metrics;
use berth::{Compress, Handler, ListenOptions, Server, ShutdownHandle, TlsConfig};

use app::Site;
use auth::BasicAuth;
use cli::{Config, ParseError, TlsSource};
use ops::{Draining, Ops, RedirectToHttps};

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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
    match start(config).await {
        Ok(code) => code,
        Err(message) => fail(&message),
    }
}

/// Binds everything, prints where berth serves, and serves until a signal.
async fn start(mut config: Config) -> Result<ExitCode, String> {
    let tls = load_tls(&config)?;
    let draining = Draining::default();
    let metrics = config.metrics.as_ref().map(|_| Metrics::new());
    config.server.metrics = metrics.clone();
    let listing = config.site.listing;
    let uploads_on = config.site.uploads.is_some();
    let app = build_app(&mut config, tls.is_some(), draining.clone(), metrics)?;
    let signals = Signals::register()?;
    let server = listen(&config)?;
    // --auth over plain HTTP only on loopback, checked on the sockets
    // actually served (systemd may pass other ones than --bind names).
    if !config.auth.is_empty()
        && tls.is_none()
        && !config.auth_insecure
        && !server.local_addrs().iter().all(|a| a.ip().is_loopback())
    {
        return Err(
            "--auth over plain HTTP on a non-loopback socket sends passwords readable; \
             use --tls-cert/--tls-key, or --auth-insecure if a TLS proxy is in front"
                .into(),
        );
    }
    upload::refuse_open_uploads(&upload::Exposure {
        uploads: uploads_on,
        tls: tls.is_some(),
        auth_everywhere: !config.auth.is_empty() && config.auth_path.is_none(),
        addrs: &server.local_addrs(),
    })?;
    let https_port = server.local_addrs().first().map_or(443, SocketAddr::port);
    let redirect = match config.redirect_http {
        Some(port) => {
            let addrs = config.addrs.iter().map(|a| SocketAddr::new(a.ip(), port));
            Some(
                Server::try_bind_with(addrs, ListenOptions::reuse_port(config.reuse_port))
                    .map_err(with_hint)?,
            )
        }
        None => None,
    };
    // Last, so that a failure above leaves no socket file behind.
    let server = match &config.unix {
        Some(path) => server.bind_unix(path).map_err(with_hint)?,
        None => server,
    };

    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut places: Vec<String> = server
        .local_addrs()
        .iter()
        .map(|a| format!("{scheme}://{a}"))
        .collect();
    if let Some(path) = &config.unix {
        places.push(format!("unix:{}", path.display()));
    }
    if places.is_empty() {
        // Only Unix sockets passed by systemd.
        places.push("sockets passed by systemd".into());
    }
    let (first, rest) = places.split_first().ok_or("nothing to listen on")?;
    println!("berth: serving {} on {first}", config.root.display());
    for place in rest {
        println!("berth: also on {place}");
    }
    if config.server.http3.enabled {
        for a in server.local_addrs() {
            println!("berth: HTTP/3 (QUIC) on udp {a}");
        }
    }
    if let Some(redirect) = &redirect {
        for a in redirect.local_addrs() {
            println!("berth: redirecting http://{a} to https");
        }
    }
    // Behind 0.0.0.0 or ::, the addresses to open; the QR code.
    let tcp = server.local_addrs();
    let interfaces = if tcp.iter().any(|a| a.ip().is_unspecified()) {
        addresses::interface_addrs()
    } else {
        Ok(Vec::new())
    };
    addresses::announce(scheme, &tcp, interfaces, config.qrcode);
    if !listing {
        // miniserve users expect a listing; say why a folder is a 404.
        eprintln!("berth: directory listings are off (--listing turns them on)");
    }
    if let Some(tls) = &tls
        && tls.certificate_pem().is_some()
    {
        println!(
            "berth: self-signed certificate for localhost, SHA-256 fingerprint {}",
            tls.fingerprint()
        );
        if let Some(TlsSource::SelfSigned {
            pem_out: Some(path),
        }) = &config.tls
        {
            println!(
                "berth: certificate written to {} (trust it with: curl --cacert {} https://localhost:{}/)",
                path.display(),
                path.display(),
                server.local_addrs().first().map_or(443, |a| a.port())
            );
        }
    }

    let server_config = config.server.clone();
    let server = server
        .config(server_config.clone())
        .proxy_protocol(config.proxy_protocol);
    let server = match &tls {
        Some(tls) => server.tls(tls.clone()),
        None => server,
    };
    let handles: Vec<ShutdownHandle> = std::iter::once(server.shutdown_handle())
        .chain(redirect.as_ref().map(Server::shutdown_handle))
        .collect();
    tokio::spawn(signals.run(handles, draining.clone(), config.drain_delay, tls.clone()));

    let redirecting = async {
        match redirect {
            Some(r) => {
                // Plain HTTP: no QUIC beside it.
                let mut server_config = server_config;
                server_config.http3.enabled = false;
                r.config(server_config)
                    .proxy_protocol(config.proxy_protocol)
                    .serve(RedirectToHttps { https_port })
                    .await
            }
            None => Ok(()),
        }
    };
    let (served, redirected) = tokio::join!(server.serve(app), redirecting);
    served.and(redirected).map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// The layers, outermost first: [`Ops`] (health, metrics, HSTS), then the
/// body limit (the uploads' for `PUT` and `POST` with `--upload`), then
/// [`Compress`] unless `--no-compress`, then the config file's [`rules`]
/// (redirects, rewrites, header rules), then [`BasicAuth`] with `--auth`,
/// then the [`Site`].
///
/// Rules sit outside auth so that auth judges the path a rewrite serves;
/// Compress sits outside the rules so that it sees their headers (a rule's
/// `Cache-Control: no-transform` is honoured) and the coded copies carry
/// them.
fn build_app(
    config: &mut Config,
    https: bool,
    draining: Draining,
    metrics: Option<std::sync::Arc<Metrics>>,
) -> Result<Ops, String> {
    let max_upload = config.site.uploads.as_ref().map(|u| u.max_bytes);
    let site = Site::new(&config.root, std::mem::take(&mut config.site));
    let mut app: Box<dyn Handler> = Box::new(site);
    if !config.auth.is_empty() {
        let mut auth = BasicAuth::new(app, "berth");
        for spec in &config.auth {
            auth = auth
                .user_spec(spec)
                .map_err(|e| format!("invalid --auth: {e}"))?;
        }
        if let Some(prefix) = &config.auth_path {
            auth = auth
                .path_prefix(prefix)
                .map_err(|e| format!("invalid --auth-path: {e}"))?;
        }
        app = Box::new(auth);
    }
    if !config.rules.is_empty() {
        let rules = std::sync::Arc::new(std::mem::take(&mut config.rules));
        app = Box::new(rules::Routed { rules, inner: app });
    }
    if let Some(options) = config.compress {
        let mut layer = Compress::new(app);
        if let Some(level) = options.level {
            layer = layer.level(level);
        }
        app = Box::new(layer);
    }
    // A body declared over the limit is refused before any layer sees the
    // request (nginx's `client_max_body_size`), as no layer reads one;
    // uploads have their own.
    let app = upload::body_limits(app, config.server.max_body_bytes, max_upload);
    let hsts = config
        .hsts
        .filter(|_| https)
        .and_then(|secs| HeaderValue::try_from(format!("max-age={secs}")).ok());
    Ok(Ops {
        inner: app,
        health: config.health.clone(),
        metrics: config
            .metrics
            .clone()
            .zip(metrics)
            .map(|(path, m)| (path, Box::new(m.handler()) as Box<dyn Handler>)),
        hsts,
        draining,
    })
}

/// The TCP listeners: sockets passed by systemd (`LISTEN_FDS`) when there
/// are any, else `--bind` × `--port`. (`--unix` is bound last, in `start`.)
fn listen(config: &Config) -> Result<Server, String> {
    let activated = systemd::listeners()?;
    let server = if activated.is_empty() {
        let options = ListenOptions::reuse_port(config.reuse_port);
        Server::try_bind_with(config.addrs.iter().copied(), options).map_err(with_hint)?
    } else {
        activated
            .into_iter()
            .fold(Server::new(), |server, l| server.listen_on(l))
    };
    Ok(server)
}

fn load_tls(config: &Config) -> Result<Option<TlsConfig>, String> {
    let tls = match &config.tls {
        None => return Ok(None),
        Some(TlsSource::Files { cert, key }) => TlsConfig::from_pem_files(cert, key),
        Some(TlsSource::SelfSigned { pem_out }) => {
            let tls = TlsConfig::self_signed(&["localhost", "127.0.0.1", "::1"])
                .map_err(|e| e.to_string())?;
            if let (Some(path), Some(pem)) = (pem_out, tls.certificate_pem()) {
                std::fs::write(path, pem).map_err(|e| {
                    format!("cannot write the certificate to {}: {e}", path.display())
                })?;
            }
            Ok(tls)
        }
    };
    tls.map(Some).map_err(|e| e.to_string())
}

fn with_hint(e: berth::Error) -> String {
    let hint = e
        .hint()
        .map(|h| format!(" (hint: {h})"))
        .unwrap_or_default();
    format!("{e}{hint}")
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

/// The signals berth acts on, registered before the startup line so that
/// a signal arriving right after it is already ours.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> Result<Signals, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let register =
            |kind| signal(kind).map_err(|e| format!("cannot install signal handlers: {e}"));
        Ok(Signals {
            interrupt: register(SignalKind::interrupt())?,
            terminate: register(SignalKind::terminate())?,
            hangup: register(SignalKind::hangup())?,
        })
    }

    /// SIGHUP reloads the certificate (a failure keeps the old one).
    /// SIGINT/SIGTERM start draining: the health check answers 503 for
    /// `drain_delay` (a second signal cuts that short), then the servers
    /// stop accepting and finish their requests.
    async fn run(
        mut self,
        servers: Vec<ShutdownHandle>,
        draining: Draining,
        drain_delay: Duration,
        tls: Option<TlsConfig>,
    ) {
        loop {
            tokio::select! {
                _ = self.interrupt.recv() => break,
                _ = self.terminate.recv() => break,
                _ = self.hangup.recv() => reload(tls.as_ref()),
            }
        }
        draining.start();
        if !drain_delay.is_zero() {
            eprintln!(
                "berth: draining for {} ms (health check answers 503)",
                drain_delay.as_millis()
            );
            tokio::select! {
                _ = tokio::time::sleep(drain_delay) => {}
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        eprintln!("berth: shutting down");
        for server in servers {
            server.shutdown();
        }
    }
}

fn reload(tls: Option<&TlsConfig>) {
    let Some(tls) = tls else {
        tracing::info!("SIGHUP: nothing to reload (no --tls-cert)");
        return;
    };
    match tls.reload() {
        Ok(()) => eprintln!(
            "berth: certificate reloaded, SHA-256 fingerprint {}",
            tls.fingerprint()
        ),
        Err(e) => eprintln!("berth: certificate reload failed, keeping the current one: {e}"),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("berth: {message}");
    ExitCode::from(2)
}
