//! The command line's syntax: [`Args`], the clap schema of every flag with
//! its `BERTH_*` variable and default. Nothing is checked here beyond what
//! clap checks; [`Config::from_args`](super::Config::from_args) validates.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use clap::builder::BoolishValueParser;

use super::{parse_duration, parse_size, parse_size_usize};
use crate::access_log::LogFormat;

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

    /// Print a QR code of the address a phone on the same network would
    /// open (the first non-loopback one; with --bind 0.0.0.0 or [::],
    /// the first interface's) on stderr at start-up [default: off].
    #[arg(long, env = "BERTH_QRCODE", value_parser = BoolishValueParser::new())]
    pub qrcode: bool,

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

    /// With --tls-self-signed: write the generated certificate (PEM) to
    /// FILE, for clients to trust (`curl --cacert FILE`) [default: none].
    #[arg(
        long,
        value_name = "FILE",
        env = "BERTH_TLS_SELF_SIGNED_PEM",
        requires = "tls_self_signed"
    )]
    pub tls_self_signed_pem: Option<PathBuf>,

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
    /// hash (repeatable; plain passwords are refused; BERTH_AUTH takes one
    /// per line). Only over HTTPS or on loopback, unless --auth-insecure
    /// [default: none].
    #[arg(
        long,
        value_name = "USER:HASH",
        value_delimiter = '\n',
        env = "BERTH_AUTH"
    )]
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
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024, value_parser = parse_size_usize, env = "BERTH_MAX_HEAD_BYTES")]
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
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024, value_parser = parse_size_usize, env = "BERTH_MAX_TARGET_BYTES")]
    pub max_target_bytes: usize,

    /// Largest request body in bytes (413 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024, value_parser = parse_size, env = "BERTH_MAX_BODY_BYTES")]
    pub max_body_bytes: u64,

    /// Log more on stderr (-v: each request, and client errors such as a
    /// bad request or a failed TLS handshake; -vv: debug)
    /// [default: warnings and errors].
    #[arg(short, long, action = clap::ArgAction::Count, env = "BERTH_VERBOSE")]
    pub verbose: u8,

    /// No access log, and only errors on stderr after the start-up lines
    /// (against --verbose, the one from the stronger source wins: flag,
    /// then env, then file) [default: off].
    #[arg(short, long, env = "BERTH_QUIET", value_parser = BoolishValueParser::new())]
    pub quiet: bool,

    /// TOML file setting any of these options by their long names
    /// (`port = 8080`, `head-timeout = "10s"`, `header = ["X-A: b"]`);
    /// flags and BERTH_* variables take precedence over it [default: none].
    #[arg(short, long, value_name = "FILE", env = "BERTH_CONFIG")]
    pub config: Option<PathBuf>,

    /// File served for a directory requested with a trailing slash
    /// (repeatable or comma-separated).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "index.html",
        value_delimiter = ',',
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

    /// Cache-Control for file responses (200/206/304), e.g. `no-cache` or
    /// `public, max-age=31536000, immutable`; listings and errors get
    /// `no-cache` whatever this says, and the config file's header rules
    /// replace it per path [default: max-age=0, must-revalidate:
    /// caches revalidate every time, a 304 thanks to ETag; `private` with
    /// --auth].
    #[arg(long, value_name = "VALUE", env = "BERTH_CACHE_CONTROL")]
    pub cache_control: Option<String>,

    /// Header set on every response, replacing one of the same name
    /// (repeatable; BERTH_HEADER takes one per line, since values hold
    /// commas; framing and hop-by-hop headers are refused) [default: none].
    #[arg(
        long,
        value_name = "'NAME: VALUE'",
        value_delimiter = '\n',
        env = "BERTH_HEADER"
    )]
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

    /// Folder downloads: GET /dir/?download=tar.gz or ?download=zip
    /// streams the folder (what --hidden and --follow-symlinks let in) as
    /// one archive, and the --listing page links to both. Off by default,
    /// since it reads a whole tree for one request [default: off: the
    /// query is ignored].
    #[arg(long, env = "BERTH_ARCHIVES", value_parser = BoolishValueParser::new())]
    pub archives: bool,
    /// Show a folder's README.md (any case) rendered from Markdown below
    /// its --listing page, raw HTML shown as text and links only to
    /// http, https, mailto or relative URLs; not a symlink, at most 1 MiB;
    /// needs --listing [default: off].
    #[arg(long, env = "BERTH_README", value_parser = BoolishValueParser::new())]
    pub readme: bool,

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

    #[command(flatten)]
    pub http3: crate::cli_http3::Http3Args,

    #[command(flatten)]
    pub upload: crate::upload::UploadArgs,

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

    /// The config file's `[[rules]]` (no flag: set by `parse_args`).
    #[arg(skip)]
    pub rules: crate::rules::Rules,
}
