//! berth in the Rust ecosystem, end to end over real sockets:
//! - an unmodified axum 0.8 app, with tower-http layers, served through
//!   `berth::Tower` (axum's `Path`, `Query`, `Json`, `State` and, with the
//!   `axum` feature, `ConnectInfo` extractors), and berth's own handlers
//!   under tower layers through `Handler::into_service` (`tower`);
//! - HTTP/1.1 Upgrade and WebSockets with a real WebSocket client
//!   (`websocket`).

#[path = "../support/mod.rs"]
mod support;

#[path = "../../examples/common/websocket_app.rs"]
mod websocket_app;

mod tower;
mod websocket;
