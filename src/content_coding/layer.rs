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
//! 3. Any other file response `ServeDir` settled goes through
//!    [`Negotiation::settle`], which marks it [`Settled`] only when the
//!    layer's step for other handlers' responses would change it (a
//!    `304` without `Vary`, an identity `200` a `Range` field chose): the
//!    layer returns a marked response as it is. The common answers (a
//!    `200` of a type or size the layer does not code) need no mark, so
//!    they carry no extension map.
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

    /// Whether the layer's treatment of other handlers' responses would
    /// change `res`, `coding` having been negotiated.
    fn alters(&self, res: &Response, coding: Coding) -> bool;

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

    /// Step 3 of the [module docs](self): `res`, a file response whose
    /// representation is settled, marked so the layer leaves it alone when
    /// it would not otherwise.
    pub(crate) fn settle(&self, mut res: Response) -> Response {
        if self.coder.alters(&res, self.coding) {
            res.extensions_mut().insert(Settled);
        }
        res
    }
}

/// The mark of [`Negotiation::settle`] in a response's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settled;
