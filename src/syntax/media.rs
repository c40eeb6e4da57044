//! Media types (RFC 9110 §8.3.1) and the `Accept` field (§12.5.1).
//!
//! ```text
//! media-type  = type "/" subtype parameters
//! Accept      = #( media-range [ weight ] )
//! media-range = ( "*/*" / ( type "/" "*" ) / ( type "/" subtype ) ) parameters
//! ```
//!
//! The matching rules are on [`Accept`].

use std::borrow::Cow;

use http::{HeaderMap, header};

use super::params::{Params, Quality, split_params, split_weight};
use super::{elements, is_token};

/// A media type, `type/subtype` plus parameters, borrowed from a field
/// value (a `Content-Type`, or a type to look up in [`Accept`]).
#[derive(Debug, Clone)]
pub struct MediaType<'a> {
    ty: &'a [u8],
    subtype: &'a [u8],
    params: Params<'a>,
}

impl<'a> MediaType<'a> {
    /// Parses `type "/" subtype parameters` (OWS allowed around the
    /// parameters' `;`); `None` unless type and subtype are tokens. The
    /// parameters are read on demand: a malformed one has no value.
    ///
    /// ```
    /// # use berth::syntax::MediaType;
    /// let m = MediaType::parse(b"Text/HTML; charset=\"utf-8\"").unwrap();
    /// assert!(m.is("text", "html"));
    /// assert_eq!(m.param(b"CHARSET").as_deref(), Some(&b"utf-8"[..]));
    /// assert!(MediaType::parse(b"text").is_none());
    /// ```
    pub fn parse(value: &'a [u8]) -> Option<MediaType<'a>> {
        let (essence, params) = split_params(value);
        let slash = essence.iter().position(|&b| b == b'/')?;
        let (ty, subtype) = (&essence[..slash], &essence[slash + 1..]);
        (is_token(ty) && is_token(subtype)).then_some(MediaType {
            ty,
            subtype,
            params,
        })
    }

    /// The type (`text` in `text/html`), as sent.
    pub fn ty(&self) -> &'a [u8] {
        self.ty
    }

    /// The subtype (`html` in `text/html`), as sent.
    pub fn subtype(&self) -> &'a [u8] {
        self.subtype
    }

    /// Whether this is `ty/subtype`, case-insensitively.
    pub fn is(&self, ty: &str, subtype: &str) -> bool {
        self.ty.eq_ignore_ascii_case(ty.as_bytes())
            && self.subtype.eq_ignore_ascii_case(subtype.as_bytes())
    }

    /// Whether this is `essence` (`type/subtype`), case-insensitively.
    pub fn essence_is(&self, essence: &str) -> bool {
        essence
            .split_once('/')
            .is_some_and(|(ty, subtype)| self.is(ty, subtype))
    }

    /// The structured syntax suffix (RFC 6838 §4.2.8): what follows the
    /// last `+` of the subtype (`json` in `application/ld+json`); `None`
    /// without one, or when nothing precedes or follows the `+`.
    pub fn suffix(&self) -> Option<&'a [u8]> {
        let plus = self.subtype.iter().rposition(|&b| b == b'+')?;
        Some(&self.subtype[plus + 1..]).filter(|s| plus > 0 && !s.is_empty())
    }

    /// The parameters, in order.
    pub fn params(&self) -> Params<'a> {
        self.params.clone()
    }

    /// The value of the first parameter called `name` (case-insensitive),
    /// unquoted; `None` when there is none or it is malformed.
    pub fn param(&self, name: &[u8]) -> Option<Cow<'a, [u8]>> {
        self.params().find(|p| p.is(name))?.value()
    }
}

/// How specific a matching `Accept` range is; ranges compare by level,
/// then by their number of parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    /// Which parts the range names.
    pub level: Level,
    /// How many parameters (before its `q`) the range has.
    pub params: usize,
}

/// Which parts of a media type an `Accept` range names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `*/*`.
    Any,
    /// `type/*`.
    Type,
    /// `type/subtype`.
    Subtype,
}

/// One well-formed media range with its weight.
#[derive(Debug, Clone)]
struct Range<'a> {
    ty: &'a [u8],
    subtype: &'a [u8],
    /// The range's own parameters (before its `q`).
    params: Params<'a>,
    specificity: Specificity,
    q: Quality,
}

impl Range<'_> {
    fn parse(element: &[u8]) -> Option<Range<'_>> {
        let (essence, params) = split_params(element);
        let slash = essence.iter().position(|&b| b == b'/')?;
        let (ty, subtype) = (&essence[..slash], &essence[slash + 1..]);
        if !is_token(ty) || !is_token(subtype) {
            return None;
        }
        let level = match (ty, subtype) {
            (b"*", b"*") => Level::Any,
            (b"*", _) => return None,
            (_, b"*") => Level::Type,
            _ => Level::Subtype,
        };
        let (params, q) = split_weight(params);
        let q = q?;
        let mut count = 0;
        for param in params.clone() {
            param.value()?;
            count += 1;
        }
        Some(Range {
            ty,
            subtype,
            params,
            specificity: Specificity {
                level,
                params: count,
            },
            q,
        })
    }

    fn matches(&self, media: &MediaType<'_>) -> bool {
        let names_match = match self.specificity.level {
            Level::Any => true,
            Level::Type => media.ty.eq_ignore_ascii_case(self.ty),
            Level::Subtype => {
                media.ty.eq_ignore_ascii_case(self.ty)
                    && media.subtype.eq_ignore_ascii_case(self.subtype)
            }
        };
        names_match
            && self.params.clone().all(|want| {
                let (Some(value), Some(theirs)) = (want.value(), media.param(want.name())) else {
                    return false;
                };
                value.eq_ignore_ascii_case(&theirs)
            })
    }
}

/// A parsed `Accept` field (all its lines).
///
/// **Matching.** A range matches a media type when its type (unless `*`)
/// and subtype (unless `*`) are the type's, compared case-insensitively,
/// and each of the range's own parameters (those before its `q`) is one of
/// the type's, with an equal value (case-insensitive, after unquoting).
/// **Specificity**: of the ranges that match, the most specific decides
/// the quality: `type/subtype;params` (more parameters first), then
/// `type/subtype`, `type/*`, `*/*` (RFC 9110 §12.5.1, with its example). Among
/// equally specific ones the lowest q counts, so a `q=0` is never outvoted
/// by a duplicate. A range that is malformed (`*/html`, not tokens, a
/// parameter that is not `token=token-or-quoted-string`, an invalid
/// q-value) is ignored.
///
/// ```
/// # use berth::syntax::{Accept, MediaType};
/// let accept = Accept::parse([&b"text/*;q=0.5, text/html, */*;q=0.1"[..]]);
/// let q = |m: &str| accept.quality(&MediaType::parse(m.as_bytes()).unwrap());
/// assert_eq!(q("text/html"), 1000);
/// assert_eq!(q("text/plain"), 500);
/// assert_eq!(q("image/png"), 100);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Accept<'a> {
    /// Whether any `Accept` line was present.
    present: bool,
    ranges: Vec<Range<'a>>,
}

impl<'a> Accept<'a> {
    /// Parses the field from its lines (none: no field).
    pub fn parse(lines: impl IntoIterator<Item = &'a [u8]>) -> Accept<'a> {
        let mut accept = Accept::default();
        for line in lines {
            accept.present = true;
            accept
                .ranges
                .extend(elements(line).filter_map(Range::parse));
        }
        accept
    }

    /// Parses every `Accept` line of `headers`.
    pub fn from_headers(headers: &'a HeaderMap) -> Accept<'a> {
        Accept::parse(headers.get_all(header::ACCEPT).iter().map(|v| v.as_bytes()))
    }

    /// The most specific range that matches `media`, and the quality it
    /// gives; `None` when no range does (or there is no field).
    pub fn best_match(&self, media: &MediaType<'_>) -> Option<(Specificity, Quality)> {
        let mut best: Option<(Specificity, Quality)> = None;
        for range in self.ranges.iter().filter(|r| r.matches(media)) {
            let candidate = (range.specificity, range.q);
            best = match best {
                Some((s, q)) if s == range.specificity => Some((s, q.min(range.q))),
                Some((s, _)) if s > range.specificity => best,
                _ => Some(candidate),
            };
        }
        best
    }

    /// The quality of `media`: that of its [best match](Self::best_match),
    /// 0 when no range matches, 1000 when there is no `Accept` field at
    /// all (RFC 9110 §12.5.1: any type is then acceptable).
    pub fn quality(&self, media: &MediaType<'_>) -> Quality {
        if !self.present {
            return 1000;
        }
        self.best_match(media).map_or(0, |(_, q)| q)
    }
}
