//! `Response`: the `http` crate's response with a berth [`Body`], and small
//! builders for the common cases.

use http::{HeaderValue, StatusCode, header};

use crate::Body;

/// An HTTP response as handlers produce it.
pub type Response = http::Response<Body>;

/// A response with `status` and a short plain-text body naming it, e.g.
/// `404 Not Found`.
pub fn status(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("");
    let body = format!("{} {}\n", status.as_u16(), reason);
    text_with_status(status, body)
}

/// A `200 OK` plain-text response.
pub fn text(body: impl Into<String>) -> Response {
    text_with_status(StatusCode::OK, body.into())
}

fn text_with_status(status: StatusCode, body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}
