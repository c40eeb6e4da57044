#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 60):
#
#   fuzz/run.sh [SECONDS]
#
# 1. Seeds: the `http` blocks of tests/corpus/*.md are decoded by the corpus
#    runner itself (tests/corpus.rs, `export_fuzz_seeds`) into
#    fuzz/corpus/<target>/, in each target's input format. fuzz/corpus/ is
#    git-ignored; libFuzzer adds what it finds there too.
# 2. Each target runs for SECONDS, optimized with debug assertions and
#    overflow checks on (cargo-fuzz's default; `-O` would turn them off).
# 3. Crashers found (fuzz/artifacts/<target>/crash-*) are copied to
#    tests/fuzz_regressions/<target>/, which tests/fuzz_regressions.rs
#    replays in `cargo test`. The script exits 1 if any target crashed.
#
# Toolchain. cargo-fuzz (`cargo install cargo-fuzz`) works on STABLE Rust
# with `--sanitizer none`: libFuzzer's coverage instrumentation uses stable
# `-C` flags; only the sanitizers need nightly (`-Zsanitizer`). berth has no
# `unsafe`, so AddressSanitizer mostly guards its dependencies; to use it,
# run with FUZZ_TOOLCHAIN=nightly FUZZ_SANITIZER=address.
#
# CARGO_TARGET_DIR is respected if set (builds go to fuzz/target otherwise).
set -euo pipefail

secs="${1:-60}"
toolchain="+${FUZZ_TOOLCHAIN:-stable}"
sanitizer="${FUZZ_SANITIZER:-none}"
targets=(parse_head chunked connection resolve_path range accept_encoding proxy_header)

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz_dir")
cd "$root" # cargo-fuzz looks for ./fuzz

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run.sh: cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi

echo "== seeds from tests/corpus/*.md"
BERTH_FUZZ_SEEDS="$fuzz_dir/corpus" \
    cargo test --quiet --test corpus -- --ignored --exact export_fuzz_seeds >/dev/null

# proxy_header's input is not HTTP, so the corpus has nothing for it: seed it
# with one header of each kind, or the fuzzer (without a sanitizer, memcmp is
# not traced) may never get past the signatures.
proxy_seeds="$fuzz_dir/corpus/proxy_header"
v2_sig='\r\n\r\n\0\r\nQUIT\n'
mkdir -p "$proxy_seeds"
printf '%b' 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n' >"$proxy_seeds/v1_tcp4"
printf '%b' 'PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 0 65535\r\n' >"$proxy_seeds/v1_tcp6"
printf '%b' 'PROXY UNKNOWN ::1 ::2 1 2\r\n' >"$proxy_seeds/v1_unknown"
printf '%b' "$v2_sig"'\x21\x11\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x07\xdc\x04\x01\xbb' >"$proxy_seeds/v2_tcp4"
printf '%b' "$v2_sig"'\x21\x21\x00\x2a\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02\x04\xd2\x00\x50\x01\x00\x03abc' >"$proxy_seeds/v2_tcp6_tlv"
printf '%b' "$v2_sig"'\x20\x00\x00\x00' >"$proxy_seeds/v2_local"

crashed=()
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    log="fuzz/artifacts/$target.log"
    echo "== $target: ${secs}s (log: $log)"
    if cargo "$toolchain" fuzz run --sanitizer "$sanitizer" "$target" "fuzz/corpus/$target" \
        -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done' "$log" || true
    else
        crashed+=("$target")
        grep -E -A4 'panicked at|deadly signal|ERROR: libFuzzer' "$log" | head -20 || tail -20 "$log"
    fi
    for crash in "fuzz/artifacts/$target"/crash-*; do
        [ -f "$crash" ] || continue
        mkdir -p "tests/fuzz_regressions/$target"
        cp -n "$crash" "tests/fuzz_regressions/$target/"
    done
done

if [ "${#crashed[@]}" -gt 0 ]; then
    echo "== crashed: ${crashed[*]}; inputs copied to tests/fuzz_regressions/" >&2
    echo "   minimize: cargo fuzz tmin --sanitizer $sanitizer TARGET FILE" >&2
    exit 1
fi
echo "== no crashes"
