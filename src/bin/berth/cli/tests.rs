//! Unit tests of flag values: durations, the compression flags, and bind
//! addresses.

use super::*;

#[test]
fn durations() {
    assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
    assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    // The README's examples, and what the config file's numbers become
    // (an integer or a float, written out as bare seconds).
    for (text, want) in [
        ("0s", Duration::ZERO),
        ("0", Duration::ZERO),
        ("30s", Duration::from_secs(30)),
        ("5m", Duration::from_secs(300)),
        ("500ms", Duration::from_millis(500)),
        ("1.5s", Duration::from_millis(1500)),
        ("1.5", Duration::from_millis(1500)),
        (" 10s ", Duration::from_secs(10)),
        ("86400", Duration::from_secs(86_400)),
    ] {
        assert_eq!(parse_duration(text), Ok(want), "{text:?}");
    }
    for bad in ["", "s", "-1s", "10x", "86401", "1e3"] {
        assert!(parse_duration(bad).is_err(), "{bad:?}");
    }
    assert!(parse_duration("abc").is_err());
    // humantime's other units and compounds, up to a day.
    assert_eq!(parse_duration("5h"), Ok(Duration::from_secs(5 * 3600)));
    assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
    assert!(parse_duration("25h").is_err());
}

#[test]
fn compression_flags() {
    let config = |argv: &[&str]| {
        let args = parse_args(argv.iter().copied()).unwrap_or_else(|_| panic!("{argv:?}"));
        Config::from_args(args).unwrap()
    };
    let c = config(&["berth"]);
    assert_eq!(c.compress, Some(CompressOptions { level: None }));
    assert!(c.site.precompressed);
    let c = config(&["berth", "--no-compress", "--no-precompressed"]);
    assert_eq!(c.compress, None);
    assert!(!c.site.precompressed);
    let c = config(&["berth", "--compress-level", "9"]);
    assert_eq!(c.compress, Some(CompressOptions { level: Some(9) }));
    // The last of --precompressed / --no-precompressed wins.
    assert!(
        config(&["berth", "--no-precompressed", "--precompressed"])
            .site
            .precompressed
    );
    assert!(
        !config(&["berth", "--precompressed", "--no-precompressed"])
            .site
            .precompressed
    );
    assert!(parse_args(["berth", "--compress-level", "23"]).is_err());
    assert!(parse_args(["berth", "--compress-level", "x"]).is_err());
}

#[test]
fn bind_addresses() {
    assert_eq!(
        resolve_bind("127.0.0.1", 80).unwrap().to_string(),
        "127.0.0.1:80"
    );
    assert_eq!(resolve_bind("::1", 80).unwrap().to_string(), "[::1]:80");
    assert_eq!(resolve_bind("[::1]", 80).unwrap().to_string(), "[::1]:80");
    assert!(resolve_bind("example.com", 80).is_err());
    assert!(resolve_bind("1.2.3", 80).is_err());
    assert_eq!(
        resolve_bind("0.0.0.0:8443", 80).unwrap().to_string(),
        "0.0.0.0:8443"
    );
    assert_eq!(
        resolve_bind("[::]:8443", 80).unwrap().to_string(),
        "[::]:8443"
    );
    assert_eq!(resolve_bind("[::]", 80).unwrap().to_string(), "[::]:80");
}

#[test]
fn sizes_take_the_usual_units() {
    for (text, bytes) in [
        ("65536", 65536),
        ("10k", 10_000),
        ("10MB", 10_000_000),
        ("10MiB", 10 << 20),
        ("1 GiB", 1 << 30),
        ("512kib", 512 << 10),
    ] {
        assert_eq!(parse_size(text), Ok(bytes), "{text}");
    }
    for bad in ["", "ten", "10 parsecs", "-1"] {
        assert!(parse_size(bad).is_err(), "{bad}");
    }
}

#[test]
fn file_cache_control_defaults() {
    let cache = |argv: &[&str]| {
        let args = parse_args(argv.iter().copied()).unwrap_or_else(|_| panic!("{argv:?}"));
        Config::from_args(args).unwrap().site.cache_control.unwrap()
    };
    assert_eq!(cache(&["berth"]), "max-age=0, must-revalidate");
    // With credentials in play, no shared cache may keep a file.
    assert_eq!(
        cache(&["berth", "--auth", "u:$2b$04$x"]),
        "private, max-age=0, must-revalidate"
    );
    assert_eq!(
        cache(&["berth", "--cache-control", " no-cache "]),
        "no-cache"
    );
    assert!(
        parse_args(["berth", "--cache-control", ""]).is_ok_and(|a| Config::from_args(a).is_err())
    );
}
