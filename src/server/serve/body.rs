//! The request-body limit (`ServerConfig::max_body_bytes`), applied the
//! same way whatever feeds the body: HTTP/1.1's socket feed or an HTTP/2
//! stream.

use crate::body::{BodyError, BodyErrorKind};

/// How much of one request body may still arrive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit {
    max: u64,
    received: u64,
}

impl BodyLimit {
    pub(crate) fn new(max: u64) -> BodyLimit {
        BodyLimit { max, received: 0 }
    }

    /// True when a declared length (`Content-Length`) is already over the
    /// limit: answer `413` without calling the handler (RFC 9110
    /// §15.5.14), rather than read a body that will be refused.
    pub(crate) fn refuses(&self, declared: Option<u64>) -> bool {
        declared.is_some_and(|n| n > self.max)
    }

    /// Counts `n` more body bytes: the reader gets a "too large" error
    /// (its handler answers `413`) once they pass the limit.
    pub(crate) fn take(&mut self, n: usize) -> Result<(), BodyError> {
        self.received = self.received.saturating_add(n as u64);
        if self.received > self.max {
            Err(BodyError::new(BodyErrorKind::TooLarge))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_allows_exactly_max_bytes() {
        let mut limit = BodyLimit::new(10);
        assert!(!limit.refuses(Some(10)));
        assert!(limit.refuses(Some(11)));
        assert!(!limit.refuses(None));
        assert!(limit.take(6).is_ok());
        assert!(limit.take(4).is_ok());
        assert!(limit.take(1).unwrap_err().is_too_large());
    }
}
