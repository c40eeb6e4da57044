#!/usr/bin/env bash
# berth's HTTP/3 against its HTTP/2 and HTTP/1.1 over TLS, on the same
# files (4 KiB, 1 MiB) and the same server process:
#
#   scripts/h3-bench.sh [REPS]        # default 3 repetitions of each run
#
# The server (`berth --tls-self-signed --http3 -q`) runs on CPU 0, the
# load client on CPU 1: h2load for HTTP/1.1 (`--h1`) and HTTP/2 over TLS,
# `examples/h3load` for HTTP/3 (h2load here is built without QUIC). Each
# run reports the client's rate and the server's CPU per request
# (`utime + stime` from /proc over the run, divided by the requests), the
# figure that compares the protocols whatever the client's own speed.
# Then memory per idle connection: N connections (default 500) each after
# one GET, RSS of the server before and while held
# (`scripts/tls-idle-memory.py` for TCP, `h3load --idle` for QUIC).
#
# Same concurrency for every protocol: 16 connections × 32 streams for
# 4 KiB (HTTP/1.1: 16 × 1, it has no streams; h2load pipelines nothing),
# 16 × 4 for 1 MiB. Everything it starts is killed on exit.

set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
reps=${1:-3}
idle_n=${IDLE_N:-500}

log() { printf 'h3-bench: %s\n' "$*" >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-h3bench.XXXXXX")
berth_pid=
cleanup() {
    [[ -n $berth_pid ]] && kill -TERM "$berth_pid" 2>/dev/null && wait "$berth_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

command -v h2load >/dev/null || { log "h2load is needed (apt-get install nghttp2-client)"; exit 1; }
cargo build --release --quiet --bin berth --example h3load
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
berth=$target_dir/release/berth
h3load=$target_dir/release/examples/h3load

mkdir -p "$work/site"
head -c 4096 /dev/urandom >"$work/site/4k.bin"
head -c 1048576 /dev/urandom >"$work/site/1m.bin"

# Starts a fresh berth on CPU 0 (sets berth_pid and port).
start_berth() {
    taskset -c 0 "$berth" --port 0 --tls-self-signed --http3 -q --max-connections 20000 \
        "$work/site" >"$work/out.log" 2>"$work/err.log" &
    berth_pid=$!
    port=
    for _ in $(seq 100); do
        port=$(grep -o -m1 'https://[0-9.]*:[0-9]*' "$work/out.log" | sed 's/.*://' || true)
        [[ -n $port ]] && break
        sleep 0.05
    done
    [[ -n $port ]] || { cat "$work/err.log" >&2; log "berth did not start"; exit 1; }
}
stop_berth() {
    kill -TERM "$berth_pid" && wait "$berth_pid" || true
    berth_pid=
}

ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$berth_pid/stat"; }

# run PROTO FILE REQUESTS CONNS STREAMS
run() {
    local proto=$1 file=$2 n=$3 c=$4 m=$5 before after out rate
    before=$(cpu)
    case $proto in
        h1) out=$(taskset -c 1 h2load --h1 -n "$n" -c "$c" -m 1 "https://127.0.0.1:$port/$file")
            rate=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
            grep -q "$n succeeded" <<<"$out" || { echo "$out" >&2; exit 1; } ;;
        h2) out=$(taskset -c 1 h2load -n "$n" -c "$c" -m "$m" "https://127.0.0.1:$port/$file")
            rate=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
            grep -q "$n succeeded" <<<"$out" || { echo "$out" >&2; exit 1; } ;;
        h3) out=$(taskset -c 1 "$h3load" "127.0.0.1:$port" "/$file" -n "$n" -c "$c" -m "$m")
            rate=$(sed -n 's/.*: \([0-9]*\) req\/s.*/\1/p' <<<"$out") ;;
    esac
    after=$(cpu)
    python3 -c "import sys; t=($after-$before)/$ticks; print(f'$proto $file: {float(\"$rate\"):9.0f} req/s, server CPU {t/$n*1e6:7.1f} µs/request')"
}

# Memory first, each protocol on a fresh server: memory a load run freed
# stays in the allocator and would hide what idle connections take.
log "memory per idle connection ($idle_n each, a fresh server each time)"
for proto in h1 h2; do
    start_berth
    python3 scripts/tls-idle-memory.py "$berth_pid" "$port" "$idle_n" "$proto"
    stop_berth
done
start_berth
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$berth_pid/status"; }
before=$(rss)
"$h3load" "127.0.0.1:$port" /4k.bin --idle "$idle_n" --hold 4 >"$work/idle.out" &
idle_pid=$!
for _ in $(seq 600); do
    grep -q holding "$work/idle.out" 2>/dev/null && break
    sleep 0.05
done
sleep 1
held=$(rss)
wait "$idle_pid" || true
python3 -c "print(f'$idle_n idle h3 connections: {($held-$before)/$idle_n:.2f} KiB each (RSS {$before/1024:.1f} -> {$held/1024:.1f} MiB)')"
stop_berth

start_berth
log "berth $(git rev-parse --short HEAD) on 127.0.0.1:$port (pid $berth_pid)"
for rep in $(seq "$reps"); do
    log "repetition $rep of $reps"
    for proto in h1 h2 h3; do
        m=32
        [[ $proto == h1 ]] && m=1
        run "$proto" 4k.bin 20000 16 "$m"
    done
    for proto in h1 h2 h3; do
        m=4
        [[ $proto == h1 ]] && m=1
        run "$proto" 1m.bin 400 16 "$m"
    done
done

