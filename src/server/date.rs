//! The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), formatted at most
//! once a second per thread (hyper `common/date.rs`).

use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
const DATE_LEN: usize = 29;

struct Cached {
    /// The second `value` names: `[start, start + 1s)`. Checking that the
    /// clock is still inside it is two comparisons, cheaper than turning
    /// every reading into seconds since the epoch.
    start: SystemTime,
    value: [u8; DATE_LEN],
    /// `value` as a header value (HTTP/2 sends header maps), made on
    /// first use in each second; cloning it shares the bytes.
    header: Option<http::HeaderValue>,
}

thread_local! {
    static CACHE: RefCell<Cached> = const {
        RefCell::new(Cached { start: UNIX_EPOCH, value: [b' '; DATE_LEN], header: None })
    };
}

/// Calls `f` with the current date as an IMF-fixdate.
pub(crate) fn with_date<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    with_cache(|cache| f(&cache.value))
}

/// The current date as a header value.
pub(crate) fn date_header() -> http::HeaderValue {
    with_cache(|cache| {
        let value = &cache.value;
        cache
            .header
            .get_or_insert_with(|| {
                http::HeaderValue::from_bytes(value).unwrap_or_else(|_| {
                    http::HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT")
                })
            })
            .clone()
    })
}

fn with_cache<R>(f: impl FnOnce(&mut Cached) -> R) -> R {
    const SECOND: Duration = Duration::from_secs(1);
    let now = SystemTime::now();
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        // Outside the cached second, either way (the clock may be set
        // back), or never filled: format again.
        let stale = now < cache.start
            || cache.start.checked_add(SECOND).is_none_or(|end| now >= end)
            || cache.start == UNIX_EPOCH;
        if stale {
            let second = now
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let formatted = httpdate::fmt_http_date(now);
            if formatted.len() == DATE_LEN {
                cache.value.copy_from_slice(formatted.as_bytes());
            }
            cache.start = UNIX_EPOCH
                .checked_add(Duration::from_secs(second))
                .unwrap_or(UNIX_EPOCH);
            cache.header = None;
        }
        f(&mut cache)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn date_is_an_imf_fixdate() {
        let date = super::with_date(|d| String::from_utf8(d.to_vec()).unwrap());
        assert_eq!(date.len(), 29);
        assert!(date.ends_with(" GMT"));
        assert!(httpdate::parse_http_date(&date).is_ok());
        // The cached value names the current second.
        let now = std::time::SystemTime::now();
        let parsed = httpdate::parse_http_date(&date).unwrap();
        let again = super::with_date(|d| String::from_utf8(d.to_vec()).unwrap());
        let parsed_again = httpdate::parse_http_date(&again).unwrap();
        assert!(parsed <= now && parsed_again >= parsed);
        assert!(now.duration_since(parsed).unwrap() < std::time::Duration::from_secs(2));
        let header = super::date_header();
        assert!(httpdate::parse_http_date(header.to_str().unwrap()).unwrap() >= parsed);
    }
}
