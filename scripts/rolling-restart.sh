#!/usr/bin/env bash
# Rolling restart under load: berth A serves with --reuse-port while wrk
# (the load generator of ../shared/bench) hammers it; mid-run berth B starts
# on the same port and A gets SIGTERM and drains. Every request must succeed:
# the script prints wrk's error counts and exits 1 if any is not zero.
#
#   scripts/rolling-restart.sh            # 8 s of load, restart at 3 s
#   DURATION=20 CONNECTIONS=64 scripts/rolling-restart.sh
#
# Needs wrk (../shared/bench/setup installs it). As root it also sets
# net.ipv4.tcp_migrate_req=1 (Linux >= 5.14) so that connections still in
# A's accept queue when it closes its listener move to B instead of being
# reset; without it a few connects can fail at the moment of the switch.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18777}
duration=${DURATION:-8}
connections=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "rolling-restart: wrk is missing (run ../shared/bench/setup)"; exit 2; }
cargo build --release --quiet --bin berth
berth=target/release/berth

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/root"
printf 'hello from berth\n' > "$work/root/index.html"
if [ -w /proc/sys/net/ipv4/tcp_migrate_req ]; then
    echo 1 > /proc/sys/net/ipv4/tcp_migrate_req
else
    echo "rolling-restart: warning: cannot set net.ipv4.tcp_migrate_req; queued connects may be reset"
fi

start_berth() { # $1: name; prints nothing, records the pid
    "$berth" "$work/root" --port "$port" --reuse-port --quiet --shutdown-grace 5s \
        > "$work/$1.out" 2> "$work/$1.err" &
    pids+=($!)
    for _ in $(seq 100); do grep -q "serving" "$work/$1.out" 2>/dev/null && return; sleep 0.05; done
    echo "rolling-restart: berth $1 did not start"; cat "$work/$1.err"; exit 1
}

start_berth old
old=${pids[0]}
wrk -t1 -c"$connections" -d"${duration}s" "http://127.0.0.1:$port/" > "$work/wrk.out" 2>&1 &
load=$!
sleep 3
start_berth new
kill -TERM "$old"
wait "$old" && echo "rolling-restart: old berth drained and exited 0" || { echo "rolling-restart: old berth exited $?"; exit 1; }
wait "$load"
cat "$work/wrk.out"

errors=$(grep -oE "Socket errors: connect [0-9]+, read [0-9]+, write [0-9]+, timeout [0-9]+" "$work/wrk.out" \
    | grep -oE "[0-9]+" | paste -sd+ | bc || true)
non2xx=$(grep -oE "Non-2xx or 3xx responses: [0-9]+" "$work/wrk.out" | grep -oE "[0-9]+$" || true)
errors=${errors:-0}; non2xx=${non2xx:-0}
requests=$(grep -oE "^ +[0-9]+ requests in" "$work/wrk.out" | grep -oE "[0-9]+" | head -1)
echo "rolling-restart: $requests requests, $errors socket errors, $non2xx non-2xx responses"
[ "$errors" = 0 ] && [ "$non2xx" = 0 ]
