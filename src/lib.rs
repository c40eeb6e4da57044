//! berth: an HTTP/1.1 and HTTP/2 server and library, written from the
//! protocol up (HTTP/2's framing is the `h2` crate's), with HTTP/3 as an
//! experimental option (quinn and the `h3` crate).
//!
//! ```text
//! bin/berth (CLI, config, logging; the app layers: auth, CORS, SPA,
//!    │       trusted proxies, health, metrics path, HSTS)
//!    │
//! app: router · serve_dir · compress (knows Request/Response/Body/
//!    │ Handler; never each other: they talk through the request)
//! types: request · response · body · handler · content codings ·
//!    ▲   conditional requests · safe paths
//! server (tokio driver: sockets, timeouts; one serving core for HTTP/1.1,
//!    │    with its keep-alive loop, and for HTTP/2, over the h2 crate)
//! proto (sans-I/O HTTP/1.1: bytes in → events out; responses in → bytes out)
//!
//! syntax (field-value grammar, percent-decoding: used by all of the above)
//! ```
//!
//! A program answers HTTP with a [`Handler`]: an async function from
//! [`Request`] to anything [`IntoResponse`], or a value such as a
//! [`Router`] or a [`ServeDir`]. `use berth::prelude::*` brings in the
//! types and the extension traits ([`RequestExt`], [`ResponseExt`]) that
//! give `http`'s request and response their helpers.
//!
//! ```no_run
//! use berth::prelude::*;
//!
//! # async fn run() -> Result<(), berth::Error> {
//! let app = Router::new()
//!     .get("/", |_req| async { Response::html("<h1>Welcome Home</h1>") })
//!     .get("/users/{id}", |req: Request| async move {
//!         Response::text(format!("user {}", req.param("id").unwrap_or("")))
//!     })
//!     .post("/echo", |req: Request| async move {
//!         let body = req.bytes(1 << 20).await?;
//!         Ok::<_, Rejection>(Response::bytes(body))
//!     })
//!     .fallback(ServeDir::new("./public"));
//! Server::bind("127.0.0.1:8080").serve(app).await
//! # }
//! ```
//!
//! # Features
//!
//! All on by default. With `default-features = false` the library keeps
//! HTTP/1.1, HTTP/2 (h2c), the [`Router`], [`ServeDir`] (precompressed
//! sidecars included) and streaming bodies.
//!
//! - `tls`: [`TlsConfig`] and [`Server::tls`], through rustls with ring.
//! - `self-signed`: `TlsConfig::self_signed`, through rcgen (implies `tls`).
//! - `compress`: the [`Compress`] layer and the [`compress`] encoders
//!   (zstd, brotli, gzip). Negotiation ([`compress::negotiate`]) and
//!   `ServeDir`'s sidecars need no encoder and stay without it.
//! - `json`: [`ResponseExt::json`], [`RequestExt::json`] and `Serialize`
//!   for [`QueryMap`], through `serde` (`serde_json` is in the core, for
//!   directory listings).
//! - `upload`: [`ServeDir::uploads`] (`PUT` and multipart `POST` into the
//!   served tree, [`serve_dir::upload`]), through `multer`.
//! - `http3`: [`Server::http3`] and [`Http3Config`]: HTTP/3 over QUIC
//!   beside TLS listeners, through quinn, `h3` and `h3-quinn` (implies
//!   `tls`). Compiled by default, served only when turned on: the `h3`
//!   crate calls itself experimental.
//! - `cli`: only the `berth` binary's dependencies (clap, toml,
//!   tracing-subscriber, listenfd, ipnet, humantime, and for its Basic
//!   auth argon2, bcrypt and base64); implies every feature above but
//!   `json`.
//! - `axum` (off): requests served through [`Tower`] also carry axum's
//!   `ConnectInfo<SocketAddr>`, for axum's `ConnectInfo` extractor.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod body;
pub mod compress;
mod conditional;
mod content_coding;
pub mod content_type;
mod error;
pub mod handler;
#[doc(hidden)]
pub mod platform;
pub mod proto;
pub mod request;
pub mod response;
pub mod router;
mod safe_path;
pub mod serve_dir;
pub mod server;
pub mod service;
#[doc(hidden)]
pub mod syntax;
pub mod upgrade;

pub use body::{Body, BodyClosed, BodyError, BodySender};
#[cfg(feature = "compress")]
pub use compress::Compress;
pub use error::Error;
pub use handler::{Handler, IntoResponse};
pub use proto::Limits;
pub use request::{NestedPath, PathParams, PeerAddr, QueryMap, Rejection, Request, RequestExt};
#[cfg(feature = "json")]
pub use response::Json;
pub use response::{Redirect, Response, ResponseExt};
pub use router::{BodyLimited, IntoRoute, Router, State, body_limit};
pub use serve_dir::ServeDir;
#[cfg(feature = "http3")]
pub use server::Http3Config;
#[cfg(feature = "tls")]
pub use server::TlsConfig;
pub use server::{
    AccessLog, AccessRecord, Http2Config, ListenOptions, Listener, Metrics, RemoteUser, Server,
    ServerConfig, ShutdownHandle, Timeouts,
};
pub use service::{HandlerService, Tower};

/// The `http` crate, whose request, response, header and status types
/// berth uses.
pub use http;

/// The `bytes` crate, whose `Bytes` carries body data.
pub use bytes;

/// What most programs need, in one import: `use berth::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "compress")]
    pub use crate::Compress;
    #[cfg(feature = "json")]
    pub use crate::Json;
    pub use crate::{
        Body, Handler, IntoResponse, Redirect, Rejection, Request, RequestExt, Response,
        ResponseExt, Router, ServeDir, Server, State,
    };
    pub use bytes::Bytes;
    pub use http::{Method, StatusCode};
}

/// README.md's Rust examples, compiled as doctests so they stay true.
#[cfg(all(doctest, feature = "json"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
