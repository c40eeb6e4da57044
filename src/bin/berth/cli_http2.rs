//! The HTTP/2 flags (`--no-http2`, `--no-h2c`, `--h2-*`), flattened into
//! [`Args`](crate::cli::Args), and the [`Http2Config`] they resolve to.
//! The request-head limits (`--max-head-bytes`, `--max-headers`,
//! `--max-target-bytes`) and timeouts apply to HTTP/2 as they do to
//! HTTP/1.1.

use std::time::Duration;

use berth::Http2Config;
use clap::builder::BoolishValueParser;

use crate::cli::{ConfigError, parse_duration};

#[derive(Debug, clap::Args)]
pub struct Http2Args {
    /// Do not speak HTTP/2: TLS offers only `http/1.1` in ALPN, and
    /// cleartext listeners do not serve the HTTP/2 preface [default:
    /// HTTP/2 on].
    #[arg(long, env = "BERTH_NO_HTTP2", value_parser = BoolishValueParser::new())]
    pub no_http2: bool,

    /// Cleartext listeners do not serve HTTP/2 by prior knowledge (h2c);
    /// HTTP/2 over TLS is unaffected [default: h2c on].
    #[arg(long, env = "BERTH_NO_H2C", value_parser = BoolishValueParser::new())]
    pub no_h2c: bool,

    /// Streams a client may have open at once on one HTTP/2 connection;
    /// more are refused (nginx 128, h2o 100).
    #[arg(long, value_name = "N", default_value_t = 128, env = "BERTH_H2_MAX_STREAMS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub h2_max_streams: u32,

    /// Request-body bytes a client may send on one HTTP/2 stream before the
    /// handler reads them (the stream's flow-control window).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, env = "BERTH_H2_STREAM_WINDOW",
          value_parser = clap::value_parser!(u32).range(1..=0x7fff_ffff))]
    pub h2_stream_window: u32,

    /// Request-body bytes a client may send on one HTTP/2 connection, all
    /// streams together, before handlers read them.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, env = "BERTH_H2_CONNECTION_WINDOW",
          value_parser = clap::value_parser!(u32).range(65_535..=0x7fff_ffff))]
    pub h2_connection_window: u32,

    /// Close an HTTP/2 connection that has had no open stream for this
    /// long (GOAWAY first).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration,
          env = "BERTH_H2_IDLE_TIMEOUT")]
    pub h2_idle_timeout: Duration,

    /// Response bytes one HTTP/2 connection may have waiting to be
    /// written, all streams together (what a client that stops reading can
    /// cost).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, env = "BERTH_H2_MAX_BUFFERED_BYTES",
          value_parser = clap::value_parser!(u64).range(1024..=0xffff_ffff))]
    pub h2_max_buffered_bytes: u64,
}

impl Http2Args {
    pub fn config(&self) -> Result<Http2Config, ConfigError> {
        if self.h2_idle_timeout.is_zero() {
            return Err(ConfigError(
                "--h2-idle-timeout must be more than zero".into(),
            ));
        }
        Ok(Http2Config {
            enabled: !self.no_http2,
            h2c: !self.no_http2 && !self.no_h2c,
            max_concurrent_streams: self.h2_max_streams,
            stream_window: self.h2_stream_window,
            connection_window: self.h2_connection_window,
            idle_timeout: self.h2_idle_timeout,
            max_buffered_bytes: usize::try_from(self.h2_max_buffered_bytes).unwrap_or(usize::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Config, parse_args};

    fn http2(args: &[&str]) -> Result<berth::Http2Config, String> {
        let mut argv = vec!["berth"];
        argv.extend_from_slice(args);
        let args = parse_args(argv).map_err(|e| format!("{e:?}"))?;
        Config::from_args(args)
            .map(|c| c.server.http2)
            .map_err(|e| e.0)
    }

    #[test]
    fn defaults_are_the_librarys() {
        assert_eq!(http2(&[]).unwrap(), berth::Http2Config::default());
    }

    #[test]
    fn each_flag_sets_its_field() {
        let c = http2(&[
            "--no-h2c",
            "--h2-max-streams=7",
            "--h2-stream-window=4096",
            "--h2-connection-window=70000",
            "--h2-idle-timeout=3s",
            "--h2-max-buffered-bytes=65536",
        ])
        .unwrap();
        assert!(c.enabled && !c.h2c);
        assert_eq!(c.max_concurrent_streams, 7);
        assert_eq!(c.stream_window, 4096);
        assert_eq!(c.connection_window, 70_000);
        assert_eq!(c.idle_timeout, std::time::Duration::from_secs(3));
        assert_eq!(c.max_buffered_bytes, 65_536);
        let off = http2(&["--no-http2"]).unwrap();
        assert!(!off.enabled && !off.h2c, "no HTTP/2 means no h2c either");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for bad in [
            "--h2-max-streams=0",
            "--h2-stream-window=0",
            "--h2-stream-window=2147483648",
            "--h2-connection-window=1000",
            "--h2-idle-timeout=0s",
            "--h2-max-buffered-bytes=10",
        ] {
            assert!(http2(&[bad]).is_err(), "{bad} accepted");
        }
    }
}
