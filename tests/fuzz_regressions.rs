//! Replays fuzz crashers (`tests/fuzz_regressions/<target>/*`) against the
//! invariants the fuzz targets check (DESIGN.md §6.6, regex-automata's
//! `tests/fuzz/testdata/`). The checks are `fuzz/src/invariants.rs` itself,
//! included below, so a replay fails exactly when the target would crash.
//! Folders may be missing or empty: then there is nothing to replay.

#[path = "../fuzz/src/invariants.rs"]
mod invariants;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

type Check = fn(&[u8]);

const TARGETS: &[(&str, Check)] = &[
    ("parse_head", invariants::check_parse_head),
    ("chunked", invariants::check_chunked),
    ("connection", invariants::check_connection),
    ("resolve_path", invariants::check_resolve_path),
    ("range", invariants::check_range),
    ("accept_encoding", invariants::check_accept_encoding),
    ("proxy_header", invariants::check_proxy_header),
];

#[test]
fn fuzz_crashers_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (target, check) in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files.iter().filter(|f| f.is_file()) {
            let input = std::fs::read(file).expect("readable crasher");
            replayed += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                failures.push(format!("{target}/{name}: {message}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {replayed} fuzz regressions fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn invariants_hold_on_simple_inputs() {
    // The checks themselves must pass on ordinary input, or every replay
    // would "fail" for the wrong reason.
    let request = b"\x00GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    invariants::check_parse_head(request);
    invariants::check_connection(request);
    invariants::check_chunked(b"\x03\x10\x80\xf05;a=b\r\nhello\r\n0\r\nX: y\r\n\r\nrest");
    invariants::check_connection(
        b"\x07\x01\x7f\xfePOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    );
    invariants::check_resolve_path(b"/a/%2e%2e/b/./c%20d/");
    invariants::check_resolve_path(b"");
    invariants::check_proxy_header(b"PROXY TCP4 192.0.2.1 192.0.2.2 4711 80\r\nGET / HTTP/1.1\r\n");
    invariants::check_proxy_header(
        b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc0\x00\x02\x01\xc0\x00\x02\x02\x12\x67\x00\x50",
    );
    invariants::check_proxy_header(b"GET / HTTP/1.1\r\n");
}
