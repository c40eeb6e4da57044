//! `Accept-Encoding` (RFC 9110 §12.5.3): which codings the client takes,
//! and the pick among those the server can produce.
//!
//! ```text
//! Accept-Encoding  = #( codings [ weight ] )
//! codings          = content-coding / "identity" / "*"
//! weight           = OWS ";" OWS "q=" qvalue
//! ```
//!
//! The list, the parameters and the q-values are read by [`crate::syntax`]
//! (the grammar every field shares); this file owns what they mean for
//! codings. Pure functions of the header values, so they can be tested
//! with tables and fuzzed (`fuzz/fuzz_targets/accept_encoding.rs`). The
//! rules are listed on [`AcceptEncoding`].

use http::{HeaderMap, HeaderValue, header};

use super::Coding;
use crate::syntax::{Quality, elements, is_token, split_params, split_weight};

/// The outcome of [`negotiate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// Send the response in this coding (possibly [`Coding::Identity`]).
    Use(Coding),
    /// The client excluded identity and accepts none of the codings
    /// offered (see rule 7 on [`AcceptEncoding`] for what berth does then).
    NotAcceptable,
}

/// The lowest non-zero quality, given to identity when nothing names it.
const IMPLICIT_IDENTITY: Quality = 1;

/// A parsed `Accept-Encoding` field (all its lines).
///
/// The rules, in the order they apply:
///
/// 1. **No field** (no `Accept-Encoding` line at all): identity. RFC 9110
///    lets a server pick any coding then, but a client that sent nothing
///    may not decode anything (`curl` without `--compressed`).
/// 2. **Elements.** The lines are one comma-separated list, split as
///    every list is ([`crate::syntax`]: empty elements and OWS allowed, a
///    comma inside a quoted parameter value does not split). A coding name
///    is a token compared case-insensitively; `x-gzip` is `gzip` (RFC 9110
///    §8.4.1.3). The only parameter looked at is the first `q` (name
///    case-insensitive); others are ignored.
/// 3. **Malformed elements** (a name that is not a token, a `q` outside the
///    grammar: `q=2`, `q=0.5x`, `q=1.0001`, `q=0.0001`, `q=00`, `q=`) are
///    skipped as if absent, as in every weighted list: never a `400`. A
///    field with nothing valid left is an empty field.
/// 4. **Quality of a coding:** its own element's q (default 1); a coding
///    listed twice gets the lowest of its q-values, so a `q=0` anywhere
///    excludes it. Not listed: the q of `*` if present, else 0 (not
///    acceptable). So an empty field means "identity only" (RFC 9110
///    §12.5.3).
/// 5. **Quality of identity:** its own element's q, else the q of `*`,
///    else acceptable with the lowest preference (0.001): identity is
///    always acceptable unless `identity;q=0`, or `*;q=0` without an
///    `identity` element, excludes it.
/// 6. **Choice:** the highest q wins; q=0 never wins. Ties go to the order
///    the server lists its codings in, identity after all of them.
///    berth's default order is zstd, br, gzip: at the default levels zstd
///    gives brotli's size in a quarter of its time and decodes fastest,
///    and both beat gzip on size (measurements in `encoder.rs`).
/// 7. **Nothing acceptable** (identity excluded too):
///    [`Negotiated::NotAcceptable`]. The [`Compress`](crate::compress::Compress)
///    layer and `ServeDir` then send identity anyway, which RFC 9110
///    §12.1 permits ("disregard the header field"), as nginx and Apache
///    do: a `406` would leave such a client with nothing at all, while
///    identity is the one representation every HTTP recipient can read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptEncoding {
    /// Whether any `Accept-Encoding` line was present.
    present: bool,
    /// The q of zstd, br, gzip and identity elements (index by
    /// [`slot`]), `None` when not listed.
    listed: [Option<Quality>; 4],
    /// The q of `*`, when listed.
    star: Option<Quality>,
}

fn slot(coding: Coding) -> usize {
    match coding {
        Coding::Zstd => 0,
        Coding::Br => 1,
        Coding::Gzip => 2,
        Coding::Identity => 3,
    }
}

impl AcceptEncoding {
    /// Parses the field from every `Accept-Encoding` line of `headers`.
    pub fn from_headers(headers: &HeaderMap) -> AcceptEncoding {
        AcceptEncoding::parse(headers.get_all(header::ACCEPT_ENCODING))
    }

    /// Parses the field from its lines (none: no field).
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a HeaderValue>) -> AcceptEncoding {
        let mut out = AcceptEncoding::default();
        for line in lines {
            out.present = true;
            for element in elements(line.as_bytes()) {
                if let Some((name, q)) = parse_element(element) {
                    out.add(name, q);
                }
            }
        }
        out
    }

    fn add(&mut self, name: &[u8], q: Quality) {
        let entry = if name == b"*" {
            &mut self.star
        } else if let Some(coding) = Coding::from_token(name) {
            &mut self.listed[slot(coding)]
        } else {
            return; // deflate, compress, ...: berth does not produce them
        };
        *entry = Some(entry.map_or(q, |old| old.min(q)));
    }

    /// The quality the client gives `coding`, in thousandths (0: not
    /// acceptable): rules 4 and 5 of the [type docs](AcceptEncoding).
    pub fn quality(&self, coding: Coding) -> u16 {
        if !self.present {
            return if coding == Coding::Identity { 1000 } else { 0 };
        }
        match (self.listed[slot(coding)], self.star, coding) {
            (Some(q), _, _) => q,
            (None, Some(q), _) => q,
            (None, None, Coding::Identity) => IMPLICIT_IDENTITY,
            (None, None, _) => 0,
        }
    }

    /// The acceptable choices among `available` (in the server's order of
    /// preference) and identity, best first: q descending, ties in
    /// `available` order, identity last among equals. `Identity` inside
    /// `available` is ignored (it is always a candidate). Empty when
    /// nothing is acceptable.
    pub fn ranked(&self, available: &[Coding]) -> Vec<Coding> {
        let mut candidates: Vec<(Quality, usize, Coding)> = available
            .iter()
            .filter(|&&c| c != Coding::Identity)
            .enumerate()
            .map(|(i, &c)| (self.quality(c), i, c))
            .collect();
        candidates.push((self.quality(Coding::Identity), usize::MAX, Coding::Identity));
        candidates.retain(|&(q, _, _)| q > 0);
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut seen = Vec::with_capacity(candidates.len());
        for (_, _, c) in candidates {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        seen
    }

    /// The best acceptable choice among `available` and identity: the
    /// first of [`ranked`](Self::ranked), found without allocating (this
    /// runs for every response that passes through `Compress`).
    pub fn negotiate(&self, available: &[Coding]) -> Negotiated {
        if !self.present {
            return Negotiated::Use(Coding::Identity);
        }
        // Strictly better only: ties keep the earlier coding, and identity
        // comes last among equals.
        let mut best: Option<(Quality, Coding)> = None;
        let codings = available.iter().filter(|&&c| c != Coding::Identity);
        for &coding in codings.chain(std::iter::once(&Coding::Identity)) {
            let q = self.quality(coding);
            if q > 0 && best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, coding));
            }
        }
        match best {
            Some((_, coding)) => Negotiated::Use(coding),
            None => Negotiated::NotAcceptable,
        }
    }
}

/// Picks the content coding for a response from one `Accept-Encoding`
/// value (`None`: the request had none) and the codings the server can
/// produce, in its order of preference, by the rules listed on
/// [`AcceptEncoding`].
///
/// ```
/// use berth::compress::{Coding, Negotiated, negotiate};
/// use berth::http::HeaderValue;
///
/// let all = Coding::ALL;
/// let pick = |v: &'static str| negotiate(Some(&HeaderValue::from_static(v)), &all);
/// assert_eq!(pick("gzip, br"), Negotiated::Use(Coding::Br));
/// assert_eq!(pick("gzip;q=0"), Negotiated::Use(Coding::Identity));
/// assert_eq!(pick("br;q=0.5, gzip"), Negotiated::Use(Coding::Gzip));
/// assert_eq!(pick("identity;q=0"), Negotiated::NotAcceptable);
/// assert_eq!(negotiate(None, &all), Negotiated::Use(Coding::Identity));
/// ```
pub fn negotiate(accept_encoding: Option<&HeaderValue>, available: &[Coding]) -> Negotiated {
    AcceptEncoding::parse(accept_encoding).negotiate(available)
}

/// One list element: its name and quality, or `None` when it is
/// malformed (rule 3).
fn parse_element(element: &[u8]) -> Option<(&[u8], Quality)> {
    let (name, params) = split_params(element);
    // `*` is a tchar: it passes as a token.
    if !is_token(name) {
        return None;
    }
    let (_, q) = split_weight(params);
    Some((name, q?))
}
