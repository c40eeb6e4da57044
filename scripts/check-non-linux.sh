#!/usr/bin/env bash
# Compiles and lints berth as a Unix system other than Linux would, on this
# Linux machine: a copy of the tracked sources with every
# `target_os = "linux"` turned into `target_os = "macos"` (false here), so
# the Linux fast paths drop out and only the portable paths are left (see
# src/platform.rs), then `cargo clippy --all-targets -D warnings` on it.
#
#   scripts/check-non-linux.sh
#
# What it proves: the non-Linux side of every cfg compiles, with no unused
# import or dead code. What it cannot: that the portable code avoids an API
# only Linux has, since rustix is still built for Linux here; that needs a
# real macOS or BSD target (src/platform.rs lists what each path calls).
# The copy and its build live under target/non-linux/ (kept between runs).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=target/non-linux/tree
rm -rf "$tree"
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tree"
grep -rlZ 'target_os = "linux"' "$tree/src" "$tree/tests" "$tree/examples" "$tree/benches" |
    xargs -0 -r sed -i 's/target_os = "linux"/target_os = "macos"/g'
if grep -rq 'target_os = "linux"' "$tree/src" "$tree/tests"; then
    echo "check-non-linux: a Linux cfg was left in the copy" >&2
    exit 1
fi
CARGO_TARGET_DIR=target/non-linux/target cargo clippy --locked --quiet \
    --manifest-path "$tree/Cargo.toml" --all-targets -- -D warnings
echo "check-non-linux: the portable (non-Linux) build is clean"
