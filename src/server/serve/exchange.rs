//! One exchange's record: what is kept of a request from its head to its
//! response's last byte, and the access-log entry and request metrics
//! written from it then, for every protocol alike.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version, header};
use tokio::time::Instant;

use crate::server::access::{AccessRecord, RemoteUser};
use crate::server::config::ServerConfig;

/// A request being answered, as its log line and metrics will need it.
/// Empty (and free) when the server has neither an access log nor
/// metrics.
pub(crate) struct Exchange(Option<Box<Pending>>);

/// What is kept of a request (cloning these costs a few reference counts).
struct Pending {
    time: SystemTime,
    started: Instant,
    method: Option<Method>,
    target: Option<Uri>,
    version: Version,
    referer: Option<HeaderValue>,
    user_agent: Option<HeaderValue>,
    forwarded: Option<HeaderValue>,
    x_forwarded_for: Option<HeaderValue>,
    /// Filled from the response by [`Exchange::note_response`].
    user: Option<Arc<str>>,
}

impl Exchange {
    /// No request: a protocol error answered before a head was parsed
    /// (logged as method `-`), or nothing to record.
    pub(crate) const NONE: Exchange = Exchange(None);

    /// Starts the record of a request whose head is complete.
    #[inline(always)]
    pub(crate) fn begin(
        config: &ServerConfig,
        method: &Method,
        target: &Uri,
        version: Version,
        headers: &HeaderMap,
    ) -> Exchange {
        if config.access_log.is_none() && config.metrics.is_none() {
            return Exchange::NONE;
        }
        Exchange::record(method, target, version, headers)
    }

    #[inline(never)]
    fn record(method: &Method, target: &Uri, version: Version, headers: &HeaderMap) -> Exchange {
        Exchange(Some(Box::new(Pending {
            time: SystemTime::now(),
            started: Instant::now(),
            method: Some(method.clone()),
            target: Some(target.clone()),
            version,
            referer: headers.get(header::REFERER).cloned(),
            user_agent: headers.get(header::USER_AGENT).cloned(),
            forwarded: all_lines(headers, header::FORWARDED),
            x_forwarded_for: all_lines(headers, header::HeaderName::from_static("x-forwarded-for")),
            user: None,
        })))
    }

    /// Keeps what the log needs of the response: the [`RemoteUser`] an
    /// authentication layer put in its extensions. Free when nothing is
    /// recorded.
    #[inline(always)]
    pub(crate) fn note_response<B>(&mut self, response: &http::Response<B>) {
        if let Some(pending) = &mut self.0 {
            pending.user = response
                .extensions()
                .get::<RemoteUser>()
                .map(|u| Arc::clone(&u.0));
        }
    }

    /// Takes the record, leaving [`Exchange::NONE`].
    pub(crate) fn take(&mut self) -> Exchange {
        Exchange(self.0.take())
    }

    /// The exchange is over (the protocol has handed the response's last
    /// byte to the transport): counts it in the metrics and writes its
    /// access-log line, if the server has either.
    #[inline(always)]
    pub(crate) fn end(
        self,
        config: &ServerConfig,
        peer: SocketAddr,
        status: StatusCode,
        body_bytes: u64,
    ) {
        if self.0.is_none() && config.access_log.is_none() && config.metrics.is_none() {
            return;
        }
        self.write(config, peer, status, body_bytes);
    }

    #[inline(never)]
    fn write(self, config: &ServerConfig, peer: SocketAddr, status: StatusCode, body_bytes: u64) {
        let pending = self.0.unwrap_or_else(|| {
            Box::new(Pending {
                time: SystemTime::now(),
                started: Instant::now(),
                method: None,
                target: None,
                version: Version::HTTP_11,
                referer: None,
                user_agent: None,
                forwarded: None,
                x_forwarded_for: None,
                user: None,
            })
        });
        let duration = pending.started.elapsed();
        if let Some(metrics) = &config.metrics {
            // A request that could not be parsed has no method: "other".
            let unparsed;
            let method = match &pending.method {
                Some(method) => method,
                None => {
                    unparsed = Method::from_bytes(b"-").unwrap_or_default();
                    &unparsed
                }
            };
            metrics.record_request(method, status, duration);
        }
        // `berth -v` shows each request on stderr; free when INFO is off.
        tracing::info!(
            %peer,
            method = pending.method.as_ref().map_or("-", Method::as_str),
            target = %pending.target.as_ref().map_or(String::from("-"), Uri::to_string),
            status = status.as_u16(),
            bytes = body_bytes,
            ms = duration.as_secs_f64() * 1e3,
            "request"
        );
        let Some(log) = &config.access_log else {
            return;
        };
        log.record(&AccessRecord {
            peer,
            time: pending.time,
            method: pending.method.as_ref(),
            target: pending.target.as_ref(),
            version: pending.version,
            status,
            body_bytes,
            duration,
            referer: pending.referer.as_ref(),
            user_agent: pending.user_agent.as_ref(),
            forwarded: pending.forwarded.as_ref(),
            x_forwarded_for: pending.x_forwarded_for.as_ref(),
            user: pending.user.as_deref(),
        });
    }
}

/// Every field line of a list header, joined with ", " (RFC 9110 §5.3):
/// a proxy may add its own line after the client's, and the log must see
/// both, the proxy's last.
fn all_lines(headers: &HeaderMap, name: header::HeaderName) -> Option<HeaderValue> {
    let mut values = headers.get_all(&name).iter();
    let first = values.next()?;
    let Some(second) = values.next() else {
        return Some(first.clone());
    };
    let mut joined = Vec::with_capacity(first.len() + second.len() + 2);
    joined.extend_from_slice(first.as_bytes());
    for v in std::iter::once(second).chain(values) {
        joined.extend_from_slice(b", ");
        joined.extend_from_slice(v.as_bytes());
    }
    HeaderValue::from_bytes(&joined).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    use crate::server::AccessLog;

    fn logging() -> (ServerConfig, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let config = ServerConfig {
            access_log: Some(AccessLog::new(move |r| {
                sink.lock().unwrap().push(format!(
                    "{} {:?} {:?} {} {} xff={:?} user={:?}",
                    r.method.map_or("-", |m| m.as_str()),
                    r.target.map(|t| t.to_string()),
                    r.version,
                    r.status.as_u16(),
                    r.body_bytes,
                    r.x_forwarded_for,
                    r.user,
                ));
            })),
            ..ServerConfig::default()
        };
        (config, lines)
    }

    fn peer() -> SocketAddr {
        "127.0.0.1:9".parse().unwrap()
    }

    #[test]
    fn an_exchange_is_logged_once_at_its_end_with_its_protocol() {
        let (config, lines) = logging();
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", HeaderValue::from_static("1.1.1.1"));
        headers.append("x-forwarded-for", HeaderValue::from_static("2.2.2.2"));
        let uri: Uri = "/a?b".parse().unwrap();
        let exchange = Exchange::begin(&config, &Method::GET, &uri, Version::HTTP_2, &headers);
        assert!(lines.lock().unwrap().is_empty(), "nothing logged at begin");
        exchange.end(&config, peer(), StatusCode::OK, 13);
        assert_eq!(
            *lines.lock().unwrap(),
            ["GET Some(\"/a?b\") HTTP/2.0 200 13 xff=Some(\"1.1.1.1, 2.2.2.2\") user=None"]
        );
    }

    #[test]
    fn a_request_that_could_not_be_parsed_is_logged_without_a_method() {
        let (config, lines) = logging();
        Exchange::NONE.end(&config, peer(), StatusCode::BAD_REQUEST, 0);
        assert_eq!(
            *lines.lock().unwrap(),
            ["- None HTTP/1.1 400 0 xff=None user=None"]
        );
    }

    #[test]
    fn the_remote_user_comes_from_the_response() {
        let (config, lines) = logging();
        let uri = Uri::from_static("/");
        let mut exchange = Exchange::begin(
            &config,
            &Method::GET,
            &uri,
            Version::HTTP_11,
            &HeaderMap::new(),
        );
        let mut response = http::Response::new(());
        response
            .extensions_mut()
            .insert(RemoteUser(Arc::from("alice")));
        exchange.note_response(&response);
        exchange.end(&config, peer(), StatusCode::OK, 0);
        assert!(
            lines.lock().unwrap()[0].ends_with("user=Some(\"alice\")"),
            "{:?}",
            lines.lock().unwrap()
        );
    }

    #[test]
    fn without_a_log_or_metrics_nothing_is_kept() {
        let config = ServerConfig::default();
        let exchange = Exchange::begin(
            &config,
            &Method::GET,
            &Uri::from_static("/"),
            Version::HTTP_11,
            &HeaderMap::new(),
        );
        assert!(exchange.0.is_none());
    }
}
