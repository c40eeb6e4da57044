//! Fuzz target: see `check_parse_head` in `fuzz/src/invariants.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berth_fuzz::check_parse_head(data));
