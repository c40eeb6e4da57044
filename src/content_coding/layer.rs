//! How a [`Compress`](crate::compress::Compress) layer and a `ServeDir`
//! somewhere inside it talk: through the request and the response, never
//! through imports or a downcast (DESIGN.md, "App handlers talk through
//! the request").
//!
//! 1. The layer puts a [`Negotiation`] in the request's extensions: the
//!    coding it picked, the parsed `Accept-Encoding`, and itself as a
//!    [`FileCoder`] (which files it codes, and how).
//! 2. `ServeDir`, finding it, settles the representation of a file itself
//!    (a sidecar, identity, or the layer's coding), with that
//!    representation's ETag and preconditions. A `200` to be coded on the
//!    fly goes to [`Negotiation::code_file`], whose future `ServeDir`
//!    returns: the response comes back with `Content-Encoding`, which the
//!    layer leaves alone like any coded response.
//! 3. A file response `ServeDir` decided against what the layer would do
//!    on its own (a `304`, a `412`, a `206`, the identity `200` a `Range`
//!    field chose) is marked [`Settled`] by [`Negotiation::settle`]: the
//!    layer returns it as it is. A `200` to a request without `Range` is
//!    not marked: its type, size and coding were judged by the layer's
//!    own policy ([`Negotiation::codes_file`]), so the layer's rule for
//!    other responses leaves it as it is (`compress/tests.rs` checks it),
//!    and the common answer carries no extension map.
//!
//! Without the `compress` feature nothing builds a `Negotiation`, and
//! `ServeDir` never finds one.
#![cfg_attr(not(feature = "compress"), allow(dead_code))]

use std::fmt;
use std::sync::Arc;

use super::{AcceptEncoding, Coding, FileIdentity};
use crate::Response;
use crate::handler::BoxFuture;

/// What a compression layer offers the handlers inside it, through a
/// request's [`Negotiation`].
pub(crate) trait FileCoder: fmt::Debug + Send + Sync + 'static {
    /// Whether a file whose type is `compressible` (see
    /// [`is_compressible`](super::is_compressible)) and whose length is
    /// `len` is coded for a client that accepts a coding.
    fn codes_file(&self, compressible: bool, len: u64) -> bool;

    /// `res`, a `200` whose body is the whole file `file`, coded with
    /// `coding` (its ETag is already the coded one).
    fn code_file(
        self: Arc<Self>,
        res: Response,
        coding: Coding,
        file: FileIdentity,
    ) -> BoxFuture<Response>;
}

/// Set by a compression layer in each request's extensions; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub(crate) struct Negotiation {
    /// The coding the layer picked (identity when nothing else is
    /// acceptable).
    pub(crate) coding: Coding,
    /// The request's `Accept-Encoding`, parsed (for sidecars).
    pub(crate) accept: AcceptEncoding,
    coder: Arc<dyn FileCoder>,
}

impl Negotiation {
    pub(crate) fn new(coding: Coding, accept: AcceptEncoding, coder: Arc<dyn FileCoder>) -> Self {
        Negotiation {
            coding,
            accept,
            coder,
        }
    }

    /// Whether the layer codes a file of this kind and length.
    pub(crate) fn codes_file(&self, compressible: bool, len: u64) -> bool {
        self.coder.codes_file(compressible, len)
    }

    /// Step 2 of the [module docs](self): the layer codes the file's `200`.
    pub(crate) fn code_file(
        &self,
        res: Response,
        coding: Coding,
        file: FileIdentity,
    ) -> BoxFuture<Response> {
        Arc::clone(&self.coder).code_file(res, coding, file)
    }

    /// Step 3 of the [module docs](self): `res` marked so the layer
    /// returns it as it is.
    pub(crate) fn settle(mut res: Response) -> Response {
        res.extensions_mut().insert(Settled);
        res
    }
}

/// The mark of [`Negotiation::settle`] in a response's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settled;
