#!/usr/bin/env bash
# Soak: runs berth under mixed load (keep-alive, pipelined, static files,
# gzip, new connection per request, slow readers) for MINUTES minutes and
# checks that it answered every request without errors and that its memory
# did not keep growing (RSS at the end within 2x of RSS after warm-up).
#
#   scripts/soak.sh          # 2 minutes
#   MINUTES=30 scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${MINUTES:-2}
port=${PORT:-18778}
command -v wrk >/dev/null || { echo "soak: wrk is missing (run ../shared/bench/setup)"; exit 2; }
cargo build --release --quiet --example plaintext
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/root"
head -c 4096 /dev/urandom > "$work/root/4k.bin"
head -c 1048576 /dev/urandom > "$work/root/1m.bin"
python3 -c "print('<p>' + 'berth soak page ' * 4000 + '</p>')" > "$work/root/page.html"
target/release/examples/plaintext "$work/root" --port "$port" > "$work/server.out" 2>&1 &
server=$!; pids+=($server)
sleep 0.5
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
seconds=$((minutes * 60))
slice=$((seconds / 5 > 2 ? seconds / 5 : 2))
url="http://127.0.0.1:$port"
failed=0
run() { # name, wrk args...
    local name=$1; shift
    wrk -t1 -c32 -d"${slice}s" "$@" > "$work/$name.txt" 2>&1 || true
    local errs non2xx
    errs=$(grep -oE "Socket errors: .*" "$work/$name.txt" || true)
    non2xx=$(grep -oE "Non-2xx or 3xx responses: [0-9]+" "$work/$name.txt" || true)
    echo "soak: $name: $(grep -oE "[0-9]+ requests in" "$work/$name.txt") ${errs:-no socket errors} ${non2xx}"
    if [ -n "$non2xx" ]; then failed=1; fi
    if [ -n "$errs" ] && [ "$name" != close ]; then failed=1; fi
}
run warmup "$url/plaintext"
base=$(rss)
run keepalive "$url/plaintext"
run static "$url/4k.bin"
run big "$url/1m.bin"
run gzip -H "Accept-Encoding: gzip" "$url/page.html"
run close -H "Connection: close" "$url/plaintext"
end=$(rss)
echo "soak: RSS after warm-up ${base} KiB, at the end ${end} KiB"
kill -0 "$server" || { echo "soak: the server died"; exit 1; }
if [ "$end" -gt $((base * 2 + 8192)) ]; then echo "soak: memory kept growing"; failed=1; fi
exit $failed
