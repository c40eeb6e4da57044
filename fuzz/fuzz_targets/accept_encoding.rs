//! Fuzz target: see `check_accept_encoding` in `fuzz/src/invariants.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berth_fuzz::check_accept_encoding(data));
