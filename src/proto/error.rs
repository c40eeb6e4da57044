//! Protocol errors and the one table that maps each to a status code.
//!
//! Every way a peer can break HTTP/1.1 (or exceed a limit) is an
//! [`ErrorKind`]; [`ProtocolError::status`] is the only place that decides
//! what the server answers. After any protocol error the connection cannot be
//! trusted to find the next message boundary, so the driver sends at most one
//! response (when [`ProtocolError::status`] is `Some`) and closes.

use std::fmt;

use http::StatusCode;

/// What went wrong. The names are stable; the `Display` text is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Request line is not `method SP request-target SP HTTP-version`.
    BadRequestLine,
    /// Method is not a token.
    BadMethod,
    /// Request-target has a forbidden byte or does not match its form.
    BadTarget,
    /// HTTP-version is not `HTTP/DIGIT.DIGIT`.
    BadVersion,
    /// A well-formed version other than HTTP/1.x.
    UnsupportedVersion,
    /// Request-target longer than `max_target_bytes`.
    TargetTooLong,
    /// Head larger than `max_head_bytes`.
    HeadTooLarge,
    /// More than `max_headers` field lines.
    TooManyHeaders,
    /// Field name is empty or not a token.
    BadHeaderName,
    /// Whitespace between field name and colon (RFC 9112 §5.1).
    SpaceBeforeColon,
    /// Field value holds a forbidden byte (CTL, NUL, CR, LF).
    BadHeaderValue,
    /// Line folding (obs-fold), which RFC 9112 §5.2 lets a server reject.
    ObsFold,
    /// A CR not followed by LF (RFC 9112 §2.2).
    BareCr,
    /// A LF not preceded by CR; berth accepts CRLF only (see CONFORMANCE.md).
    BareLf,
    /// HTTP/1.1 request without a Host field (RFC 9112 §3.2).
    MissingHost,
    /// More than one Host field line (RFC 9112 §3.2).
    DuplicateHost,
    /// Host value is not `uri-host [ ":" port ]`.
    BadHost,
    /// Content-Length is not 1*DIGIT, overflows, or duplicates disagree.
    BadContentLength,
    /// Both Transfer-Encoding and Content-Length (RFC 9112 §6.3 step 3).
    ConflictingFraming,
    /// Transfer-Encoding whose final coding is not chunked, or chunked twice
    /// (RFC 9112 §6.3 step 4, §7.1).
    ChunkedNotFinal,
    /// Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1).
    TransferEncodingInHttp10,
    /// Transfer-Encoding field value is not a list of codings.
    BadTransferEncoding,
    /// A transfer coding berth does not implement (RFC 9112 §6.1: 501).
    UnsupportedTransferCoding,
    /// Malformed chunk size, extension, or chunk terminator (RFC 9112 §7.1).
    BadChunk,
    /// Chunk sizes that do not fit in 64 bits.
    ChunkSizeOverflow,
    /// Chunk extensions over `max_chunk_ext_bytes`.
    ChunkExtensionsTooLarge,
    /// Trailer section over `max_trailer_bytes`.
    TrailersTooLarge,
    /// `Expect` with anything but `100-continue` (RFC 9110 §10.1.1).
    ExpectationFailed,
    /// The peer closed the connection in the middle of a head.
    IncompleteHead,
    /// The peer closed the connection in the middle of a body.
    IncompleteBody,
    /// Request body larger than the server accepts (detected by the driver).
    BodyTooLarge,
    /// The head did not arrive within the head-read timeout (driver).
    HeadTimeout,
    /// The body stalled past the body-read idle timeout (driver).
    BodyTimeout,
}

impl ErrorKind {
    /// A short kebab-case name, used by the test corpus.
    pub fn slug(self) -> &'static str {
        use ErrorKind::*;
        match self {
            BadRequestLine => "bad-request-line",
            BadMethod => "bad-method",
            BadTarget => "bad-target",
            BadVersion => "bad-version",
            UnsupportedVersion => "unsupported-version",
            TargetTooLong => "target-too-long",
            HeadTooLarge => "head-too-large",
            TooManyHeaders => "too-many-headers",
            BadHeaderName => "bad-header-name",
            SpaceBeforeColon => "space-before-colon",
            BadHeaderValue => "bad-header-value",
            ObsFold => "obs-fold",
            BareCr => "bare-cr",
            BareLf => "bare-lf",
            MissingHost => "missing-host",
            DuplicateHost => "duplicate-host",
            BadHost => "bad-host",
            BadContentLength => "bad-content-length",
            ConflictingFraming => "conflicting-framing",
            ChunkedNotFinal => "chunked-not-final",
            TransferEncodingInHttp10 => "transfer-encoding-in-http10",
            BadTransferEncoding => "bad-transfer-encoding",
            UnsupportedTransferCoding => "unsupported-transfer-coding",
            BadChunk => "bad-chunk",
            ChunkSizeOverflow => "chunk-size-overflow",
            ChunkExtensionsTooLarge => "chunk-extensions-too-large",
            TrailersTooLarge => "trailers-too-large",
            ExpectationFailed => "expectation-failed",
            IncompleteHead => "incomplete-head",
            IncompleteBody => "incomplete-body",
            BodyTooLarge => "body-too-large",
            HeadTimeout => "head-timeout",
            BodyTimeout => "body-timeout",
        }
    }
}

/// A violation of HTTP/1.1 by the peer, or a limit it exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError {
    kind: ErrorKind,
}

impl ProtocolError {
    /// Wraps a kind.
    pub const fn new(kind: ErrorKind) -> Self {
        ProtocolError { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The status to answer with, or `None` when no response should be sent
    /// (the peer is gone, or never sent a byte of the message).
    ///
    /// This is the only error → status table in berth.
    pub fn status(&self) -> Option<StatusCode> {
        use ErrorKind::*;
        Some(match self.kind {
            UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            TargetTooLong => StatusCode::URI_TOO_LONG,
            HeadTooLarge | TooManyHeaders | TrailersTooLarge => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            // RFC 9112 §6.1: a server that receives a transfer coding it does
            // not understand SHOULD respond with 501.
            UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            ExpectationFailed => StatusCode::EXPECTATION_FAILED,
            BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            HeadTimeout => StatusCode::REQUEST_TIMEOUT,
            IncompleteBody | BodyTimeout => return None,
            BadRequestLine
            | BadMethod
            | BadTarget
            | BadVersion
            | BadHeaderName
            | SpaceBeforeColon
            | BadHeaderValue
            | ObsFold
            | BareCr
            | BareLf
            | MissingHost
            | DuplicateHost
            | BadHost
            | BadContentLength
            | ConflictingFraming
            | ChunkedNotFinal
            | TransferEncodingInHttp10
            | BadTransferEncoding
            | BadChunk
            | ChunkSizeOverflow
            | ChunkExtensionsTooLarge
            | IncompleteHead => StatusCode::BAD_REQUEST,
        })
    }
}

impl From<ErrorKind> for ProtocolError {
    fn from(kind: ErrorKind) -> Self {
        ProtocolError::new(kind)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.slug())
    }
}

impl std::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_map_to_their_statuses() {
        let status = |k| ProtocolError::new(k).status().map(|s| s.as_u16());
        assert_eq!(status(ErrorKind::TargetTooLong), Some(414));
        assert_eq!(status(ErrorKind::HeadTooLarge), Some(431));
        assert_eq!(status(ErrorKind::UnsupportedVersion), Some(505));
        assert_eq!(status(ErrorKind::UnsupportedTransferCoding), Some(501));
        assert_eq!(status(ErrorKind::BodyTooLarge), Some(413));
        assert_eq!(status(ErrorKind::HeadTimeout), Some(408));
        assert_eq!(status(ErrorKind::ConflictingFraming), Some(400));
        assert_eq!(status(ErrorKind::IncompleteBody), None);
    }
}
