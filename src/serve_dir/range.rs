//! Range requests (RFC 9110 §14): the `Range` header → which bytes to send,
//! and `If-Range` (RFC 9110 §13.1.5), which decides whether `Range` counts.
//!
//! Pure functions, no I/O: [`parse_range`] and [`if_range_matches`] can be
//! tested with tables and fuzzed. Writing the response (206 with one range,
//! `multipart/byteranges` with several, 416) is `representation.rs` and
//! `byteranges.rs`.
//!
//! ```text
//! Range            = ranges-specifier
//! ranges-specifier = range-unit "=" range-set
//! range-unit       = token                      ; case-insensitive
//! range-set        = 1#range-spec               ; OWS around commas, empty elements allowed
//! range-spec       = int-range / suffix-range / other-range
//! int-range        = first-pos "-" [ last-pos ]
//! suffix-range     = "-" suffix-length
//! first-pos, last-pos, suffix-length = 1*DIGIT
//! other-range      = 1*( %x21-2B / %x2D-7E )   ; not defined for bytes
//! ```
//!
//! The policy (what is ignored, what is 416, how ranges are merged, and
//! why HEAD ignores `Range`) is documented on [`parse_range`].

use std::time::SystemTime;

use crate::conditional::{parse_date, parse_single_tag, strong_eq, unix_seconds};
use crate::syntax::{elements, trim_ows};

/// Most range-specs a `Range` header may list before it is ignored (the
/// whole file is sent). Download managers use a handful; PDF byte-serving
/// readers ask for a few dozen at a time; Apache's `MaxRanges` is 200.
/// Since ranges are merged until disjoint, the bound only limits the number
/// of parts (each costs a part header of about 100 bytes and a read).
pub const MAX_RANGE_SPECS: usize = 64;

/// Representations up to this size are sent whole with `200` when the
/// ranges asked for cover all of them (see [`parse_range`], step 5).
pub const WHOLE_RANGE_AS_FULL: u64 = 64 * 1024;

/// What a `Range` header asks of a representation of a given length; see
/// [`parse_range`] for the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Ignore the header: send the whole representation with `200`.
    Full,
    /// No range can be satisfied: `416` with `Content-Range: bytes */LEN`.
    Unsatisfiable,
    /// `206`: these ranges, in the order to send them. Never empty; the
    /// ranges are disjoint and each lies within the representation.
    Partial(Vec<ByteRange>),
}

/// An inclusive range of byte positions, as in `Content-Range: bytes
/// first-last/LEN`; `first <= last` always.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// Position of the first byte.
    pub first: u64,
    /// Position of the last byte (inclusive).
    pub last: u64,
}

impl ByteRange {
    /// How many bytes the range holds (at least 1).
    pub fn length(&self) -> u64 {
        self.last - self.first + 1
    }
}

/// One range-spec as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-` (`last` is `None`) or `first-last`.
    Int { first: u64, last: Option<u64> },
    /// `-length`.
    Suffix(u64),
}

/// Parses the value of a `Range` header against a representation of `len`
/// bytes.
///
/// # Policy
///
/// The outcome, step by step:
///
/// 1. **Ignored → 200 with the whole file** ([`RangeOutcome::Full`]) when
///    the unit is not `bytes`, the header does not match the grammar, any
///    range-spec is invalid (`5-1`, `-`, `abc`, an `other-range`, which is
///    undefined for bytes), or the header lists more than
///    [`MAX_RANGE_SPECS`] range-specs (RFC 9110 §14.2: a server MAY ignore
///    such headers; §17.15 names many ranges as a denial-of-service vector).
///    Ignoring is always safe: the client gets a correct `200`. Never `400`.
/// 2. Each range-spec is resolved against the length `LEN`: `a-b` is
///    satisfiable when `a < LEN` (`b` is clamped to `LEN - 1`), `a-` when
///    `a < LEN`, `-n` when `n > 0` (the last `n` bytes, or the whole file
///    when shorter). Numbers too large for a `u64` saturate, so a huge
///    first-pos is unsatisfiable and a huge last-pos or suffix is clamped.
/// 3. **No satisfiable range → 416** ([`RangeOutcome::Unsatisfiable`]) with
///    `Content-Range: bytes */LEN`. A zero-length file can satisfy nothing
///    but a suffix range with a non-zero length (RFC 9110 §14.1.2), and a
///    206 cannot express zero bytes, so that one case is answered `200` with
///    the (empty) file instead; `bytes=0-` or `bytes=-0` on it is `416`.
/// 4. **Satisfiable ranges → 206** ([`RangeOutcome::Partial`]). When they
///    are listed in ascending order without overlap, they are served as
///    given, one part each. Otherwise they are sorted and every overlapping
///    or adjacent pair merged (RFC 9110 §14.2 allows coalescing; the parts
///    then go out in ascending order). The result is therefore always
///    disjoint, inside the file, and at most [`MAX_RANGE_SPECS`] ranges
///    totalling at most `LEN` bytes: a response can never be much larger
///    than the file, whatever the header. One range (as given or after
///    merging) is a plain 206 with `Content-Range`; several are
///    `multipart/byteranges`.
/// 5. **Everything asked, of a small representation → 200**
///    ([`RangeOutcome::Full`]): when the satisfiable ranges, merged, are
///    the whole representation (`bytes=0-`, `bytes=-LEN`, `0-9,10-`...)
///    and it is at most [`WHOLE_RANGE_AS_FULL`] (64 KiB) long. RFC 9110
///    §14.2 lets a server ignore `Range`; a `200` can be stored by any
///    cache as the complete response, where a `206` of the same bytes
///    could only be kept as a part. `Accept-Ranges: bytes` still says
///    ranges work. Larger representations keep their `206`: media players
///    open a file with `bytes=0-` and some (Safari's) take a `200` for
///    "no ranges here", and a download manager resuming at byte 0 expects
///    one.
///
/// Range applies to GET only (RFC 9110 §14.2: "GET is the only method for
/// which range handling is defined", and a server MUST ignore Range for any
/// other method). A `HEAD` with `Range` is therefore answered `200` with the
/// headers of a full `GET`, the same answer a `GET` without `Range` gets.
///
/// ```
/// use berth::serve_dir::{ByteRange, RangeOutcome, parse_range};
///
/// let r = |first, last| ByteRange { first, last };
/// assert_eq!(parse_range("bytes=0-99", 1000), RangeOutcome::Partial(vec![r(0, 99)]));
/// assert_eq!(parse_range("bytes=-100", 1000), RangeOutcome::Partial(vec![r(900, 999)]));
/// assert_eq!(parse_range("bytes=2000-", 1000), RangeOutcome::Unsatisfiable);
/// assert_eq!(parse_range("lines=1-2", 1000), RangeOutcome::Full);
/// ```
pub fn parse_range(header: &str, len: u64) -> RangeOutcome {
    let Some(specs) = parse_specs(header) else {
        return RangeOutcome::Full;
    };
    resolve(&specs, len)
}

/// Step 1: the grammar. `None` means "ignore the header".
fn parse_specs(header: &str) -> Option<Vec<Spec>> {
    let (unit, set) = header.split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut specs = Vec::new();
    // `1#range-spec`: a list, split and trimmed like every other.
    for element in elements(set.as_bytes()) {
        if specs.len() == MAX_RANGE_SPECS {
            return None;
        }
        specs.push(parse_spec(std::str::from_utf8(element).ok()?)?);
    }
    // `1#range-spec`: at least one.
    (!specs.is_empty()).then_some(specs)
}

fn parse_spec(spec: &str) -> Option<Spec> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return Some(Spec::Suffix(digits(last)?));
    }
    let first = digits(first)?;
    let last = match last {
        "" => None,
        last => Some(digits(last)?),
    };
    // RFC 9110 §14.1.1: an int-range whose last-pos is below its first-pos
    // is invalid, and so is the whole ranges-specifier.
    if last.is_some_and(|last| last < first) {
        return None;
    }
    Some(Spec::Int { first, last })
}

/// `1*DIGIT`, saturating at `u64::MAX`.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// Steps 2 to 4: satisfiable ranges, merged when needed.
fn resolve(specs: &[Spec], len: u64) -> RangeOutcome {
    let mut ranges = Vec::with_capacity(specs.len());
    let mut empty_suffix = false;
    for &spec in specs {
        match spec {
            Spec::Int { first, last } if first < len => {
                let last = last.map_or(len - 1, |l| l.min(len - 1));
                ranges.push(ByteRange { first, last });
            }
            Spec::Int { .. } | Spec::Suffix(0) => {}
            Spec::Suffix(_) if len == 0 => empty_suffix = true,
            Spec::Suffix(n) => ranges.push(ByteRange {
                first: len - n.min(len),
                last: len - 1,
            }),
        }
    }
    if ranges.is_empty() {
        return if empty_suffix {
            RangeOutcome::Full
        } else {
            RangeOutcome::Unsatisfiable
        };
    }
    let ascending = ranges.windows(2).all(|w| w[0].last < w[1].first);
    if !ascending {
        ranges = coalesce(ranges);
    }
    // Step 5: the whole of a small representation.
    let whole = ByteRange {
        first: 0,
        last: len - 1,
    };
    if len <= WHOLE_RANGE_AS_FULL && covers(&ranges, whole) {
        return RangeOutcome::Full;
    }
    RangeOutcome::Partial(ranges)
}

/// Whether disjoint ascending `ranges` are all of `whole`: one range, or
/// adjacent ones (listed in order, so not merged) that leave no byte out.
fn covers(ranges: &[ByteRange], whole: ByteRange) -> bool {
    let mut next = whole.first;
    for r in ranges {
        if r.first != next {
            return false;
        }
        next = r.last.saturating_add(1);
    }
    next > whole.last
}

/// Sorts and merges overlapping or adjacent ranges.
fn coalesce(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    ranges.sort_unstable_by_key(|r| r.first);
    let mut merged: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(prev) if r.first <= prev.last.saturating_add(1) => {
                prev.last = prev.last.max(r.last);
            }
            _ => merged.push(r),
        }
    }
    merged
}

/// Evaluates an `If-Range` value (RFC 9110 §13.1.5): true when the
/// representation is unchanged, so `Range` applies; false when the client
/// must get the whole file (`200`).
///
/// 1. An entity-tag is true when it matches `etag` by strong comparison (a
///    weak tag never does).
/// 2. An HTTP-date is true when it equals `last_modified` to the second.
///    Pass `last_modified` only when it is a strong validator (RFC 9110
///    §8.8.2.2: at least one second older than the response's `Date`),
///    `None` otherwise.
/// 3. Anything else, a malformed value included, is false.
///
/// ```
/// use berth::serve_dir::if_range_matches;
///
/// assert!(if_range_matches(b"\"v1\"", Some("\"v1\""), None));
/// assert!(!if_range_matches(b"W/\"v1\"", Some("\"v1\""), None));
/// assert!(!if_range_matches(b"garbage", Some("\"v1\""), None));
/// ```
pub fn if_range_matches(
    value: &[u8],
    etag: Option<&str>,
    last_modified: Option<SystemTime>,
) -> bool {
    let value = trim_ows(value);
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        let current = etag.and_then(|e| parse_single_tag(e.as_bytes()));
        return match (parse_single_tag(value), current) {
            (Some(tag), Some(current)) => strong_eq(tag, current),
            _ => false,
        };
    }
    match (parse_date(value), last_modified.and_then(unix_seconds)) {
        (Some(date), Some(modified)) => date == modified,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    use RangeOutcome::{Full, Partial, Unsatisfiable};
    use proptest::prelude::*;

    fn r(first: u64, last: u64) -> ByteRange {
        ByteRange { first, last }
    }

    #[test]
    fn single_ranges() {
        let cases = [
            ("bytes=0-0", vec![r(0, 0)]),
            ("bytes=0-99", vec![r(0, 99)]),
            ("bytes=500-", vec![r(500, 999)]),
            ("bytes=-500", vec![r(500, 999)]),
            ("bytes=999-", vec![r(999, 999)]),
            ("bytes=900-5000", vec![r(900, 999)]),
            ("bytes=-1", vec![r(999, 999)]),
            ("bytes=007-008", vec![r(7, 8)]),
            // The unit is case-insensitive.
            ("BYTES=1-2", vec![r(1, 2)]),
            ("Bytes=1-2", vec![r(1, 2)]),
            // OWS around list elements, empty elements.
            ("bytes= 1-2", vec![r(1, 2)]),
            ("bytes=1-2 ", vec![r(1, 2)]),
            ("bytes=\t1-2\t", vec![r(1, 2)]),
            ("bytes=,1-2,", vec![r(1, 2)]),
            ("bytes=, ,1-2, ,", vec![r(1, 2)]),
        ];
        for (header, want) in cases {
            assert_eq!(parse_range(header, 1000), Partial(want), "{header}");
        }
    }

    #[test]
    fn several_ranges() {
        let cases = [
            // Ascending and disjoint: as given, adjacent ones too.
            ("bytes=0-9,20-29", vec![r(0, 9), r(20, 29)]),
            ("bytes=0-9, 10-19", vec![r(0, 9), r(10, 19)]),
            ("bytes=0-0,-1", vec![r(0, 0), r(999, 999)]),
            ("bytes=0-9,5000-6000,20-29", vec![r(0, 9), r(20, 29)]),
            // Out of order: sorted.
            ("bytes=20-29,0-9", vec![r(0, 9), r(20, 29)]),
            // Overlapping: merged.
            ("bytes=0-9,5-14", vec![r(0, 14)]),
            ("bytes=0-0,0-0,0-0", vec![r(0, 0)]),
            ("bytes=500-,-600", vec![r(400, 999)]),
            ("bytes=10-19,0-9,30-39", vec![r(0, 19), r(30, 39)]),
            ("bytes=0-99,10-19,200-299", vec![r(0, 99), r(200, 299)]),
        ];
        for (header, want) in cases {
            assert_eq!(parse_range(header, 1000), Partial(want), "{header}");
        }
    }

    #[test]
    fn the_whole_of_a_small_representation_is_full() {
        let whole = [
            "bytes=0-",
            "bytes=-1000",
            "bytes=-5000",
            "bytes=0-99999999999999999999999",
            "bytes=-99999999999999999999999",
            "bytes=0-,0-",
            "bytes=0-499,500-",
            "bytes=0-9, 10-999",
            "bytes=500-,0-600",
            "bytes=900-,0-9,10-899",
        ];
        for header in whole {
            assert_eq!(parse_range(header, 1000), Full, "{header}");
        }
        let max = WHOLE_RANGE_AS_FULL;
        assert_eq!(parse_range("bytes=0-", max), Full);
        assert_eq!(parse_range("bytes=0-", 1), Full);
        // Larger representations keep their 206 (media players).
        let big = max + 1;
        for header in ["bytes=0-", "bytes=0-,0-", "bytes=0-9,10-"] {
            match parse_range(header, big) {
                Partial(ranges) => {
                    let total: u64 = ranges.iter().map(ByteRange::length).sum();
                    assert_eq!(total, big, "{header}");
                }
                other => panic!("{header}: {other:?}"),
            }
        }
        // Anything short of the whole is still a part.
        for header in ["bytes=1-", "bytes=0-998", "bytes=0-9,11-", "bytes=-999"] {
            assert!(matches!(parse_range(header, 1000), Partial(_)), "{header}");
        }
    }

    #[test]
    fn unsatisfiable() {
        for header in [
            "bytes=1000-",
            "bytes=1000-2000",
            "bytes=5000-1000000",
            "bytes=-0",
            "bytes=1000-1000, -0",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(parse_range(header, 1000), Unsatisfiable, "{header}");
        }
    }

    #[test]
    fn ignored() {
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=-",
            "bytes=--1",
            "bytes=1",
            "bytes=a-b",
            "bytes=1-a",
            "bytes=5-1",
            "bytes=0-1,5-1",
            "bytes=1 -2",
            "bytes=1- 2",
            "bytes=+1-2",
            "bytes=0x10-20",
            "bytes=1-2-3",
            "bytes=1-2;x",
            "bytes =1-2",
            "bytes= =1-2",
            "=1-2",
            "bits=1-2",
            "items=0-0",
            "bytes=½-1",
            "none",
        ] {
            assert_eq!(parse_range(header, 1000), Full, "{header:?}");
        }
    }

    #[test]
    fn too_many_ranges_are_ignored() {
        let list = |n: usize| {
            let specs: Vec<_> = (0..n).map(|i| format!("{}-{}", i * 2, i * 2)).collect();
            format!("bytes={}", specs.join(","))
        };
        match parse_range(&list(MAX_RANGE_SPECS), 1000) {
            Partial(ranges) => assert_eq!(ranges.len(), MAX_RANGE_SPECS),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_range(&list(MAX_RANGE_SPECS + 1), 1000), Full);
        // Empty elements do not count.
        let padded = format!("bytes={}1-2", ",".repeat(1000));
        assert_eq!(parse_range(&padded, 1000), Partial(vec![r(1, 2)]));
    }

    #[test]
    fn zero_length_representation() {
        for header in ["bytes=0-", "bytes=0-0", "bytes=-0"] {
            assert_eq!(parse_range(header, 0), Unsatisfiable, "{header}");
        }
        // Satisfiable by the RFC's definition, but no 206 can express it.
        for header in ["bytes=-1", "bytes=0-0,-5"] {
            assert_eq!(parse_range(header, 0), Full, "{header}");
        }
        assert_eq!(parse_range("bytes=5-1", 0), Full);
    }

    #[test]
    fn largest_representation() {
        let max = u64::MAX;
        assert_eq!(parse_range("bytes=0-", max), Partial(vec![r(0, max - 1)]));
        assert_eq!(
            parse_range("bytes=-99999999999999999999999", max),
            Partial(vec![r(0, max - 1)])
        );
        assert_eq!(
            parse_range("bytes=18446744073709551614-", max),
            Partial(vec![r(max - 1, max - 1)])
        );
        assert_eq!(
            parse_range("bytes=18446744073709551615-", max),
            Unsatisfiable
        );
    }

    #[test]
    fn if_range_table() {
        let etag = Some("\"5-abc-1\"");
        let modified = Some(UNIX_EPOCH + Duration::new(784_111_777, 999));
        let cases: [(&str, bool); 12] = [
            ("\"5-abc-1\"", true),
            (" \"5-abc-1\" ", true),
            ("\"stale\"", false),
            ("W/\"5-abc-1\"", false),
            ("\"5-abc-1\", \"x\"", false),
            ("\"5-abc-1", false),
            ("Sun, 06 Nov 1994 08:49:37 GMT", true),
            ("Sunday, 06-Nov-94 08:49:37 GMT", true),
            ("Sun, 06 Nov 1994 08:49:38 GMT", false),
            ("Sun, 06 Nov 1994 08:49:36 GMT", false),
            ("garbage", false),
            ("", false),
        ];
        for (value, want) in cases {
            let got = if_range_matches(value.as_bytes(), etag, modified);
            assert_eq!(got, want, "If-Range: {value}");
        }
        // A weak (too recent) Last-Modified is passed as None: no date matches.
        let date = b"Sun, 06 Nov 1994 08:49:37 GMT";
        assert!(!if_range_matches(date, etag, None));
        assert!(!if_range_matches(b"\"5-abc-1\"", None, modified));
    }

    /// Headers built from pieces that are mostly valid, so that the
    /// interesting paths (merging, clamping, limits) are reached often.
    fn headers() -> impl Strategy<Value = String> {
        let number = prop_oneof![
            0u64..2000,
            Just(u64::MAX),
            Just(u64::MAX - 1),
            "[0-9]{15,25}".prop_map(|s| s.parse().unwrap_or(u64::MAX)),
        ];
        let spec = prop_oneof![
            (number.clone(), number.clone()).prop_map(|(a, b)| format!("{a}-{b}")),
            number.clone().prop_map(|a| format!("{a}-")),
            number.prop_map(|n| format!("-{n}")),
            "[ ,\t0-9a-z=-]{0,6}",
        ];
        let unit = prop_oneof![Just("bytes"), Just("BYTES"), Just("bits"), Just("")];
        (unit, prop::collection::vec(spec, 0..80), "[ ,\t]{0,2}")
            .prop_map(|(unit, specs, sep)| format!("{unit}={}", specs.join(&format!(",{sep}"))))
    }

    fn lengths() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..3000, Just(u64::MAX), any::<u64>()]
    }

    fn check(outcome: &RangeOutcome, len: u64) {
        if let Partial(ranges) = outcome {
            assert!(!ranges.is_empty());
            assert!(ranges.len() <= MAX_RANGE_SPECS);
            for range in ranges {
                assert!(range.first <= range.last, "{range:?}");
                assert!(range.last < len, "{range:?} outside {len}");
            }
            for pair in ranges.windows(2) {
                assert!(pair[0].last < pair[1].first, "overlap: {pair:?}");
            }
            let total: u128 = ranges.iter().map(|r| u128::from(r.length())).sum();
            assert!(total <= u128::from(len));
            // Step 5: the whole of a small representation is never a 206.
            assert!(len > WHOLE_RANGE_AS_FULL || total < u128::from(len));
        }
    }

    proptest! {
        #[test]
        fn satisfiable_ranges_lie_within_the_file(header in headers(), len in lengths()) {
            let outcome = parse_range(&header, len);
            check(&outcome, len);
            if len == 0 {
                prop_assert!(!matches!(outcome, Partial(_)));
            }
        }

        #[test]
        fn any_string_is_handled(header in any::<String>(), len in lengths()) {
            check(&parse_range(&header, len), len);
        }

        #[test]
        fn if_range_never_panics(value in any::<Vec<u8>>()) {
            let _ = if_range_matches(&value, Some("\"a\""), Some(UNIX_EPOCH));
        }
    }
}
