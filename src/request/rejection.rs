//! `Rejection`: why a request could not be read as the handler asked, as a
//! response with the right status.

use std::fmt;

use http::StatusCode;
use http::header::{self, HeaderValue};

use crate::body::{BodyError, BodyErrorKind};
use crate::handler::IntoResponse;
use crate::response::ErrorReason;
use crate::{Body, Response};

/// Why a request could not be read as the handler asked: the body was too
/// large, cut short, too slow, of the wrong type or malformed, or the path
/// or query was badly encoded.
///
/// It is a response: [`status`](Self::status) says which, and the body is a
/// one-line plain-text reason (its wording is not a stable API). Handlers
/// returning `Result<_, Rejection>` can use `?`:
///
/// ```
/// use berth::prelude::*;
///
/// async fn echo(req: Request) -> Result<Response, Rejection> {
///     let text = req.text(1 << 20).await?;
///     Ok(Response::text(text))
/// }
/// # let _ = Router::new().post("/echo", echo);
/// ```
pub struct Rejection {
    kind: RejectionKind,
}

#[derive(Debug)]
pub(crate) enum RejectionKind {
    TooLarge,
    Incomplete,
    Timeout,
    MalformedBody,
    /// The body could not be read for a reason that is not the client's
    /// (an I/O or stream error from a body built in the program).
    Unreadable,
    NotUtf8,
    UnsupportedCharset,
    WrongType(&'static str),
    MalformedForm,
    #[cfg(feature = "json")]
    MalformedJson(String),
    #[cfg(feature = "json")]
    UnexpectedJson(String),
    MalformedQuery,
    MalformedPath,
    /// A query parameter or path parameter that does not parse as the
    /// handler asked: where, and why.
    BadValue {
        place: &'static str,
        reason: String,
    },
}

impl Rejection {
    pub(crate) fn new(kind: RejectionKind) -> Self {
        Rejection { kind }
    }

    pub(crate) fn malformed_path() -> Self {
        Rejection::new(RejectionKind::MalformedPath)
    }

    /// The status this rejection answers with: 413 (body over the limit),
    /// 408 (body too slow), 415 (wrong `Content-Type` or charset), 500 (a
    /// program-made body failed), otherwise 400 (malformed, or not the
    /// shape the handler asked for).
    pub fn status(&self) -> StatusCode {
        match self.kind {
            RejectionKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RejectionKind::Timeout => StatusCode::REQUEST_TIMEOUT,
            RejectionKind::UnsupportedCharset | RejectionKind::WrongType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            RejectionKind::Unreadable => StatusCode::INTERNAL_SERVER_ERROR,
            RejectionKind::Incomplete
            | RejectionKind::MalformedBody
            | RejectionKind::NotUtf8
            | RejectionKind::MalformedForm
            | RejectionKind::MalformedQuery
            | RejectionKind::MalformedPath
            | RejectionKind::BadValue { .. } => StatusCode::BAD_REQUEST,
            #[cfg(feature = "json")]
            RejectionKind::MalformedJson(_) | RejectionKind::UnexpectedJson(_) => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}

impl From<BodyError> for Rejection {
    fn from(e: BodyError) -> Self {
        let kind = match e.kind() {
            BodyErrorKind::TooLarge => RejectionKind::TooLarge,
            BodyErrorKind::Incomplete => RejectionKind::Incomplete,
            BodyErrorKind::Timeout => RejectionKind::Timeout,
            BodyErrorKind::Protocol(_) => RejectionKind::MalformedBody,
            BodyErrorKind::Io(_) | BodyErrorKind::Stream(_) => RejectionKind::Unreadable,
        };
        Rejection::new(kind)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RejectionKind::TooLarge => f.write_str("request body is too large"),
            RejectionKind::Incomplete => f.write_str("request body ended early"),
            RejectionKind::Timeout => f.write_str("request body was sent too slowly"),
            RejectionKind::MalformedBody => f.write_str("request body is malformed"),
            RejectionKind::Unreadable => f.write_str("request body could not be read"),
            RejectionKind::NotUtf8 => f.write_str("request body is not valid UTF-8"),
            RejectionKind::UnsupportedCharset => {
                f.write_str("request body charset is not supported; send UTF-8")
            }
            RejectionKind::WrongType(expected) => write!(f, "expected Content-Type: {expected}"),
            RejectionKind::MalformedForm => {
                f.write_str("form data is not valid percent-encoded UTF-8")
            }
            #[cfg(feature = "json")]
            RejectionKind::MalformedJson(e) => write!(f, "invalid JSON body: {e}"),
            #[cfg(feature = "json")]
            RejectionKind::UnexpectedJson(e) => write!(f, "JSON body: {e}"),
            RejectionKind::MalformedQuery => {
                f.write_str("query string is not valid percent-encoded UTF-8")
            }
            RejectionKind::MalformedPath => f.write_str("path is not valid percent-encoded UTF-8"),
            RejectionKind::BadValue { place, reason } => write!(f, "{place}: {reason}"),
        }
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("status", &self.status().as_u16())
            .field("reason", &self.to_string())
            .finish()
    }
}

impl std::error::Error for Rejection {}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let reason: std::sync::Arc<str> = self.to_string().into();
        let mut res = Response::new(Body::from(format!("{reason}\n")));
        res.extensions_mut().insert(ErrorReason(Some(reason)));
        *res.status_mut() = self.status();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res
    }
}

impl IntoResponse for BodyError {
    /// The [`Rejection`] for this error, as a response.
    fn into_response(self) -> Response {
        Rejection::from(self).into_response()
    }
}
