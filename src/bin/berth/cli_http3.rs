//! The HTTP/3 flags (`--http3`, `--h3-*`), flattened into
//! [`Args`](crate::cli::Args), and the [`Http3Config`] they resolve to.
//! HTTP/3 needs TLS (`--tls-cert`/`--tls-key` or `--tls-self-signed`):
//! each TLS listener then gets a UDP socket on the same address and port.
//! `--max-target-bytes`, `--max-headers`, the timeouts and
//! `--max-connections` (shared with TCP) apply to HTTP/3 too.

use std::time::Duration;

use berth::Http3Config;
use clap::builder::BoolishValueParser;

use crate::cli::{ConfigError, parse_duration};

#[derive(Debug, clap::Args)]
pub struct Http3Args {
    /// Serve HTTP/3 (QUIC) too, on UDP at each TLS listener's address and
    /// port, with the same certificate; HTTPS responses over TCP advertise
    /// it (`Alt-Svc`). Needs TLS. Off by default: the `h3` crate berth
    /// uses calls itself experimental.
    #[arg(long, env = "BERTH_HTTP3", value_parser = BoolishValueParser::new())]
    pub http3: bool,

    /// Request streams a client may have open at once on one HTTP/3
    /// connection.
    #[arg(long, value_name = "N", default_value_t = 128, env = "BERTH_H3_MAX_STREAMS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub h3_max_streams: u32,

    /// Largest HTTP/3 request head (QPACK-decoded field section bytes); a
    /// larger one is answered 431.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024,
          env = "BERTH_H3_MAX_FIELD_SECTION_SIZE",
          value_parser = clap::value_parser!(u64).range(1024..=(1 << 30)))]
    pub h3_max_field_section_size: u64,

    /// Close an HTTP/3 connection that has had no open stream for this
    /// long (GOAWAY first); also QUIC's idle timeout (no packet at all).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration,
          env = "BERTH_H3_IDLE_TIMEOUT")]
    pub h3_idle_timeout: Duration,

    /// Request-body bytes a client may send on one HTTP/3 stream before
    /// the handler reads them.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, env = "BERTH_H3_STREAM_WINDOW",
          value_parser = clap::value_parser!(u32).range(1024..))]
    pub h3_stream_window: u32,

    /// Request-body bytes a client may send on one HTTP/3 connection, all
    /// streams together, before handlers read them.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20,
          env = "BERTH_H3_CONNECTION_WINDOW",
          value_parser = clap::value_parser!(u32).range(1024..))]
    pub h3_connection_window: u32,

    /// Response bytes one HTTP/3 connection may have sent but not yet had
    /// acknowledged, all streams together (what a client that stops
    /// reading can cost).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20,
          env = "BERTH_H3_MAX_BUFFERED_BYTES",
          value_parser = clap::value_parser!(u64).range(16 * 1024..=0xffff_ffff))]
    pub h3_max_buffered_bytes: u64,

    /// QUIC handshakes in progress past which a new client must first
    /// prove its address with a Retry (one round trip more; a flood from
    /// spoofed addresses then costs no handshake state). 0 asks every
    /// client.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 64,
        env = "BERTH_H3_RETRY_THRESHOLD"
    )]
    pub h3_retry_threshold: usize,
}

impl Http3Args {
    pub fn config(&self) -> Result<Http3Config, ConfigError> {
        if self.h3_idle_timeout.is_zero() {
            return Err(ConfigError(
                "--h3-idle-timeout must be more than zero".into(),
            ));
        }
        Ok(Http3Config {
            enabled: self.http3,
            max_concurrent_streams: self.h3_max_streams,
            max_field_section_size: self.h3_max_field_section_size,
            idle_timeout: self.h3_idle_timeout,
            stream_window: self.h3_stream_window,
            connection_window: self.h3_connection_window,
            max_buffered_bytes: usize::try_from(self.h3_max_buffered_bytes).unwrap_or(usize::MAX),
            retry_threshold: self.h3_retry_threshold,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Config, parse_args};

    fn http3(args: &[&str]) -> Result<berth::Http3Config, String> {
        let mut argv = vec!["berth"];
        argv.extend_from_slice(args);
        let args = parse_args(argv).map_err(|e| format!("{e:?}"))?;
        Config::from_args(args)
            .map(|c| c.server.http3)
            .map_err(|e| e.0)
    }

    #[test]
    fn defaults_are_the_librarys() {
        assert_eq!(http3(&[]).unwrap(), berth::Http3Config::default());
    }

    #[test]
    fn each_flag_sets_its_field() {
        let c = http3(&[
            "--tls-self-signed",
            "--http3",
            "--h3-max-streams=7",
            "--h3-max-field-section-size=4096",
            "--h3-idle-timeout=3s",
            "--h3-stream-window=4096",
            "--h3-connection-window=70000",
            "--h3-max-buffered-bytes=65536",
            "--h3-retry-threshold=0",
        ])
        .unwrap();
        assert!(c.enabled);
        assert_eq!(c.max_concurrent_streams, 7);
        assert_eq!(c.max_field_section_size, 4096);
        assert_eq!(c.idle_timeout, std::time::Duration::from_secs(3));
        assert_eq!(c.stream_window, 4096);
        assert_eq!(c.connection_window, 70_000);
        assert_eq!(c.max_buffered_bytes, 65_536);
        assert_eq!(c.retry_threshold, 0);
    }

    #[test]
    fn http3_needs_tls_and_no_proxy_protocol() {
        let e = http3(&["--http3"]).unwrap_err();
        assert!(e.contains("--http3 needs HTTPS"), "{e}");
        let e = http3(&["--http3", "--tls-self-signed", "--proxy-protocol"]).unwrap_err();
        assert!(e.contains("--proxy-protocol"), "{e}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for bad in [
            "--h3-max-streams=0",
            "--h3-max-field-section-size=10",
            "--h3-idle-timeout=0s",
            "--h3-stream-window=10",
            "--h3-connection-window=10",
            "--h3-max-buffered-bytes=10",
        ] {
            assert!(
                http3(&["--tls-self-signed", bad]).is_err(),
                "{bad} accepted"
            );
        }
    }
}
