//! HTTP/1.1 over any [`Transport`](super::transport::Transport): berth's
//! own protocol engine around the sans-I/O [`proto`](crate::proto).
//!
//! - `conn`: one connection's task (reading, keep-alive, pipelining,
//!   serving each request through the serving core, errors, closing);
//! - `respond`: writing response bodies (buffers, files, `sendfile`,
//!   streams);
//! - `outbox`: the write buffer, bytes sent and Nagle/`MSG_MORE` state;
//! - `feed`: the request body, fed from the socket as the handler reads;
//! - `drain`: what the handler left of it, discarded up to a budget;
//! - `keepalive`: how long an idle connection waits, as a pure function;
//! - `detect`: whether a new cleartext connection opens with the HTTP/2
//!   preface, as a pure function;
//! - `upgrade`: the protocol switch (`101`) and handing the connection
//!   to the handler;
//! - `park`: idle plain-TCP connections kept without a task.
//!
//! Nothing here knows HTTP/2; a cleartext connection that opens with the
//! HTTP/2 preface ends its HTTP/1.1 life as [`Ended::Http2`].

mod conn;
mod detect;
mod drain;
mod feed;
mod keepalive;
mod outbox;
pub(crate) mod park;
mod respond;
mod upgrade;

pub(crate) use conn::{Ended, Start, serve_connection};
