//! The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), formatted at most
//! once a second per thread (hyper `common/date.rs`).

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
const DATE_LEN: usize = 29;

struct Cached {
    second: u64,
    value: [u8; DATE_LEN],
}

thread_local! {
    static CACHE: RefCell<Cached> = const { RefCell::new(Cached { second: u64::MAX, value: [b' '; DATE_LEN] }) };
}

/// Calls `f` with the current date as an IMF-fixdate.
pub(crate) fn with_date<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    let now = SystemTime::now();
    let second = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.second != second {
            let formatted = httpdate::fmt_http_date(now);
            if formatted.len() == DATE_LEN {
                cache.value.copy_from_slice(formatted.as_bytes());
            }
            cache.second = second;
        }
        f(&cache.value)
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
    }
}
