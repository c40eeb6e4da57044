//! Fuzz target: see `check_proxy_header` in `fuzz/src/invariants.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berth_fuzz::check_proxy_header(data));
