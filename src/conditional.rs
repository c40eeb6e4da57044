//! Validators and conditional requests (RFC 9110 §8.8, §13).
//!
//! Owns the parsing of entity-tags and entity-tag lists, the two tag
//! comparisons, and the evaluation of the precondition header fields. It
//! does no I/O: [`evaluate_preconditions`] is a pure function of the method,
//! the request headers and the current validators, so it can be tested with
//! tables and fuzzed.
//!
//! The §13.2.2 precedence, as numbered steps, is documented on
//! [`evaluate_preconditions`], next to the code that follows it.
//!
//! A types-layer module: `ServeDir` evaluates a file's preconditions with
//! it and the `Compress` layer checks a coded ETag against
//! `If-None-Match`, neither through the other. The public names are
//! `berth::serve_dir::{evaluate_preconditions, Precondition}`.
//!
//! Entity-tag lists are the one list in berth not split by
//! [`crate::syntax::elements`]: an entity-tag is not a quoted-string (a
//! backslash inside it is an ordinary `etagc`, RFC 9110 §8.8.3), so the
//! members are parsed tag by tag here.

use std::time::{SystemTime, UNIX_EPOCH};

use http::Method;
use http::header::{self, HeaderMap, HeaderName};

use crate::syntax::{is_ows, trim_ows};

/// What the preconditions of a request decide (RFC 9110 §13.2.2); see
/// [`evaluate_preconditions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No precondition stops the request: go on to ranges and the full
    /// response.
    Proceed,
    /// `304 Not Modified`: the client's cached copy is current.
    NotModified,
    /// `412 Precondition Failed`.
    Failed,
}

/// Evaluates If-Match, If-Unmodified-Since, If-None-Match and
/// If-Modified-Since for a request with `method` and `headers` against the
/// current validators: `etag` as sent in the `ETag` field (`"abc"` or
/// `W/"abc"`; `None` or an invalid value means the resource has none) and
/// the modification time (`None`: none). If-Range is not looked at.
///
/// # Precedence (RFC 9110 §13.2.2)
///
/// The steps run in order; the first one that decides ends it:
///
/// 1. **If-Match** present: true when it is `*` or lists a tag that matches
///    the current ETag by *strong* comparison. False → `412`. True → step 3
///    (If-Unmodified-Since is not looked at).
/// 2. **If-Unmodified-Since**, only when there is no If-Match: false when the
///    representation was modified after the date → `412`. Ignored when the
///    date is invalid, the field is repeated, or there is no
///    modification date.
/// 3. **If-None-Match** present: false when it is `*` or lists a tag that
///    matches the current ETag by *weak* comparison. False → `304` for GET
///    and HEAD, `412` for any other method. True → step 5 (If-Modified-Since
///    is not looked at).
/// 4. **If-Modified-Since**, only when there is no If-None-Match and only for
///    GET and HEAD: false when the representation was not modified after the
///    date → `304`. Ignored like If-Unmodified-Since. Dates are compared at
///    whole seconds, the precision of `Last-Modified`.
/// 5. **If-Range** is part of range handling: see
///    `serve_dir::if_range_matches`, evaluated with the range step.
///
/// Everything else proceeds to the range step and the full response.
///
/// # Malformed fields
///
/// Malformed values never cause a `400`. A list member that is not a valid
/// `entity-tag` (unquoted, `w/"x"`, unterminated, a bad byte inside the
/// quotes, `*` next to other members) is skipped; a tag field with no valid
/// member left is ignored as if absent. An invalid HTTP-date is ignored
/// (RFC 9110 §13.1.3, §13.1.4).
///
/// ```
/// use berth::http::{HeaderMap, Method, header};
/// use berth::serve_dir::{Precondition, evaluate_preconditions};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::IF_NONE_MATCH, "W/\"v1\", \"v2\"".parse().unwrap());
/// let outcome = evaluate_preconditions(&Method::GET, &headers, Some("\"v1\""), None);
/// assert_eq!(outcome, Precondition::NotModified);
/// ```
pub fn evaluate_preconditions(
    method: &Method,
    headers: &HeaderMap,
    etag: Option<&str>,
    last_modified: Option<SystemTime>,
) -> Precondition {
    // Most requests carry no precondition: skip parsing our own tag.
    let conditional = [
        &header::IF_MATCH,
        &header::IF_UNMODIFIED_SINCE,
        &header::IF_NONE_MATCH,
        &header::IF_MODIFIED_SINCE,
    ];
    if !conditional.iter().any(|name| headers.contains_key(*name)) {
        return Precondition::Proceed;
    }
    let current = etag.and_then(|e| parse_single_tag(e.as_bytes()));
    let modified = last_modified.and_then(unix_seconds);
    let get_or_head = method == Method::GET || method == Method::HEAD;

    // 1. If-Match: strong comparison; `*` matches any current representation.
    match tag_list(headers, &header::IF_MATCH) {
        Some(list) => {
            if !list.matches(current, strong_eq) {
                return Precondition::Failed;
            }
        }
        // 2. If-Unmodified-Since, only without If-Match.
        None => {
            if let (Some(since), Some(modified)) =
                (header_date(headers, &header::IF_UNMODIFIED_SINCE), modified)
                && modified > since
            {
                return Precondition::Failed;
            }
        }
    }
    // 3. If-None-Match: weak comparison; `*` matches any current
    //    representation.
    match tag_list(headers, &header::IF_NONE_MATCH) {
        Some(list) => {
            if list.matches(current, weak_eq) {
                return if get_or_head {
                    Precondition::NotModified
                } else {
                    Precondition::Failed
                };
            }
        }
        // 4. If-Modified-Since, only without If-None-Match, only GET/HEAD.
        None => {
            if get_or_head
                && let (Some(since), Some(modified)) =
                    (header_date(headers, &header::IF_MODIFIED_SINCE), modified)
                && modified <= since
            {
                return Precondition::NotModified;
            }
        }
    }
    Precondition::Proceed
}

/// One `entity-tag` (RFC 9110 §8.8.3), borrowed from a field value.
///
/// ```text
/// entity-tag = [ weak ] opaque-tag
/// weak       = %s"W/"
/// opaque-tag = DQUOTE *etagc DQUOTE
/// etagc      = %x21 / %x23-7E / obs-text
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntityTag<'a> {
    pub(crate) weak: bool,
    /// The characters between the quotes.
    pub(crate) opaque: &'a [u8],
}

/// RFC 9110 §8.8.3.2: strong comparison, both strong and equal.
pub(crate) fn strong_eq(a: EntityTag<'_>, b: EntityTag<'_>) -> bool {
    !a.weak && !b.weak && a.opaque == b.opaque
}

/// RFC 9110 §8.8.3.2: weak comparison, equal opaque-tags whatever the flags.
pub(crate) fn weak_eq(a: EntityTag<'_>, b: EntityTag<'_>) -> bool {
    a.opaque == b.opaque
}

fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

/// Parses an entity-tag at the start of `s`; returns it and the rest.
fn parse_tag_prefix(s: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let (weak, s) = match s.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let s = s.strip_prefix(b"\"")?;
    let end = s.iter().position(|&b| b == b'"')?;
    let opaque = &s[..end];
    if !opaque.iter().all(|&b| is_etagc(b)) {
        return None;
    }
    Some((EntityTag { weak, opaque }, &s[end + 1..]))
}

/// A field value that must be exactly one entity-tag (surrounding OWS
/// allowed): the ETag we send, or an If-Range value.
pub(crate) fn parse_single_tag(s: &[u8]) -> Option<EntityTag<'_>> {
    let s = trim_ows(s);
    match parse_tag_prefix(s)? {
        (tag, []) => Some(tag),
        _ => None,
    }
}

/// One member of an If-Match / If-None-Match list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member<'a> {
    Star,
    Tag(EntityTag<'a>),
}

/// The valid members of one field line, in order. Empty list elements and
/// OWS around commas are allowed (RFC 9110 §5.6.1); a malformed member is
/// skipped up to the next comma.
fn list_members<'a>(mut s: &'a [u8], out: &mut Vec<Member<'a>>) {
    loop {
        while let [b, rest @ ..] = s
            && (is_ows(*b) || *b == b',')
        {
            s = rest;
        }
        if s.is_empty() {
            return;
        }
        let parsed = match s {
            [b'*', rest @ ..] => Some((Member::Star, rest)),
            _ => parse_tag_prefix(s).map(|(tag, rest)| (Member::Tag(tag), rest)),
        };
        let rest = match parsed {
            Some((member, rest)) => {
                let after = trim_ows(rest);
                if after.is_empty() || after[0] == b',' {
                    out.push(member);
                    s = after;
                    continue;
                }
                rest
            }
            None => s,
        };
        // Malformed: skip to the next comma.
        match rest.iter().position(|&b| b == b',') {
            Some(i) => s = &rest[i..],
            None => return,
        }
    }
}

/// A parsed If-Match or If-None-Match field.
#[derive(Debug, PartialEq, Eq)]
enum TagList<'a> {
    /// `*`: any current representation.
    Any,
    Tags(Vec<EntityTag<'a>>),
}

impl TagList<'_> {
    /// True when the list names the current representation under `eq`.
    fn matches(
        &self,
        current: Option<EntityTag<'_>>,
        eq: fn(EntityTag<'_>, EntityTag<'_>) -> bool,
    ) -> bool {
        match self {
            // The resource exists: we only evaluate preconditions on a file.
            TagList::Any => true,
            TagList::Tags(tags) => current.is_some_and(|c| tags.iter().any(|&t| eq(t, c))),
        }
    }
}

/// The field `name` as a tag list over all its field lines, or `None` when
/// it is absent or holds no valid member (then it is ignored). `*` counts
/// only as the one and only member; next to tags it is malformed.
fn tag_list<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<TagList<'h>> {
    let mut members = Vec::new();
    for value in headers.get_all(name) {
        list_members(value.as_bytes(), &mut members);
    }
    if members == [Member::Star] {
        return Some(TagList::Any);
    }
    let tags: Vec<_> = members
        .into_iter()
        .filter_map(|m| match m {
            Member::Tag(tag) => Some(tag),
            Member::Star => None,
        })
        .collect();
    (!tags.is_empty()).then_some(TagList::Tags(tags))
}

/// Whole seconds since the epoch, the precision of HTTP dates; `None`
/// before 1970.
pub(crate) fn unix_seconds(t: SystemTime) -> Option<u64> {
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// An HTTP-date field (IMF-fixdate, or the obsolete RFC 850 and asctime
/// forms, RFC 9110 §5.6.7) in whole seconds. `None` (ignore the field) when
/// absent, repeated or invalid.
fn header_date(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_date(value.as_bytes())
}

/// An HTTP-date in whole seconds since the epoch, or `None` if invalid.
pub(crate) fn parse_date(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(trim_ows(value)).ok()?;
    unix_seconds(httpdate::parse_http_date(text).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use Precondition::{Failed, NotModified, Proceed};

    const ETAG: &str = "\"5-abc-1\"";
    /// `Last-Modified` of the resource: Sun, 06 Nov 1994 08:49:37 GMT.
    const MODIFIED: u64 = 784_111_777;
    const AT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const BEFORE: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
    const AFTER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";

    fn eval(method: Method, fields: &[(&str, &str)]) -> Precondition {
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        // Sub-second part: compared at whole seconds.
        let modified = UNIX_EPOCH + Duration::new(MODIFIED, 500_000_000);
        evaluate_preconditions(&method, &headers, Some(ETAG), Some(modified))
    }

    fn get(fields: &[(&str, &str)]) -> Precondition {
        eval(Method::GET, fields)
    }

    #[test]
    fn no_preconditions_proceed() {
        assert_eq!(get(&[]), Proceed);
        assert_eq!(eval(Method::POST, &[]), Proceed);
    }

    #[test]
    fn if_match_table() {
        let cases = [
            ("*", Proceed),
            (ETAG, Proceed),
            ("\"other\"", Failed),
            ("\"other\", \"5-abc-1\"", Proceed),
            ("\"other\",\"5-abc-1\"", Proceed),
            ("  \"other\" ,\t\"5-abc-1\"  ", Proceed),
            (",, \"5-abc-1\",", Proceed),
            // Strong comparison: a weak tag never matches.
            ("W/\"5-abc-1\"", Failed),
            // Malformed members are skipped; the rest still counts.
            ("5-abc-1", Proceed),
            ("junk, \"5-abc-1\"", Proceed),
            ("\"x\" junk, \"other\"", Failed),
            ("w/\"5-abc-1\"", Proceed),
            ("\"unterminated", Proceed),
            ("\"a b\"", Proceed),
            ("*, \"other\"", Failed),
        ];
        for (value, want) in cases {
            assert_eq!(get(&[("if-match", value)]), want, "If-Match: {value}");
        }
    }

    #[test]
    fn if_none_match_table() {
        let cases = [
            ("*", NotModified),
            (ETAG, NotModified),
            // Weak comparison.
            ("W/\"5-abc-1\"", NotModified),
            ("\"a\", W/\"5-abc-1\"", NotModified),
            ("\"other\"", Proceed),
            ("\"5-abc-1 \"", Proceed),
            ("\"5-ABC-1\"", Proceed),
            // Tags may contain commas.
            ("\"a,b\", \"5-abc-1\"", NotModified),
            ("\"a,b\"", Proceed),
            // Malformed: ignored.
            ("5-abc-1", Proceed),
            ("", Proceed),
            ("W/", Proceed),
            ("\"", Proceed),
        ];
        for (value, want) in cases {
            assert_eq!(
                get(&[("if-none-match", value)]),
                want,
                "If-None-Match: {value}"
            );
        }
    }

    #[test]
    fn if_none_match_on_other_methods_is_412() {
        assert_eq!(eval(Method::HEAD, &[("if-none-match", ETAG)]), NotModified);
        assert_eq!(eval(Method::POST, &[("if-none-match", ETAG)]), Failed);
        assert_eq!(eval(Method::PUT, &[("if-none-match", "*")]), Failed);
        assert_eq!(eval(Method::PUT, &[("if-none-match", "\"x\"")]), Proceed);
    }

    #[test]
    fn tag_lists_span_field_lines() {
        let fields = [("if-none-match", "\"a\""), ("if-none-match", ETAG)];
        assert_eq!(get(&fields), NotModified);
        // `*` on one line and a tag on another is not a lone `*`.
        let fields = [("if-match", "*"), ("if-match", "\"x\"")];
        assert_eq!(get(&fields), Failed);
    }

    #[test]
    fn if_modified_since_table() {
        let cases = [
            (AT, NotModified),
            (AFTER, NotModified),
            (BEFORE, Proceed),
            // The obsolete forms are dates too.
            ("Sunday, 06-Nov-94 08:49:37 GMT", NotModified),
            ("Sun Nov  6 08:49:37 1994", NotModified),
            // Invalid dates are ignored.
            ("yesterday", Proceed),
            ("Sun, 06 Nov 1994 08:49:37", Proceed),
            ("", Proceed),
            ("Sun, 32 Nov 1994 08:49:37 GMT", Proceed),
        ];
        for (value, want) in cases {
            let fields = [("if-modified-since", value)];
            assert_eq!(get(&fields), want, "If-Modified-Since: {value}");
            assert_eq!(eval(Method::HEAD, &fields), want, "HEAD {value}");
            // Only GET and HEAD.
            assert_eq!(eval(Method::POST, &fields), Proceed, "POST {value}");
        }
        let twice = [("if-modified-since", AT), ("if-modified-since", AT)];
        assert_eq!(get(&twice), Proceed);
    }

    #[test]
    fn if_unmodified_since_table() {
        let cases = [
            (AT, Proceed),
            (AFTER, Proceed),
            (BEFORE, Failed),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Failed),
            ("not a date", Proceed),
        ];
        for (value, want) in cases {
            let fields = [("if-unmodified-since", value)];
            assert_eq!(get(&fields), want, "If-Unmodified-Since: {value}");
            assert_eq!(eval(Method::PUT, &fields), want, "PUT {value}");
        }
    }

    #[test]
    fn precedence() {
        // 1 before 2: a true If-Match skips If-Unmodified-Since.
        let f = [("if-match", ETAG), ("if-unmodified-since", BEFORE)];
        assert_eq!(get(&f), Proceed);
        // A malformed If-Match is absent: If-Unmodified-Since counts.
        let f = [("if-match", "junk"), ("if-unmodified-since", BEFORE)];
        assert_eq!(get(&f), Failed);
        // 1 before 3: 412 wins over 304.
        let f = [("if-match", "\"x\""), ("if-none-match", ETAG)];
        assert_eq!(get(&f), Failed);
        let f = [("if-unmodified-since", BEFORE), ("if-none-match", ETAG)];
        assert_eq!(get(&f), Failed);
        // 3 before 4: If-None-Match decides, If-Modified-Since is ignored.
        let f = [("if-none-match", "\"x\""), ("if-modified-since", AFTER)];
        assert_eq!(get(&f), Proceed);
        let f = [("if-none-match", ETAG), ("if-modified-since", BEFORE)];
        assert_eq!(get(&f), NotModified);
        // A malformed If-None-Match is absent: If-Modified-Since counts.
        let f = [("if-none-match", "x"), ("if-modified-since", AT)];
        assert_eq!(get(&f), NotModified);
        // Everything true at once.
        let f = [
            ("if-match", "*"),
            ("if-unmodified-since", BEFORE),
            ("if-none-match", "\"x\""),
            ("if-modified-since", BEFORE),
        ];
        assert_eq!(get(&f), Proceed);
    }

    #[test]
    fn missing_validators() {
        let headers = |name, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().unwrap());
            h
        };
        let eval = |h: &HeaderMap| evaluate_preconditions(&Method::GET, h, None, None);
        assert_eq!(eval(&headers(header::IF_MATCH, "\"x\"")), Failed);
        assert_eq!(eval(&headers(header::IF_MATCH, "*")), Proceed);
        assert_eq!(eval(&headers(header::IF_NONE_MATCH, "\"x\"")), Proceed);
        assert_eq!(eval(&headers(header::IF_NONE_MATCH, "*")), NotModified);
        assert_eq!(eval(&headers(header::IF_MODIFIED_SINCE, AT)), Proceed);
        assert_eq!(eval(&headers(header::IF_UNMODIFIED_SINCE, BEFORE)), Proceed);
        // An invalid current ETag counts as none.
        let h = headers(header::IF_NONE_MATCH, "\"x\"");
        let bad = evaluate_preconditions(&Method::GET, &h, Some("x"), None);
        assert_eq!(bad, Proceed);
    }

    #[test]
    fn entity_tags() {
        let tag = |weak, opaque: &'static str| {
            Some(EntityTag {
                weak,
                opaque: opaque.as_bytes(),
            })
        };
        assert_eq!(parse_single_tag(b"\"abc\""), tag(false, "abc"));
        assert_eq!(parse_single_tag(b" W/\"abc\" "), tag(true, "abc"));
        assert_eq!(parse_single_tag(b"\"\""), tag(false, ""));
        let obs_text = EntityTag {
            weak: false,
            opaque: b"\xe9",
        };
        assert_eq!(parse_single_tag(b"\"\xe9\""), Some(obs_text));
        for bad in [
            &b"abc"[..],
            b"\"abc",
            b"\"a\"b",
            b"\"a\" \"b\"",
            b"w/\"a\"",
            b"W/ \"a\"",
            b"\"a\x7f\"",
            b"\"a\tb\"",
            b"",
        ] {
            assert_eq!(
                parse_single_tag(bad),
                None,
                "{:?}",
                bad.escape_ascii().to_string()
            );
        }
        let (a, b) = (tag(false, "x").unwrap(), tag(true, "x").unwrap());
        assert!(strong_eq(a, a) && !strong_eq(a, b) && !strong_eq(b, b));
        assert!(weak_eq(a, b) && weak_eq(b, b));
    }

    proptest::proptest! {
        #[test]
        fn any_field_values_are_handled(
            values in proptest::collection::vec("[ -~\t]{0,40}", 0..4),
            method in proptest::sample::select(vec![Method::GET, Method::HEAD, Method::PUT]),
        ) {
            let names = [
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                header::IF_MODIFIED_SINCE,
                header::IF_UNMODIFIED_SINCE,
            ];
            let mut headers = HeaderMap::new();
            for (value, name) in values.iter().zip(names.iter().cycle()) {
                headers.append(name, value.parse().unwrap());
            }
            let outcome = evaluate_preconditions(&method, &headers, Some(ETAG), Some(UNIX_EPOCH));
            // 304 only ever for GET and HEAD.
            if method == Method::PUT {
                proptest::prop_assert_ne!(outcome, NotModified);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let inputs: [&[u8]; 8] = [
            b"\"",
            b",",
            b"W",
            b"W/",
            b"*,*",
            b"\"\xff\xfe\", \"",
            b"\t,\t\"a\"\t,",
            b"\"a\"\"b\"",
        ];
        for input in inputs {
            let mut out = Vec::new();
            list_members(input, &mut out);
            assert!(out.len() <= 2, "{input:?}: {out:?}");
        }
    }
}
