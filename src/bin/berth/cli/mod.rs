//! Command-line flags (`Args`, syntax only) and the validated `Config` they
//! resolve to (ripgrep's LowArgs → HiArgs). Each flag is also read from
//! `BERTH_<FLAG>` and from the `--config` file: one clap schema for all
//! three (see [`parse_args`]). This module owns the parse and the
//! resolution into `Config`; the schema is `args.rs`, the checks of single
//! values `values.rs`.

use std::cmp::Ordering;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use berth::{ServerConfig, Timeouts};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::access_log;
use crate::app::{Cors, SiteOptions};
use crate::config_file;
use crate::forwarded::TrustedProxies;

mod args;
mod values;

pub use args::{Args, DEFAULT_ROOT};
pub(crate) use values::header_field;
use values::{
    check_ops_paths, file_uri, parse_cache_control, parse_cors, parse_headers, resolve_bind,
    validate_health, validate_index,
};
pub use values::{parse_duration, parse_size, parse_size_usize};

/// Validated configuration for one run.
#[derive(Debug)]
pub struct Config {
    pub root: PathBuf,
    pub root_is_default: bool,
    /// `--bind` × `--port`.
    pub addrs: Vec<SocketAddr>,
    /// `--unix`.
    pub unix: Option<PathBuf>,
    /// `--tls-cert`/`--tls-key` or `--tls-self-signed`.
    pub tls: Option<TlsSource>,
    /// `--hsts` (only with TLS).
    pub hsts: Option<u64>,
    /// `--redirect-http` (only with TLS).
    pub redirect_http: Option<u16>,
    pub proxy_protocol: bool,
    /// `--auth` entries, `--auth-path`.
    pub auth: Vec<String>,
    pub auth_path: Option<String>,
    /// `--auth-insecure`.
    pub auth_insecure: bool,
    /// `--metrics` path.
    pub metrics: Option<String>,
    /// `--health` path.
    pub health: Option<String>,
    /// `--drain-delay`.
    pub drain_delay: Duration,
    /// Includes the access log (`None` with `--quiet`).
    pub server: ServerConfig,
    pub log_level: tracing::Level,
    /// What the app layer in front of `ServeDir` does.
    pub site: SiteOptions,
    /// Response compression; `None` with `--no-compress`.
    pub compress: Option<CompressOptions>,
    /// `--reuse-port`.
    pub reuse_port: bool,
    /// `--qrcode`.
    pub qrcode: bool,
    /// The config file's `[[rules]]`.
    pub rules: crate::rules::Rules,
}

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// `--tls-cert` and `--tls-key`.
    Files { cert: PathBuf, key: PathBuf },
    /// `--tls-self-signed`.
    SelfSigned {
        /// `--tls-self-signed-pem`: where to write the certificate.
        pem_out: Option<PathBuf>,
    },
}

/// `--compress-level` (and, by being there, compression on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompressOptions {
    /// One level for every coding; `None`: each coding's default.
    pub level: Option<u32>,
}

/// A configuration error: one line for the user, exit code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

/// Why the command line could not become a [`Config`].
#[derive(Debug)]
pub enum ParseError {
    /// A usage error, `--help` or `--version`: clap prints it and exits.
    Clap(clap::Error),
    /// One line for the user, exit code 2.
    Config(ConfigError),
}

impl From<ConfigError> for ParseError {
    fn from(e: ConfigError) -> Self {
        ParseError::Config(e)
    }
}

/// Parses `argv` (flags and `BERTH_*` variables), merges the `--config`
/// file beneath them, and returns the `Args` to validate.
///
/// Precedence is flag > environment > file > default: clap records where
/// each value came from (`ArgMatches::value_source`); every file key whose
/// argument came from neither the command line nor the environment becomes
/// `--name=value` tokens (see [`config_file`](crate::config_file)), which
/// are placed before the real arguments and parsed again, so one clap schema
/// parses and validates all three sources.
pub fn parse_args<I, T>(argv: I) -> Result<Args, ParseError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let cmd = Args::command();
    let matches = cmd
        .clone()
        .try_get_matches_from(&argv)
        .map_err(ParseError::Clap)?;
    let Some(path) = matches.get_one::<PathBuf>("config").cloned() else {
        let args = Args::from_arg_matches(&matches).map_err(ParseError::Clap)?;
        return quiet_or_verbose(args, &matches);
    };
    let table = config_file::load(&path)?;
    let from_file = config_file::merge(&cmd, &matches, &table, &path)?;
    let mut merged = Vec::with_capacity(argv.len() + from_file.tokens.len());
    merged.push(argv.first().cloned().unwrap_or_else(|| "berth".into()));
    merged.extend(from_file.tokens);
    merged.extend(argv.into_iter().skip(1));
    let merged = cmd.try_get_matches_from(merged).map_err(ParseError::Clap)?;
    let mut args = Args::from_arg_matches(&merged).map_err(ParseError::Clap)?;
    if args.root.is_none() {
        args.root = from_file.root;
    }
    args.rules = from_file.rules;
    quiet_or_verbose(args, &matches)
}

/// `--quiet` and `--verbose` set one thing, the stderr level: when both are
/// on, the one from the stronger source wins (`matches` is the parse
/// without the file, where a file value shows as absent); from the same
/// source they are a usage error.
fn quiet_or_verbose(mut args: Args, matches: &ArgMatches) -> Result<Args, ParseError> {
    if !args.quiet || args.verbose == 0 {
        return Ok(args);
    }
    let rank = |id| match matches.value_source(id) {
        Some(ValueSource::CommandLine) => 3,
        Some(ValueSource::EnvVariable) => 2,
        _ => 1,
    };
    match rank("quiet").cmp(&rank("verbose")) {
        Ordering::Greater => args.verbose = 0,
        Ordering::Less => args.quiet = false,
        Ordering::Equal => {
            return Err(ParseError::Config(ConfigError(
                "--quiet and --verbose cannot be used together".into(),
            )));
        }
    }
    Ok(args)
}

impl Config {
    pub fn from_args(args: Args) -> Result<Config, ConfigError> {
        let root_is_default = args.root.is_none();
        let root = args.root.unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        let addrs = args
            .bind
            .iter()
            .map(|b| resolve_bind(b, args.port))
            .collect::<Result<Vec<_>, _>>()?;
        let tls = match (args.tls_cert, args.tls_key, args.tls_self_signed) {
            (Some(cert), Some(key), _) => Some(TlsSource::Files { cert, key }),
            (None, None, true) => Some(TlsSource::SelfSigned {
                pem_out: args.tls_self_signed_pem,
            }),
            (None, None, false) => None,
            _ => {
                return Err(ConfigError("--tls-cert and --tls-key go together".into()));
            }
        };
        if tls.is_none() {
            for (flag, set) in [
                ("--hsts", args.hsts.is_some()),
                ("--redirect-http", args.redirect_http.is_some()),
                ("--http3", args.http3.http3),
            ] {
                if set {
                    return Err(ConfigError(format!(
                        "{flag} needs HTTPS (--tls-cert and --tls-key, or --tls-self-signed)"
                    )));
                }
            }
        }
        if args.http3.http3 && args.proxy_protocol {
            // The PROXY header travels on TCP: over QUIC the proxy's
            // address would be taken for the client's.
            return Err(ConfigError(
                "--http3 cannot be used with --proxy-protocol".into(),
            ));
        }
        if args.auth_path.is_some() && args.auth.is_empty() {
            return Err(ConfigError("--auth-path needs --auth".into()));
        }
        for (flag, path) in [
            ("--metrics", &args.metrics),
            ("--auth-path", &args.auth_path),
        ] {
            if let Some(path) = path
                && !path.starts_with('/')
            {
                return Err(ConfigError(format!(
                    "invalid {flag} {path:?}: give a path starting with /"
                )));
            }
        }
        if args.readme && !args.listing {
            return Err(ConfigError("--readme needs --listing".into()));
        }
        if args.max_connections == 0 {
            return Err(ConfigError("--max-connections must be at least 1".into()));
        }
        let trusted: TrustedProxies = args
            .trusted_proxy
            .iter()
            .map(|list| list.parse::<TrustedProxies>())
            .collect::<Result<_, _>>()
            .map_err(|e| ConfigError(e.to_string()))?;
        let defaults = ServerConfig::default();
        let server = ServerConfig {
            limits: berth::proto::Limits {
                max_head_bytes: args.max_head_bytes,
                max_headers: args.max_headers,
                max_target_bytes: args.max_target_bytes,
                ..defaults.limits
            },
            timeouts: Timeouts {
                head_read: args.head_timeout,
                keep_alive: args.keepalive_timeout,
                body_read: args.body_timeout,
                write: args.write_timeout,
                shutdown_grace: args.shutdown_grace,
                tls_handshake: args.tls_handshake_timeout,
                ..defaults.timeouts
            },
            max_connections: args.max_connections,
            max_body_bytes: args.max_body_bytes,
            http2: args.http2.config()?,
            http3: args.http3.config()?,
            access_log: (!args.quiet).then(|| access_log::stdout_log(args.log, trusted)),
            // No handler of the binary reads the address from the request
            // (the access log gets it from the connection).
            peer_addr: false,
            ..defaults
        };
        for (name, d) in [
            ("--head-timeout", args.head_timeout),
            ("--keepalive-timeout", args.keepalive_timeout),
            ("--body-timeout", args.body_timeout),
            ("--write-timeout", args.write_timeout),
            ("--tls-handshake-timeout", args.tls_handshake_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError(format!("{name} must be more than zero")));
            }
        }
        let log_level = match (args.quiet, args.verbose) {
            (true, _) => tracing::Level::ERROR,
            (false, 0) => tracing::Level::WARN,
            (false, 1) => tracing::Level::INFO,
            (false, _) => tracing::Level::DEBUG,
        };
        let cors = parse_cors(args.cors, &args.cors_origin)?;
        let mut uploads = args.upload.config()?;
        // Pages of the origins `--cors-origin` lists may upload too (not
        // every site's, with `--cors`).
        if let (Some(uploads), Cors::Origins(origins)) = (&mut uploads, &cors) {
            uploads.trusted_origins = origins.to_vec();
        }
        let site = SiteOptions {
            index: validate_index(args.index)?,
            hidden: args.hidden,
            follow_symlinks: args.follow_symlinks,
            open_file_cache: args.open_file_cache,
            listing: args.listing,
            archives: args.archives,
            readme: args.readme,
            precompressed: args.precompressed && !args.no_precompressed,
            spa: args
                .spa
                .as_deref()
                .map(|f| file_uri("--spa", f))
                .transpose()?,
            not_found: args
                .not_found
                .as_deref()
                .map(|f| file_uri("--404", f))
                .transpose()?,
            cache_control: Some(match args.cache_control.as_deref() {
                Some(value) => parse_cache_control(value)?,
                None => crate::app::file_cache(!args.auth.is_empty()),
            }),
            headers: parse_headers(&args.header)?,
            cors,
            uploads,
        };
        let health = args.health.map(validate_health).transpose()?;
        check_ops_paths(&root, health.as_deref(), args.metrics.as_deref())?;
        let compress = (!args.no_compress).then_some(CompressOptions {
            level: args.compress_level,
        });
        Ok(Config {
            root,
            root_is_default,
            addrs,
            unix: args.unix,
            tls,
            hsts: args.hsts,
            redirect_http: args.redirect_http,
            proxy_protocol: args.proxy_protocol,
            auth: args.auth,
            auth_path: args.auth_path,
            auth_insecure: args.auth_insecure,
            metrics: args.metrics,
            health,
            drain_delay: args.drain_delay,
            server,
            log_level,
            site,
            compress,
            reuse_port: args.reuse_port,
            qrcode: args.qrcode,
            rules: args.rules,
        })
    }
}

#[cfg(test)]
mod tests;
