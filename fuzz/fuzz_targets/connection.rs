//! Fuzz target: see `check_connection` in `fuzz/src/invariants.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berth_fuzz::check_connection(data));
