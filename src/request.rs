//! `Request`: the `http` crate's request with a berth [`Body`].

use crate::Body;

/// An HTTP request as handlers see it.
pub type Request = http::Request<Body>;
