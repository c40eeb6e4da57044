//! Content-coding negotiation: `Accept-Encoding` (RFC 9110 §12.5.3) and the
//! codings berth can produce.
//!
//! ```text
//! Accept-Encoding  = #( codings [ weight ] )
//! codings          = content-coding / "identity" / "*"
//! weight           = OWS ";" OWS "q=" qvalue
//! qvalue           = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
//! ```
//!
//! Pure functions of the header values, so they can be tested with tables
//! and fuzzed (`fuzz/fuzz_targets/accept_encoding.rs`). The rules are
//! listed on [`AcceptEncoding`].

use http::{HeaderMap, HeaderValue, header};

/// A content coding berth can produce (RFC 9110 §8.4.1), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// Zstandard, `zstd` (RFC 8878).
    Zstd,
    /// Brotli, `br` (RFC 7932).
    Br,
    /// gzip, `gzip` (RFC 1952); `x-gzip` is accepted as the same.
    Gzip,
    /// No coding.
    Identity,
}

impl Coding {
    /// The codings berth produces, in its default order of preference.
    pub const ALL: [Coding; 3] = [Coding::Zstd, Coding::Br, Coding::Gzip];

    /// The token as sent in `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Zstd => "zstd",
            Coding::Br => "br",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }

    /// The file-name extension of a precompressed copy (`.zst`, `.br`,
    /// `.gz`); `None` for identity.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Coding::Zstd => Some("zst"),
            Coding::Br => Some("br"),
            Coding::Gzip => Some("gz"),
            Coding::Identity => None,
        }
    }

    /// The coding a token names (case-insensitive; `x-gzip` is gzip), if
    /// berth knows it.
    pub fn from_token(token: &[u8]) -> Option<Coding> {
        [
            (&b"zstd"[..], Coding::Zstd),
            (b"br", Coding::Br),
            (b"gzip", Coding::Gzip),
            (b"x-gzip", Coding::Gzip),
            (b"identity", Coding::Identity),
        ]
        .into_iter()
        .find(|(name, _)| token.eq_ignore_ascii_case(name))
        .map(|(_, coding)| coding)
    }
}

/// The outcome of [`negotiate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// Send the response in this coding (possibly [`Coding::Identity`]).
    Use(Coding),
    /// The client excluded identity and accepts none of the codings
    /// offered (see rule 7 on [`AcceptEncoding`] for what berth does then).
    NotAcceptable,
}

/// A quality value in thousandths, 0 to 1000.
type Quality = u16;

/// The lowest non-zero quality, given to identity when nothing names it.
const IMPLICIT_IDENTITY: Quality = 1;

/// A parsed `Accept-Encoding` field (all its lines).
///
/// The rules, in the order they apply:
///
/// 1. **No field** (no `Accept-Encoding` line at all): identity. RFC 9110
///    lets a server pick any coding then, but a client that sent nothing
///    may not decode anything (`curl` without `--compressed`).
/// 2. **Elements.** The lines are one comma-separated list; empty elements
///    and OWS are allowed. A coding name is a token compared
///    case-insensitively; `x-gzip` is `gzip` (RFC 9110 §8.4.1.3). The only
///    parameter looked at is `q` (name case-insensitive); others are
///    ignored.
/// 3. **Malformed elements** (a name that is not a token, a `q` outside the
///    grammar: `q=2`, `q=0.5x`, `q=1.0001`, `q=`) are skipped as if absent:
///    never a `400`. A field with nothing valid left is an empty field.
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
///    [`Negotiated::NotAcceptable`]. The [`Compress`](super::Compress)
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
            for element in line.as_bytes().split(|&b| b == b',') {
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

/// One list element: its name and quality, or `None` when it is empty or
/// malformed (rule 3).
fn parse_element(element: &[u8]) -> Option<(&[u8], Quality)> {
    let mut parts = element.split(|&b| b == b';');
    let name = parts.next()?.trim_ascii();
    if name.is_empty() || !(name == b"*" || name.iter().all(|&b| is_tchar(b))) {
        return None;
    }
    let mut q = 1000;
    for param in parts {
        let param = param.trim_ascii();
        let (key, value) = match param.iter().position(|&b| b == b'=') {
            Some(i) => (&param[..i], &param[i + 1..]),
            None => (param, &b""[..]),
        };
        if key.trim_ascii().eq_ignore_ascii_case(b"q") {
            q = parse_qvalue(value.trim_ascii())?;
        }
    }
    Some((name, q))
}

/// `qvalue` in thousandths, or `None` when outside the grammar.
fn parse_qvalue(s: &[u8]) -> Option<Quality> {
    let (int, frac) = match s {
        [d, b'.', frac @ ..] => (*d, frac),
        [d] => (*d, &b""[..]),
        _ => return None,
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: Quality = 0;
    for (i, &d) in frac.iter().enumerate() {
        thousandths += Quality::from(d - b'0') * [100, 10, 1][i];
    }
    match int {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// RFC 9110 §5.6.2: `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Coding::{Br, Gzip, Identity, Zstd};
    use Negotiated::{NotAcceptable, Use};
    use proptest::prelude::*;

    fn pick(value: &str) -> Negotiated {
        negotiate(Some(&HeaderValue::from_str(value).unwrap()), &Coding::ALL)
    }

    proptest! {
        /// The allocation-free pick is the head of the full ranking, for
        /// any field and any server preference order.
        #[test]
        fn negotiate_is_the_best_ranked(
            elements in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["gzip", "br", "zstd", "identity", "*", "deflate", "x-gzip"]),
                    proptest::option::of(proptest::sample::select(vec!["0", "0.5", "1", "0.001", "1.0"])),
                ),
                0..6,
            ),
            order in proptest::sample::subsequence(Coding::ALL.to_vec(), 0..=Coding::ALL.len()),
        ) {
            let field: Vec<String> = elements
                .iter()
                .map(|(name, q)| match q {
                    Some(q) => format!("{name};q={q}"),
                    None => (*name).to_owned(),
                })
                .collect();
            let Ok(value) = HeaderValue::from_str(&field.join(", ")) else { return Ok(()) };
            let accept = AcceptEncoding::parse([&value]);
            let want = match accept.ranked(&order).first() {
                Some(&c) => Use(c),
                None => NotAcceptable,
            };
            prop_assert_eq!(accept.negotiate(&order), want);
        }
    }

    #[test]
    fn negotiation_table() {
        let cases: &[(&str, Negotiated)] = &[
            // Tie order: zstd, br, gzip, identity.
            ("gzip, deflate, br, zstd", Use(Zstd)),
            ("gzip, deflate, br", Use(Br)),
            ("gzip", Use(Gzip)),
            ("x-gzip", Use(Gzip)),
            ("deflate", Use(Identity)),
            ("", Use(Identity)),
            (" , ,", Use(Identity)),
            ("identity", Use(Identity)),
            // q-values.
            ("gzip;q=0", Use(Identity)),
            ("gzip;q=0.000", Use(Identity)),
            ("gzip;q=0.001", Use(Gzip)),
            ("br;q=0.5, gzip", Use(Gzip)),
            ("br;q=0.5, gzip;q=0.4", Use(Br)),
            ("gzip;q=1.000, br;q=0.999", Use(Gzip)),
            ("gzip;q=0.5", Use(Gzip)),
            ("gzip;q=0.5, identity", Use(Identity)),
            ("gzip;q=0.5, identity;q=0.5", Use(Gzip)),
            ("gzip, identity;q=0", Use(Gzip)),
            // `*`.
            ("*", Use(Zstd)),
            ("*;q=0.5, gzip", Use(Gzip)),
            ("*;q=0", NotAcceptable),
            ("*;q=0, identity", Use(Identity)),
            ("*;q=0, gzip", Use(Gzip)),
            ("*, zstd;q=0, br;q=0", Use(Gzip)),
            ("identity;q=0", NotAcceptable),
            ("identity;q=0, deflate", NotAcceptable),
            ("gzip;q=0, identity;q=0", NotAcceptable),
            // Case, whitespace.
            ("GZIP", Use(Gzip)),
            ("Br;Q=1", Use(Br)),
            ("  gzip ; q=0.8 ,\tbr ; q = 0.9 ", Use(Br)),
            ("gzip;q=0.5;foo=bar", Use(Gzip)),
            // Malformed elements are skipped.
            ("gzip;q=2", Use(Identity)),
            ("gzip;q=1.5", Use(Identity)),
            ("gzip;q=1.0001", Use(Identity)),
            ("gzip;q=0.5x", Use(Identity)),
            ("gzip;q=", Use(Identity)),
            ("gzip;q", Use(Identity)),
            ("gzip;q=-1", Use(Identity)),
            ("gzip;q=.5", Use(Identity)),
            ("gz ip", Use(Identity)),
            ("gzip;q=abc, br", Use(Br)),
            ("identity;q=x", Use(Identity)),
            // Duplicates: the lowest q counts.
            ("gzip, gzip;q=0", Use(Identity)),
            ("gzip;q=0, x-gzip", Use(Identity)),
            ("br;q=0.2, br;q=0.9, gzip;q=0.5", Use(Gzip)),
        ];
        for (value, want) in cases {
            assert_eq!(pick(value), *want, "{value:?}");
        }
        assert_eq!(negotiate(None, &Coding::ALL), Use(Identity));
    }

    #[test]
    fn server_order_breaks_ties() {
        let value = HeaderValue::from_static("gzip, br, zstd");
        assert_eq!(negotiate(Some(&value), &[Gzip, Br]), Use(Gzip));
        assert_eq!(negotiate(Some(&value), &[Br, Gzip]), Use(Br));
        assert_eq!(negotiate(Some(&value), &[]), Use(Identity));
        let value = HeaderValue::from_static("zstd, identity;q=0");
        assert_eq!(negotiate(Some(&value), &[Gzip]), NotAcceptable);
    }

    #[test]
    fn several_lines_are_one_list() {
        let mut headers = HeaderMap::new();
        headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static("br;q=0"));
        headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static("zstd"));
        let ae = AcceptEncoding::from_headers(&headers);
        assert_eq!(ae.negotiate(&Coding::ALL), Use(Zstd));
        assert_eq!(ae.ranked(&Coding::ALL), [Zstd, Gzip, Identity]);
        assert_eq!(ae.quality(Br), 0);
        assert_eq!(ae.quality(Identity), 1);
    }

    #[test]
    fn qvalues() {
        for (s, q) in [
            ("0", 0),
            ("1", 1000),
            ("0.", 0),
            ("1.", 1000),
            ("0.5", 500),
            ("0.25", 250),
            ("0.125", 125),
            ("1.000", 1000),
        ] {
            assert_eq!(parse_qvalue(s.as_bytes()), Some(q), "{s}");
        }
        for s in ["", "2", "1.1", "0.1234", "01", "0,5", "+1", " 1", "1e0"] {
            assert_eq!(parse_qvalue(s.as_bytes()), None, "{s}");
        }
    }

    fn element() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("gzip"),
            Just("x-gzip"),
            Just("GZip"),
            Just("br"),
            Just("zstd"),
            Just("identity"),
            Just("*"),
            Just("deflate"),
            Just("bad name"),
        ];
        let q = prop_oneof![
            Just(String::new()),
            Just(";q=0".to_string()),
            Just(";q=0.0".to_string()),
            Just(";Q=0.000".to_string()),
            Just(";q=1".to_string()),
            Just(";q=2".to_string()),
            Just(";q=".to_string()),
            (0u16..=1000).prop_map(|q| format!(";q={}.{:03}", q / 1000, q % 1000)),
        ];
        (name, q, " {0,2}").prop_map(|(n, q, ws)| format!("{ws}{n}{q}{ws}"))
    }

    /// The token names `coding` with an explicit q=0 in `value`.
    fn zeroed(value: &str, coding: Coding) -> bool {
        value.split(',').any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            Coding::from_token(name.as_bytes()) == Some(coding)
                && parts.any(|p| {
                    let p = p.trim().to_ascii_lowercase();
                    p == "q=0" || p == "q=0.0" || p == "q=0.000" || p == "q=0.00"
                })
        })
    }

    proptest! {
        #[test]
        fn never_picks_a_coding_with_q_zero(elements in prop::collection::vec(element(), 0..6)) {
            let value = elements.join(",");
            let header = HeaderValue::from_str(&value).unwrap();
            let ae = AcceptEncoding::parse(Some(&header));
            match negotiate(Some(&header), &Coding::ALL) {
                Use(coding) => {
                    prop_assert!(!zeroed(&value, coding), "{value:?} -> {coding:?}");
                    prop_assert!(ae.quality(coding) > 0);
                    // Nothing acceptable beats it.
                    for other in [Zstd, Br, Gzip, Identity] {
                        prop_assert!(ae.quality(other) <= ae.quality(coding), "{value:?}");
                    }
                }
                NotAcceptable => {
                    prop_assert!(Coding::ALL.iter().all(|&c| ae.quality(c) == 0));
                    prop_assert_eq!(ae.quality(Identity), 0);
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(0x20u8..0x7f, 0..64)) {
            let header = HeaderValue::from_bytes(&bytes).unwrap();
            let _ = negotiate(Some(&header), &Coding::ALL);
        }
    }
}
