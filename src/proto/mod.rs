//! The sans-I/O HTTP/1.1 server protocol: bytes in → events out; responses
//! in → bytes out.
//!
//! Nothing here touches a socket, a file or a clock (a test greps this
//! directory to keep it so). The driver feeds received bytes to a
//! [`Connection`], pulls [`Event`]s, reads where it stands from one
//! [`State`], and asks it to serialize responses into its write buffer;
//! after each response it starts the next cycle or closes, for the
//! [`CloseReason`] the connection gives. The same bytes give the same
//! events (and reasons) however they are split across reads, which is what
//! makes the core testable with byte strings and fuzzable.
//!
//! After any [`ProtocolError`] the read side is dead: the driver may send the
//! one response [`ProtocolError::status`] suggests, then must close, because
//! the start of the next request can no longer be found.

mod chunked;
mod connection;
mod error;
mod framing;
mod head;
mod limits;
pub mod proxy;
mod serialize;
mod syntax;

pub use chunked::{ChunkedDecoder, Decoded};
pub use connection::{
    BodyPiece, Close, CloseReason, Connection, Event, LengthMismatch, RequestProgress,
    ResponseProgress, State,
};
pub use error::{ErrorKind, ProtocolError};
pub use framing::{RequestBody, request_body};
pub use head::{HeadParser, ParseStatus, RequestHead};
pub use limits::Limits;
pub use serialize::{BodyLength, ResponseHead, write_chunk_header};
