//! Byte strings in, values out: the cases the old copies disagreed on,
//! then properties over arbitrary field values.

use proptest::prelude::*;

use super::*;

fn list(value: &[u8]) -> Vec<&[u8]> {
    elements(value).collect()
}

fn all(value: &[u8]) -> Vec<&[u8]> {
    all_elements(value).collect()
}

#[test]
fn tchar_table_matches_the_abnf() {
    for b in 0u8..=255 {
        let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        assert_eq!(is_tchar(b), tchar, "{b:#x}");
    }
    assert!(is_token(b"gzip") && is_token(b"*") && is_token(b"x-A.b"));
    assert!(!is_token(b"") && !is_token(b"a b") && !is_token(b"a,b") && !is_token(b"\"a\""));
}

#[test]
fn ows() {
    assert_eq!(trim_ows(b" \t a b \t "), b"a b");
    assert_eq!(trim_ows(b"\t"), b"");
    assert_eq!(trim_ows(b""), b"");
    // Only SP and HTAB are OWS.
    assert_eq!(trim_ows(b"\x0ba\x0c"), b"\x0ba\x0c");
}

#[test]
fn list_elements() {
    let cases: &[(&[u8], &[&[u8]])] = &[
        (b"a, b", &[b"a", b"b"]),
        (b"a,b", &[b"a", b"b"]),
        (b"", &[]),
        (b" ", &[]),
        (b", ,a", &[b"a"]),
        (b"a, ,", &[b"a"]),
        (b",,", &[]),
        (b"\t a \t,b ", &[b"a", b"b"]),
        // A comma inside a quoted-string does not split.
        (b"a=\"x,y\", b", &[b"a=\"x,y\"", b"b"]),
        (b"\"x,y\",\"z\"", &[b"\"x,y\"", b"\"z\""]),
        // An escaped quote does not end the quoted-string.
        (br#"a="x\",y", b"#, &[br#"a="x\",y""#, b"b"]),
        (br#"a="x\\", b"#, &[br#"a="x\\""#, b"b"]),
        // Unterminated: the rest of the line is one element.
        (b"a=\"x, b", &[b"a=\"x, b"]),
        (b"a, b=\"", &[b"a", b"b=\""]),
        // Entity-tag-like values with an inner quote are one element.
        (b"W/\"a,b\", \"c\"", &[b"W/\"a,b\"", b"\"c\""]),
    ];
    for (value, want) in cases {
        assert_eq!(list(value), *want, "{:?}", String::from_utf8_lossy(value));
    }
}

#[test]
fn all_elements_keep_empty_ones() {
    assert_eq!(all(b""), [b""]);
    assert_eq!(all(b"5"), [b"5"]);
    assert_eq!(all(b"5,"), [&b"5"[..], b""]);
    assert_eq!(all(b" , 5"), [&b""[..], b"5"]);
    assert_eq!(all(b"5 , 5"), [b"5", b"5"]);
}

#[test]
fn list_membership_is_case_insensitive_and_quote_aware() {
    assert!(list_has(b"close", b"close"));
    assert!(list_has(b"Keep-Alive, CLOSE", b"close"));
    assert!(list_has(b" , upgrade ,", b"upgrade"));
    assert!(!list_has(b"closed", b"close"));
    assert!(!list_has(b"\"close\"", b"close"));
    assert!(!list_has(b"x=\"a, close\"", b"close"));
    assert!(!list_has(b"private=\"x, no-transform\"", b"no-transform"));
    assert!(list_has(b"private=\"x\", no-transform", b"no-transform"));
    assert!(!list_has(b"", b"close"));
}

#[test]
fn several_lines_are_one_list() {
    let lines = [
        http::HeaderValue::from_static("a, \"b,c\""),
        http::HeaderValue::from_static(""),
        http::HeaderValue::from_static(" ,d"),
    ];
    let got: Vec<&[u8]> = elements_of(&lines).collect();
    assert_eq!(got, [&b"a"[..], b"\"b,c\"", b"d"]);
}

#[test]
fn quoted_strings() {
    let ok: &[(&[u8], &[u8], &[u8])] = &[
        (b"\"abc\"rest", b"abc", b"rest"),
        (b"\"\"", b"", b""),
        (br#""a\"b""#, b"a\"b", b""),
        (br#""a\\b""#, b"a\\b", b""),
        (br#""\a""#, b"a", b""),
        (
            b"\"tab\tand space \xc3\xa9\"",
            b"tab\tand space \xc3\xa9",
            b"",
        ),
        (b"\"a,b\", c", b"a,b", b", c"),
    ];
    for (input, content, rest) in ok {
        let (q, r) = quoted_string(input).unwrap();
        assert_eq!(&*q.unescape(), *content, "{input:?}");
        assert_eq!(q.bytes().collect::<Vec<_>>(), *content);
        assert_eq!(r, *rest);
    }
    // Borrowed when there is nothing to unescape.
    let (q, _) = quoted_string(b"\"plain\"").unwrap();
    assert!(matches!(q.unescape(), std::borrow::Cow::Borrowed(b"plain")));
    for bad in [
        &b"abc"[..],
        b"",
        b"\"",
        b"\"open",
        b"\"a\\\"",
        b"\"a\\",
        b"\"a\x01\"",
        b"\"a\\\x01\"",
        b"\"a\x7f\"",
        b" \"a\"",
    ] {
        assert!(quoted_string(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn parameters() {
    let (head, params) = split_params(b"text/html ; a=1 ;; b=\"x;y\" ;c = d; q=0.5");
    assert_eq!(head, b"text/html");
    let got: Vec<(&[u8], Option<Vec<u8>>)> = params
        .map(|p| (p.name(), p.value().map(|v| v.into_owned())))
        .collect();
    assert_eq!(
        got,
        [
            (&b"a"[..], Some(b"1".to_vec())),
            (b"b", Some(b"x;y".to_vec())),
            (b"c", Some(b"d".to_vec())),
            (b"q", Some(b"0.5".to_vec())),
        ]
    );
    let (head, mut params) = split_params(b" gzip ");
    assert_eq!(head, b"gzip");
    assert!(params.next().is_none());
    // Malformed parameters are yielded without a value.
    for (element, name) in [
        (&b"x;a"[..], &b"a"[..]),
        (b"x;a=", b"a"),
        (b"x;a=b c", b"a"),
        (b"x;a=\"b", b"a"),
        (b"x;a=\"b\"c", b"a"),
        (b"x;a b=c", b"a b"),
        (b"x;=c", b""),
    ] {
        let param = split_params(element).1.next().unwrap();
        assert_eq!(param.name(), name, "{element:?}");
        assert_eq!(param.value(), None, "{element:?}");
    }
    let param = split_params(br#"x;A="a\"b""#).1.next().unwrap();
    assert!(param.is(b"a"));
    assert_eq!(param.value().as_deref(), Some(&b"a\"b"[..]));
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
        ("0.001", 1),
        ("0.000", 0),
        ("1.0", 1000),
        ("1.000", 1000),
    ] {
        assert_eq!(qvalue(s.as_bytes()), Some(q), "{s}");
    }
    for s in [
        "", "2", "1.1", "1.001", "1.0000", "0.0001", "0.1234", "00", "01", "10", "0,5", "+1", "-0",
        " 1", "1 ", "1e0", ".5", "0.5x", "q", "0..5", "１",
    ] {
        assert_eq!(qvalue(s.as_bytes()), None, "{s}");
    }
}

#[test]
fn weights() {
    let weight = |element: &[u8]| split_weight(split_params(element).1).1;
    assert_eq!(weight(b"gzip"), Some(1000));
    assert_eq!(weight(b"gzip;q=0.5"), Some(500));
    assert_eq!(weight(b"gzip;Q=0.5"), Some(500));
    assert_eq!(weight(b"gzip ; q = 0.5 "), Some(500));
    assert_eq!(weight(b"gzip;a=1;q=0"), Some(0));
    // The first q is the weight; what follows it is not looked at.
    assert_eq!(weight(b"gzip;q=0.5;q=1"), Some(500));
    assert_eq!(weight(b"gzip;q=0.5;q=x"), Some(500));
    // An invalid q makes the element ignored: one rule everywhere.
    for bad in [
        &b"gzip;q=0.0001"[..],
        b"gzip;q=00",
        b"gzip;q=1.001",
        b"gzip;q=",
        b"gzip;q",
        b"gzip;q=\"0.5\"",
        b"gzip;q=2",
    ] {
        assert_eq!(weight(bad), None, "{bad:?}");
    }
    assert_eq!(weight(b"gzip;q=1.000"), Some(1000));
}

#[test]
fn media_types() {
    let m = MediaType::parse(b"application/json").unwrap();
    assert!(m.is("application", "json"));
    assert!(m.is("APPLICATION", "Json"));
    assert_eq!((m.ty(), m.subtype()), (&b"application"[..], &b"json"[..]));
    let m = MediaType::parse(b" Text/Plain ; Charset=\"utf\\-8\" ; charset=latin1").unwrap();
    assert!(m.is("text", "plain"));
    // The first one counts, unquoted and unescaped.
    assert_eq!(m.param(b"charset").as_deref(), Some(&b"utf-8"[..]));
    assert_eq!(m.param(b"boundary"), None);
    assert!(m.essence_is("TEXT/plain") && !m.essence_is("text") && !m.essence_is("text/html"));
    assert_eq!(m.suffix(), None);
    fn suffix(v: &[u8]) -> Option<&[u8]> {
        MediaType::parse(v).unwrap().suffix()
    }
    assert_eq!(suffix(b"application/ld+json"), Some(&b"json"[..]));
    assert_eq!(suffix(b"application/a+b+XML;x=y"), Some(&b"XML"[..]));
    assert_eq!(suffix(b"application/json+"), None);
    assert_eq!(suffix(b"application/+json"), None);
    let m = MediaType::parse(b"text/plain; charset=\"utf-8").unwrap();
    assert_eq!(m.param(b"charset"), None);
    for bad in [
        &b"text"[..],
        b"text/",
        b"/html",
        b"text /html",
        b"text/ html",
        b"te xt/html",
        b"",
        b";a=b",
    ] {
        assert!(MediaType::parse(bad).is_none(), "{bad:?}");
    }
}

fn quality(accept: &[&str], media: &str) -> u16 {
    let accept = Accept::parse(accept.iter().map(|l| l.as_bytes()));
    accept.quality(&MediaType::parse(media.as_bytes()).unwrap())
}

#[test]
fn accept_specificity() {
    // More specific ranges override less specific ones, whatever the order.
    let accept = ["text/*;q=0.5, text/html"];
    assert_eq!(quality(&accept, "text/html"), 1000);
    assert_eq!(quality(&accept, "text/plain"), 500);
    assert_eq!(quality(&accept, "image/png"), 0);
    let accept = ["text/html, text/*;q=0.5"];
    assert_eq!(quality(&accept, "text/html"), 1000);
    let accept = ["text/html;q=0, */*"];
    assert_eq!(quality(&accept, "text/html"), 0);
    assert_eq!(quality(&accept, "application/json"), 1000);
    // The example of RFC 7231 §5.3.2 (RFC 9110 §12.5.1 has the same rules).
    let accept =
        ["text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5"];
    for (media, q) in [
        ("text/html;level=1", 1000),
        ("text/html", 700),
        ("text/plain", 300),
        ("image/jpeg", 500),
        ("text/html;level=2", 400),
        ("text/html;level=3", 700),
        ("text/html;LEVEL=\"1\"", 1000),
    ] {
        assert_eq!(quality(&accept, media), q, "{media}");
    }
}

#[test]
fn accept_duplicates_take_the_lowest_q() {
    assert_eq!(quality(&["text/html;q=0.5, text/html"], "text/html"), 500);
    assert_eq!(quality(&["text/html, TEXT/HTML;q=0"], "text/html"), 0);
    assert_eq!(quality(&["*/*;q=0.2", "*/*;q=0.9"], "a/b"), 200);
}

#[test]
fn accept_ignores_malformed_ranges() {
    for bad in [
        "text/html;q=0.0001",
        "text/html;q=00",
        "text/html;q=1.001",
        "text/html;q=",
        "text/html;q=abc",
        "*/html",
        "text",
        "text/html;x",
        "text/html;a=\"b",
        "text/ html",
        "text/html extra",
    ] {
        let accept = [bad, "*/*;q=0.1"];
        assert_eq!(quality(&accept, "text/html"), 100, "{bad}");
    }
    assert_eq!(quality(&["text/html;q=1.000"], "text/html"), 1000);
    assert_eq!(quality(&["TEXT/HTML;Q=0.5"], "text/html"), 500);
}

#[test]
fn accept_quoted_commas_and_lines() {
    let accept = ["text/html;a=\"x,y\";q=0.2, application/json"];
    assert_eq!(quality(&accept, "text/html;a=\"x,y\""), 200);
    assert_eq!(quality(&accept, "text/html"), 0);
    assert_eq!(quality(&accept, "application/json"), 1000);
    let lines = ["text/html;q=0.2", "application/json"];
    assert_eq!(quality(&lines, "text/html"), 200);
    assert_eq!(quality(&lines, "application/json"), 1000);
}

#[test]
fn accept_without_the_field_accepts_anything() {
    assert_eq!(quality(&[], "image/png"), 1000);
    let none = Accept::parse([]);
    assert_eq!(none.best_match(&MediaType::parse(b"a/b").unwrap()), None);
    // An empty field accepts nothing.
    assert_eq!(quality(&[""], "image/png"), 0);
}

#[test]
fn best_match_reports_the_level() {
    let accept = Accept::parse([&b"*/*, text/*;q=0.5, text/html;q=0.8;ext=1"[..]]);
    let best = |m: &str| accept.best_match(&MediaType::parse(m.as_bytes()).unwrap());
    let at = |level, params, q| Some((Specificity { level, params }, q));
    assert_eq!(best("text/html"), at(Level::Subtype, 0, 800));
    assert_eq!(best("text/plain"), at(Level::Type, 0, 500));
    assert_eq!(best("image/png"), at(Level::Any, 0, 1000));
    assert!(
        Specificity {
            level: Level::Subtype,
            params: 1
        } > Specificity {
            level: Level::Subtype,
            params: 0
        }
    );
    assert!(
        Specificity {
            level: Level::Type,
            params: 3
        } < Specificity {
            level: Level::Subtype,
            params: 0
        }
    );
}

#[test]
fn percent_decoding() {
    let ok: &[(&str, bool, &str)] = &[
        ("plain", false, "plain"),
        ("a%20b", false, "a b"),
        ("a+b", false, "a+b"),
        ("a+b", true, "a b"),
        ("%2B", true, "+"),
        ("%2f%2F", false, "//"),
        ("caf%C3%A9", false, "café"),
        ("%25", false, "%"),
        ("", false, ""),
    ];
    for (raw, plus, want) in ok {
        assert_eq!(
            percent_decode(raw.as_bytes(), *plus).as_deref(),
            Some(*want),
            "{raw}"
        );
    }
    for raw in ["%", "%4", "a%", "%zz", "%%32%65", "%c3%28", "%ff", "%G0"] {
        assert_eq!(percent_decode(raw.as_bytes(), false), None, "{raw}");
    }
    assert_eq!(percent_decode(b"\xff", false), None);
    assert!(matches!(
        percent_decode(b"no-escapes", true),
        Some(std::borrow::Cow::Borrowed("no-escapes"))
    ));
}

/// Field-value bytes (what `HeaderValue` admits), weighted towards the
/// bytes the grammar cares about.
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(b",;=\"\\ \t/*qQ0.1".to_vec()),
        2 => 0x21u8..0x7f,
        1 => 0x80u8..=0xff,
    ];
    prop::collection::vec(byte, 0..48)
}

proptest! {
    /// Splitting never panics, never yields an empty element or one with
    /// OWS at an end, and never loses a byte outside the separators: the
    /// elements, in order, are pieces of the value.
    #[test]
    fn elements_are_trimmed_pieces_of_the_value(value in field_value()) {
        let mut from = 0;
        for element in elements(&value) {
            prop_assert!(!element.is_empty());
            prop_assert!(!is_ows(element[0]) && !is_ows(element[element.len() - 1]));
            let at = element.as_ptr() as usize - value.as_ptr() as usize;
            prop_assert!(at >= from);
            from = at + element.len();
        }
        // Without quotes, the split is the plain one.
        if !value.contains(&b'"') {
            let plain: Vec<&[u8]> = value
                .split(|&b| b == b',')
                .map(trim_ows)
                .filter(|e| !e.is_empty())
                .collect();
            prop_assert_eq!(elements(&value).collect::<Vec<_>>(), plain);
        }
        prop_assert_eq!(
            elements(&value).count(),
            all_elements(&value).filter(|e| !e.is_empty()).count()
        );
    }

    /// Parameters, weights, media types and `Accept` never panic, and a
    /// weight is always a quality.
    #[test]
    fn parsers_never_panic(value in field_value()) {
        for element in elements(&value) {
            let (head, params) = split_params(element);
            prop_assert_eq!(head, trim_ows(head));
            for param in params.clone() {
                let _ = param.value();
            }
            if let (_, Some(q)) = split_weight(params) {
                prop_assert!(q <= 1000);
            }
        }
        let accept = Accept::parse([&value[..]]);
        if let Some(media) = MediaType::parse(&value) {
            let _ = media.param(b"charset");
            prop_assert!(accept.quality(&media) <= 1000);
        }
        let _ = quoted_string(&value);
        let _ = percent_decode(&value, true);
    }

    /// Every qvalue the grammar allows parses to its value, and list
    /// membership agrees with the elements.
    #[test]
    fn qvalues_and_membership(q in 0u16..=1000, digits in 0usize..=3, value in field_value()) {
        // The shortest spelling of q, padded with zeros to `digits` places.
        let text = if q == 1000 {
            format!("1.{}", &"000"[..digits])
        } else {
            let frac = format!("{q:03}");
            let needed = 3 - frac.bytes().rev().take_while(|&d| d == b'0').count();
            format!("0.{}", &frac[..needed.max(digits)])
        };
        prop_assert_eq!(qvalue(text.as_bytes()), Some(q), "{}", text);
        let token = b"close";
        prop_assert_eq!(
            list_has(&value, token),
            elements(&value).any(|e| e.eq_ignore_ascii_case(token))
        );
    }
}
