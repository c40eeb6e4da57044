//! berth: an HTTP/1.1 server and library, written from the protocol up.
//!
//! ```text
//! bin/berth (CLI, config, logging)
//!    │
//! app: serve_dir ...             (knows Request/Response/Body/Handler)
//!    │
//! types: request · response · body · handler
//!    ▲
//! server (tokio driver: sockets, buffers, timeouts, the keep-alive loop)
//!    │
//! proto (sans-I/O HTTP/1.1: bytes in → events out; responses in → bytes out)
//! ```
//!
//! ```no_run
//! use berth::{Request, Response, Server};
//!
//! # async fn run() -> Result<(), berth::Error> {
//! let hello = |_req: Request| async { berth::response::text("Hello, World!") };
//! Server::bind("127.0.0.1:8080").serve(hello).await
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod body;
mod error;
pub mod handler;
pub mod proto;
pub mod request;
pub mod response;
pub mod serve_dir;
pub mod server;

pub use body::{Body, BodyError};
pub use error::Error;
pub use handler::Handler;
pub use request::Request;
pub use response::Response;
pub use serve_dir::ServeDir;
pub use server::{Server, ServerConfig, Timeouts};
