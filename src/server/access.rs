//! Access-log records: what the driver knows about each finished exchange,
//! handed to a callback the program supplies (the binary formats them).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{HeaderValue, Method, StatusCode, Uri, Version};

/// One request and its response, as an access log sees them.
#[derive(Debug)]
#[non_exhaustive]
pub struct AccessRecord<'a> {
    /// The client's address.
    pub peer: SocketAddr,
    /// When the request head was complete.
    pub time: SystemTime,
    /// The method, or `None` when the request could not be parsed.
    pub method: Option<&'a Method>,
    /// The request target, or `None` when the request could not be parsed.
    pub target: Option<&'a Uri>,
    /// The request's HTTP version.
    pub version: Version,
    /// The response status.
    pub status: StatusCode,
    /// Body bytes sent (not counting the head or chunk framing).
    pub body_bytes: u64,
    /// From the complete head to the response's last byte handed to the
    /// socket buffer.
    pub duration: Duration,
    /// The `Referer` request header.
    pub referer: Option<&'a HeaderValue>,
    /// The `User-Agent` request header.
    pub user_agent: Option<&'a HeaderValue>,
    /// The `Forwarded` request header (RFC 7239; every field line, joined
    /// with ", "), for logs that trust a proxy in front.
    pub forwarded: Option<&'a HeaderValue>,
    /// The `X-Forwarded-For` request header (every field line, joined).
    pub x_forwarded_for: Option<&'a HeaderValue>,
    /// The user the request was authenticated as (Apache's `%u`), when the
    /// response carried a [`RemoteUser`].
    pub user: Option<&'a str>,
}

/// The user a request was authenticated as, for the access log (Apache's
/// remote user, `%u`). An authentication layer puts it in the extensions
/// of the response it lets through; the server copies it into the
/// [`AccessRecord`]. It is not sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteUser(pub Arc<str>);

/// A callback that receives an [`AccessRecord`] after every response.
#[derive(Clone)]
pub struct AccessLog(Arc<dyn Fn(&AccessRecord<'_>) + Send + Sync>);

impl AccessLog {
    /// Wraps a callback. It runs on the connection's task: keep it quick
    /// (format and write a line).
    pub fn new(log: impl Fn(&AccessRecord<'_>) + Send + Sync + 'static) -> Self {
        AccessLog(Arc::new(log))
    }

    pub(crate) fn record(&self, record: &AccessRecord<'_>) {
        (self.0)(record)
    }
}

impl fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessLog(..)")
    }
}
