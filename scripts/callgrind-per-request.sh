#!/bin/bash
# User-space instructions per request, counted by callgrind (stable on a
# noisy machine, unlike timings). Runs the server twice under callgrind,
# with a small and a large number of requests on one connection, and
# divides the difference, so startup and shutdown cancel out.
#
# usage: scripts/callgrind-per-request.sh SERVER_BINARY ROOT PATH [PIPELINE]
#   SERVER_BINARY  e.g. target/release/examples/plaintext
#   PATH           e.g. /plaintext or /4k.bin
#   PIPELINE       requests per write (default 1: keep-alive, one at a time;
#                  0: one request per connection, with Connection: close)
# CG_KEEP=FILE keeps the larger run's profile; CG_PORT picks the port;
# CG_CPU the CPU the server is pinned to (default 0); CG_ARGS more
# arguments for the server (e.g. CG_ARGS=-q for the berth binary).
set -euo pipefail
BIN=$1; ROOT=$2; P=$3; DEPTH=${4:-1}; PORT=${CG_PORT:-18990}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
run() {
  # Pinned to one CPU, as the harness runs servers: the benchmark example
  # then picks a current-thread runtime (unpinned, it would count tokio's
  # multi-thread scheduler instead).
  taskset -c "${CG_CPU:-0}" valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$1" "$BIN" "$ROOT" --bind 127.0.0.1 --port "$PORT" ${CG_ARGS:-} >/dev/null 2>&1 &
  local vp=$!
  python3 - "$1" "$P" "$PORT" "$DEPTH" <<'PY'
import socket, sys, time
n, path, port, depth = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        time.sleep(0.2)
close = depth == 0
depth = max(depth, 1)
extra = "Connection: close\r\n" if close else ""
req = ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, extra)).encode() * depth
buf = b""
for _ in range(n):
    if close:
        s.close()
        s = socket.create_connection(("127.0.0.1", port))
        buf = b""
    s.sendall(req)
    for _ in range(depth):
        while True:
            h = buf.find(b"\r\n\r\n")
            if h >= 0:
                cl = 0
                for line in buf[:h].decode().split("\r\n")[1:]:
                    k, v = line.split(":", 1)
                    if k.lower() == "content-length":
                        cl = int(v)
                if len(buf) >= h + 4 + cl:
                    buf = buf[h + 4 + cl:]
                    break
            buf += s.recv(65536)
PY
  kill -TERM $vp; wait $vp 2>/dev/null || true
  grep -E "^(summary|totals):" "$OUT/cg.$1" | head -1 | awk '{print $2}'
}
A=$(run 100); B=$(run 1100)
PER=$(( DEPTH > 0 ? DEPTH : 1 ))
echo "$(( (B - A) / (1000 * PER) )) instructions/request (path $P, $DEPTH per write)"
if [ -n "${CG_KEEP:-}" ]; then
  cp "$OUT/cg.1100" "$CG_KEEP"
  echo "profile of the larger run in $CG_KEEP (callgrind_annotate --inclusive=yes $CG_KEEP)"
fi
