//! Support for berth's fuzz targets: the invariants live in
//! `invariants.rs`, which `tests/fuzz_regressions.rs` includes too, so a
//! crasher is replayed against exactly the checks that found it.

mod invariants;

pub use invariants::{
    check_accept_encoding, check_chunked, check_connection, check_parse_head, check_proxy_header,
    check_range, check_resolve_path,
};
