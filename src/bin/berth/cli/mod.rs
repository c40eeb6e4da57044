//! Command-line flags (`Args`, syntax only) and the validated `Config` they
//! resolve to, in one place (ripgrep's LowArgs → HiArgs). Each flag is also
//! read from `BERTH_<FLAG>` and from the `--config` file: one clap schema
//! for all three (see [`parse_args`]).

use std::cmp::Ordering;
use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use berth::http::{HeaderName, HeaderValue, Uri};
use berth::{ServerConfig, Timeouts};
use clap::builder::BoolishValueParser;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::access_log::{self, LogFormat};
use crate::app::{Cors, SiteOptions};
use crate::config_file;
use crate::forwarded::TrustedProxies;

/// The default ROOT, created with a welcome page when missing.
pub const DEFAULT_ROOT: &str = "./public";

/// berth: a static file server, HTTP/1.1 on berth's own engine and HTTP/2.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about)]
pub struct Args {
    /// Directory to serve [default: ./public, created with a welcome page
    /// when missing].
    #[arg(value_name = "ROOT", env = "BERTH_ROOT")]
    pub root: Option<PathBuf>,

    /// Address to listen on: an IP address (`0.0.0.0`, `[::]` for IPv6
    /// and IPv4), `localhost`, or ADDR:PORT to override --port (repeatable
    /// or comma-separated).
    #[arg(
        short,
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1",
        value_delimiter = ',',
        env = "BERTH_BIND"
    )]
    pub bind: Vec<String>,

    /// Port to listen on; 0 picks a free port.
    #[arg(short, long, default_value_t = 8080, env = "BERTH_PORT")]
    pub port: u16,

    /// Time allowed for a whole request head to arrive (e.g. 10s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, env = "BERTH_HEAD_TIMEOUT")]
    pub head_timeout: Duration,

    /// Idle time allowed between requests on a kept-alive connection.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration, env = "BERTH_KEEPALIVE_TIMEOUT")]
    pub keepalive_timeout: Duration,

    /// Longest pause allowed while a request body arrives.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, env = "BERTH_BODY_TIMEOUT")]
    pub body_timeout: Duration,

    /// Longest a response write may make no progress.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, env = "BERTH_WRITE_TIMEOUT")]
    pub write_timeout: Duration,

    /// Time in-flight requests get to finish on shutdown (also `--grace`).
    #[arg(long, visible_alias = "grace", value_name = "DURATION", default_value = "10s", value_parser = parse_duration, env = "BERTH_SHUTDOWN_GRACE")]
    pub shutdown_grace: Duration,

    /// Also listen on a Unix domain socket at PATH (removed on a clean
    /// exit; a file there that is not a stale socket is never removed)
    /// [default: none].
    #[arg(long, value_name = "PATH", env = "BERTH_UNIX")]
    pub unix: Option<PathBuf>,

    /// Serve HTTPS with this PEM certificate chain (leaf first); needs
    /// --tls-key. SIGHUP reloads both files [default: none].
    #[arg(
        long,
        value_name = "FILE",
        env = "BERTH_TLS_CERT",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key for --tls-cert [default: none].
    #[arg(
        long,
        value_name = "FILE",
        env = "BERTH_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a certificate generated in memory for localhost
    /// (development only; its SHA-256 fingerprint is printed)
    /// [default: off].
    #[arg(long, env = "BERTH_TLS_SELF_SIGNED", value_parser = BoolishValueParser::new(), conflicts_with = "tls_cert")]
    pub tls_self_signed: bool,

    /// Time allowed for a TLS handshake.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, env = "BERTH_TLS_HANDSHAKE_TIMEOUT")]
    pub tls_handshake_timeout: Duration,

    /// Send `Strict-Transport-Security: max-age=SECONDS` on HTTPS responses
    /// [default: none].
    #[arg(long, value_name = "SECONDS", env = "BERTH_HSTS")]
    pub hsts: Option<u64>,

    /// Also listen for plain HTTP on PORT (same addresses) and answer every
    /// request with a 308 to the https:// URL [default: none].
    #[arg(long, value_name = "PORT", env = "BERTH_REDIRECT_HTTP")]
    pub redirect_http: Option<u16>,

    /// Expect a PROXY protocol (v1 or v2) header on every connection, as
    /// sent by HAProxy `send-proxy`; connections without one are closed
    /// [default: off].
    #[arg(long, env = "BERTH_PROXY_PROTOCOL", value_parser = BoolishValueParser::new())]
    pub proxy_protocol: bool,

    /// A proxy (IP or CIDR) whose Forwarded / X-Forwarded-For headers name
    /// the client in the access log (repeatable or comma-separated).
    /// `Forwarded` wins when present: a proxy that only appends
    /// X-Forwarded-For must delete a client's own `Forwarded`
    /// [default: none].
    #[arg(
        long,
        value_name = "CIDR",
        value_delimiter = ',',
        env = "BERTH_TRUSTED_PROXY"
    )]
    pub trusted_proxy: Vec<String>,

    /// Require HTTP Basic authentication: USER:HASH with an argon2 or bcrypt
    /// hash (repeatable; plain passwords are refused). Only over HTTPS or on
    /// loopback, unless --auth-insecure [default: none].
    #[arg(long, value_name = "USER:HASH", env = "BERTH_AUTH")]
    pub auth: Vec<String>,

    /// Only paths under this prefix need --auth [default: every path].
    #[arg(long, value_name = "PATH", env = "BERTH_AUTH_PATH")]
    pub auth_path: Option<String>,

    /// Allow --auth over plain HTTP on a non-loopback address (passwords
    /// cross the network readable) [default: off].
    #[arg(long, env = "BERTH_AUTH_INSECURE", value_parser = BoolishValueParser::new())]
    pub auth_insecure: bool,

    /// Serve Prometheus metrics on exactly PATH (e.g. /metrics)
    /// [default: none].
    #[arg(long, value_name = "PATH", env = "BERTH_METRICS")]
    pub metrics: Option<String>,

    /// On SIGTERM/SIGINT, keep serving this long with the --health path
    /// answering 503 (so a load balancer stops sending traffic), then stop
    /// accepting and drain [default: 0s].
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration, env = "BERTH_DRAIN_DELAY")]
    pub drain_delay: Duration,

    /// Listen with SO_REUSEPORT, so a new berth can start on the same port
    /// while this one drains (rolling restarts) [default: off].
    #[arg(long, env = "BERTH_REUSE_PORT", value_parser = BoolishValueParser::new())]
    pub reuse_port: bool,

    /// Most connections open at once (more wait in the listen backlog).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        env = "BERTH_MAX_CONNECTIONS"
    )]
    pub max_connections: usize,

    /// Largest request head in bytes (431 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024, env = "BERTH_MAX_HEAD_BYTES")]
    pub max_head_bytes: usize,

    /// Most header fields in a request (431 beyond).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        env = "BERTH_MAX_HEADERS"
    )]
    pub max_headers: usize,

    /// Longest request target in bytes (414 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024, env = "BERTH_MAX_TARGET_BYTES")]
    pub max_target_bytes: usize,

    /// Largest request body in bytes (413 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024, env = "BERTH_MAX_BODY_BYTES")]
    pub max_body_bytes: u64,

    /// Log more on stderr (-v: requests and connection errors, -vv: debug)
    /// [default: warnings and errors].
    #[arg(short, long, action = clap::ArgAction::Count, env = "BERTH_VERBOSE")]
    pub verbose: u8,

    /// No access log, and only errors on stderr (against --verbose, the one
    /// from the stronger source wins: flag, then env, then file)
    /// [default: off].
    #[arg(short, long, env = "BERTH_QUIET", value_parser = BoolishValueParser::new())]
    pub quiet: bool,

    /// TOML file setting any of these options by their long names
    /// (`port = 8080`, `head-timeout = "10s"`, `header = ["X-A: b"]`);
    /// flags and BERTH_* variables take precedence over it [default: none].
    #[arg(short, long, value_name = "FILE", env = "BERTH_CONFIG")]
    pub config: Option<PathBuf>,

    /// File served for a directory requested with a trailing slash
    /// (repeatable).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "index.html",
        env = "BERTH_INDEX"
    )]
    pub index: Vec<String>,

    /// Single-page app: serve FILE (200, Cache-Control: no-cache) instead
    /// of a 404 to navigations (GET/HEAD accepting text/html for a path whose
    /// last segment has no `.`); assets such as /app.js keep their 404
    /// [default: none].
    #[arg(long, value_name = "FILE", env = "BERTH_SPA")]
    pub spa: Option<String>,

    /// Page served, with status 404, when nothing else is found
    /// [default: none: a short text].
    #[arg(long = "404", value_name = "FILE", env = "BERTH_404")]
    pub not_found: Option<String>,

    /// Cache-Control for 200/206/304 file responses that have none, e.g.
    /// `no-cache` or `public, max-age=31536000, immutable` (hashed assets).
    /// None by default: the right lifetime depends on the site, and
    /// ETag/Last-Modified let clients revalidate [default: none].
    #[arg(long, value_name = "VALUE", env = "BERTH_CACHE_CONTROL")]
    pub cache_control: Option<String>,

    /// Header set on every response, replacing one of the same name
    /// (repeatable; framing and hop-by-hop headers are refused)
    /// [default: none].
    #[arg(long, value_name = "'NAME: VALUE'", env = "BERTH_HEADER")]
    pub header: Vec<String>,

    /// Allow cross-origin GET/HEAD from any origin (`Access-Control-Allow-Origin: *`)
    /// and answer CORS preflights [default: off].
    #[arg(long, env = "BERTH_CORS", value_parser = BoolishValueParser::new())]
    pub cors: bool,

    /// Allow cross-origin requests from ORIGIN only, e.g.
    /// `https://app.example` (repeatable or comma-separated; implies
    /// --cors) [default: none].
    #[arg(
        long,
        value_name = "ORIGIN",
        value_delimiter = ',',
        env = "BERTH_CORS_ORIGIN"
    )]
    pub cors_origin: Vec<String>,

    /// Access log format, one line per response on stdout (`common` and
    /// `combined` as Apache writes them; `json` adds the duration).
    #[arg(
        long,
        value_name = "FORMAT",
        value_enum,
        default_value_t = LogFormat::Combined,
        env = "BERTH_LOG"
    )]
    pub log: LogFormat,

    /// Answer GET/HEAD on exactly PATH with 200 `ok`, without touching the
    /// disk (for load balancers) [default: none].
    #[arg(long, value_name = "PATH", env = "BERTH_HEALTH")]
    pub health: Option<String>,

    /// List the contents of directories without an index file
    /// [default: off: 404].
    #[arg(long, env = "BERTH_LISTING", value_parser = BoolishValueParser::new())]
    pub listing: bool,

    /// Serve dotfiles and dot-directories [default: off: 404].
    #[arg(long, env = "BERTH_HIDDEN", value_parser = BoolishValueParser::new())]
    pub hidden: bool,

    /// Follow symlinks that stay inside ROOT [default: off: 404].
    #[arg(long, env = "BERTH_FOLLOW_SYMLINKS", value_parser = BoolishValueParser::new())]
    pub follow_symlinks: bool,

    /// Reuse an opened file (descriptor and metadata) for this long, like
    /// nginx's open_file_cache; a file replaced meanwhile is served as it
    /// was until then. 0 turns it off.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, env = "BERTH_OPEN_FILE_CACHE")]
    pub open_file_cache: Duration,

    /// Do not compress responses. Compression is on by default: zstd, br
    /// or gzip as the client accepts, for text-like types of 1 KiB and
    /// more, static files compressed once and kept in a 64 MiB cache
    /// [default: off: compression on].
    #[arg(long, env = "BERTH_NO_COMPRESS", value_parser = BoolishValueParser::new())]
    pub no_compress: bool,

    /// Compression level for every coding, clamped to each one's range
    /// (gzip 1-9, brotli 0-11, zstd 1-22) [default: gzip 2, brotli 4,
    /// zstd 3].
    #[arg(
        long,
        value_name = "N",
        env = "BERTH_COMPRESS_LEVEL",
        value_parser = clap::value_parser!(u32).range(0..=22)
    )]
    pub compress_level: Option<u32>,

    #[command(flatten)]
    pub http2: crate::cli_http2::Http2Args,

    /// Serve precompressed copies FILE.zst, FILE.br, FILE.gz (the best one
    /// the client accepts, when no older than FILE) [default: on].
    #[arg(
        long,
        env = "BERTH_PRECOMPRESSED",
        default_value = "true",
        value_parser = BoolishValueParser::new(),
        overrides_with = "no_precompressed"
    )]
    pub precompressed: bool,

    /// Do not serve precompressed copies [default: off: they are served].
    #[arg(
        long,
        env = "BERTH_NO_PRECOMPRESSED",
        value_parser = BoolishValueParser::new(),
        overrides_with = "precompressed"
    )]
    pub no_precompressed: bool,
}

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
}

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// `--tls-cert` and `--tls-key`.
    Files { cert: PathBuf, key: PathBuf },
    /// `--tls-self-signed`.
    SelfSigned,
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
            (None, None, true) => Some(TlsSource::SelfSigned),
            (None, None, false) => None,
            _ => {
                return Err(ConfigError("--tls-cert and --tls-key go together".into()));
            }
        };
        if tls.is_none() {
            for (flag, set) in [
                ("--hsts", args.hsts.is_some()),
                ("--redirect-http", args.redirect_http.is_some()),
            ] {
                if set {
                    return Err(ConfigError(format!(
                        "{flag} needs HTTPS (--tls-cert and --tls-key, or --tls-self-signed)"
                    )));
                }
            }
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
        let site = SiteOptions {
            index: validate_index(args.index)?,
            hidden: args.hidden,
            follow_symlinks: args.follow_symlinks,
            open_file_cache: args.open_file_cache,
            listing: args.listing,
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
            cache_control: args
                .cache_control
                .as_deref()
                .map(parse_cache_control)
                .transpose()?,
            headers: parse_headers(&args.header)?,
            cors: parse_cors(args.cors, &args.cors_origin)?,
        };
        let health = args.health.map(validate_health).transpose()?;
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
        })
    }
}

/// `--index`: plain file names (one path component each).
fn validate_index(names: Vec<String>) -> Result<Vec<String>, ConfigError> {
    for name in &names {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains('/')
            && !name.chars().any(char::is_control);
        if !plain {
            return Err(ConfigError(format!(
                "invalid --index {name:?}: give a file name such as index.html (no '/')"
            )));
        }
    }
    Ok(names)
}

/// `--spa` and `--404`: a file beneath ROOT, as the URI path `ServeDir` is
/// asked for (each segment percent-encoded).
fn file_uri(flag: &str, file: &str) -> Result<Uri, ConfigError> {
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'[')
        .add(b'\\')
        .add(b']')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    let bad = |why: &str| ConfigError(format!("invalid {flag} {file:?}: {why}"));
    let rel = file.strip_prefix('/').unwrap_or(file);
    let mut path = String::with_capacity(rel.len() + 1);
    for segment in rel.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(bad("give a file path inside ROOT, such as index.html"));
        }
        if segment.chars().any(char::is_control) {
            return Err(bad("control characters in the name"));
        }
        path.push('/');
        path.extend(utf8_percent_encode(segment, SEGMENT));
    }
    Uri::try_from(path).map_err(|_| bad("not a usable file name"))
}

fn parse_cache_control(value: &str) -> Result<HeaderValue, ConfigError> {
    match HeaderValue::from_str(value.trim()) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(ConfigError(format!(
            "invalid --cache-control {value:?}: give a header value such as \"no-cache\""
        ))),
    }
}

/// Headers the server owns (framing and hop-by-hop): `--header` refuses them.
const OWNED_HEADERS: [&str; 8] = [
    "connection",
    "content-length",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// `--header 'Name: value'`, grouped by name in first-seen order.
fn parse_headers(specs: &[String]) -> Result<Vec<(HeaderName, Vec<HeaderValue>)>, ConfigError> {
    let mut out: Vec<(HeaderName, Vec<HeaderValue>)> = Vec::new();
    for spec in specs {
        let bad = |why: &str| ConfigError(format!("invalid --header {spec:?}: {why}"));
        let (name, value) = spec
            .split_once(':')
            .ok_or_else(|| bad("expected 'Name: value'"))?;
        let name = HeaderName::from_bytes(name.trim_end().as_bytes())
            .map_err(|_| bad("the name is not a valid header name"))?;
        if OWNED_HEADERS.contains(&name.as_str()) {
            return Err(bad("berth sets this header itself"));
        }
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| bad("the value has control characters"))?;
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => out.push((name, vec![value])),
        }
    }
    Ok(out)
}

/// `--cors` and `--cors-origin`: origins are `scheme://host[:port]`,
/// compared case-insensitively; `*` means any.
fn parse_cors(any: bool, origins: &[String]) -> Result<Cors, ConfigError> {
    if origins.is_empty() {
        return Ok(if any { Cors::Any } else { Cors::Off });
    }
    let mut list = Vec::with_capacity(origins.len());
    for origin in origins {
        let origin = origin.trim();
        if origin == "*" {
            return Ok(Cors::Any);
        }
        let valid = origin.split_once("://").is_some_and(|(scheme, host)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !host.is_empty()
                && !host.contains(['/', '?', '#'])
        }) && HeaderValue::from_str(origin).is_ok();
        if !valid {
            return Err(ConfigError(format!(
                "invalid --cors-origin {origin:?}: give scheme://host[:port], \
                 such as https://app.example (no path)"
            )));
        }
        list.push(origin.to_ascii_lowercase());
    }
    Ok(Cors::Origins(list))
}

/// `--health`: an absolute path, compared exactly with the request's.
fn validate_health(path: String) -> Result<String, ConfigError> {
    if !path.starts_with('/') || path.contains(['?', '#']) || Uri::try_from(&path).is_err() {
        return Err(ConfigError(format!(
            "invalid --health {path:?}: give a path such as /healthz"
        )));
    }
    Ok(path)
}

fn resolve_bind(bind: &str, port: u16) -> Result<SocketAddr, ConfigError> {
    if let Ok(addr) = bind.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some((host, p)) = bind.rsplit_once(':')
        && host.eq_ignore_ascii_case("localhost")
        && let Ok(p) = p.parse::<u16>()
    {
        return resolve_bind(host, p);
    }
    let trimmed = bind.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let hint = "give an IP address such as 127.0.0.1, 0.0.0.0 or ::1";
    let localhost = bind.eq_ignore_ascii_case("localhost");
    if let Some(addr) = localhost
        .then(|| {
            (bind, port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
        })
        .flatten()
    {
        return Ok(addr);
    }
    Err(ConfigError(format!(
        "invalid --bind address {bind:?}: not an IP address ({hint})"
    )))
}

/// `10s`, `500ms`, `2m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (use e.g. 10s or 500ms)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("invalid duration unit in {s:?} (use ms, s or m)")),
    };
    if !seconds.is_finite() || !(0.0..=86_400.0).contains(&seconds) {
        return Err(format!("duration {s:?} out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests;
