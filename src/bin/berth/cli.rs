//! Command-line flags (`Args`, syntax only) and the validated `Config` they
//! resolve to, in one place (ripgrep's LowArgs → HiArgs).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use berth::{ServerConfig, Timeouts};
use clap::Parser;

/// The default ROOT, created with a welcome page when missing.
pub const DEFAULT_ROOT: &str = "./public";

/// berth: a static file server on berth's own HTTP/1.1 engine.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about)]
pub struct Args {
    /// Directory to serve.
    #[arg(value_name = "ROOT", env = "BERTH_ROOT")]
    pub root: Option<PathBuf>,

    /// Address to listen on (an IP address, or `localhost`).
    #[arg(
        short,
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1",
        env = "BERTH_BIND"
    )]
    pub bind: String,

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

    /// Time in-flight requests get to finish on shutdown.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, env = "BERTH_SHUTDOWN_GRACE")]
    pub shutdown_grace: Duration,

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

    /// Log more (-v: requests and connection errors, -vv: debug).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log only errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// Validated configuration for one run.
#[derive(Debug)]
pub struct Config {
    pub root: PathBuf,
    pub root_is_default: bool,
    pub addr: SocketAddr,
    pub server: ServerConfig,
    pub log_level: tracing::Level,
}

/// A configuration error: one line for the user, exit code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl Config {
    pub fn from_args(args: Args) -> Result<Config, ConfigError> {
        let root_is_default = args.root.is_none();
        let root = args.root.unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        let addr = resolve_bind(&args.bind, args.port)?;
        if args.max_connections == 0 {
            return Err(ConfigError("--max-connections must be at least 1".into()));
        }
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
            },
            max_connections: args.max_connections,
            max_body_bytes: args.max_body_bytes,
            ..defaults
        };
        for (name, d) in [
            ("--head-timeout", args.head_timeout),
            ("--keepalive-timeout", args.keepalive_timeout),
            ("--body-timeout", args.body_timeout),
            ("--write-timeout", args.write_timeout),
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
        Ok(Config {
            root,
            root_is_default,
            addr,
            server,
            log_level,
        })
    }
}

fn resolve_bind(bind: &str, port: u16) -> Result<SocketAddr, ConfigError> {
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
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn bind_addresses() {
        assert_eq!(
            resolve_bind("127.0.0.1", 80).unwrap().to_string(),
            "127.0.0.1:80"
        );
        assert_eq!(resolve_bind("::1", 80).unwrap().to_string(), "[::1]:80");
        assert_eq!(resolve_bind("[::1]", 80).unwrap().to_string(), "[::1]:80");
        assert!(resolve_bind("example.com", 80).is_err());
        assert!(resolve_bind("1.2.3", 80).is_err());
    }
}
