#!/usr/bin/env bash
# Rolling restart behind HAProxy: two berth instances (A and B, distinct
# loopback ports, same ROOT) sit behind an HAProxy frontend that health-checks
# them on /healthz. wrk drives load through HAProxy while each instance in
# turn gets SIGTERM, drains (--drain-delay: /healthz answers 503 and every
# response carries `Connection: close`, so HAProxy takes the server out before
# berth stops accepting), exits, and is started again on the same port; the
# next instance is restarted only once HAProxy reports the new one UP. Two
# full rounds. Every request must succeed: the script prints wrk's counts and
# exits 1 if any request failed (non-2xx/3xx status or socket error), if a
# berth did not exit 0, or if the load ended before the restarts did.
#
#   scripts/haproxy-rolling.sh            # 20 s of load, 4 restarts
#   scripts/haproxy-rolling.sh 30         # 30 s of load
#   scripts/haproxy-rolling.sh --proxy    # PROXY protocol v2 between HAProxy and berth
#   scripts/haproxy-rolling.sh --forwarded  # X-Forwarded-For and --trusted-proxy
#   CONNECTIONS=64 PORT_BASE=18900 KEEP=1 DEBUG=1 scripts/haproxy-rolling.sh
#
# PORT_BASE (default 18870): HAProxy frontend on it, HAProxy stats on +1,
# berth A on +2 and B on +3. KEEP=1 keeps the temp dir (haproxy.cfg,
# haproxy.log, berth logs, wrk output). DEBUG=1 runs berth with -vv instead of
# -q (its debug log goes to the temp dir; implies KEEP=1).
#
# With --proxy, berth runs with --proxy-protocol and HAProxy sends a PROXY v2
# header (send-proxy-v2); with --forwarded, HAProxy appends the client to
# X-Forwarded-For (option forwardfor) and berth trusts it from HAProxy
# (--trusted-proxy 127.0.0.3). In both, HAProxy connects to berth from source
# address 127.0.0.3 while wrk connects from 127.0.0.1 and sends forged
# `X-Forwarded-For: 203.0.113.9` and `Forwarded: for=198.51.100.7` headers.
# Instance A keeps a JSON access log, and the script checks that every
# request line names 127.0.0.1 (the client), neither 127.0.0.3 (the TCP
# peer) nor a forged address. Health checks carry no
# client (PROXY v2 LOCAL header, or no X-Forwarded-For), so berth logs their
# TCP peer, 127.0.0.3.
#
# Needs haproxy (apt-get install haproxy; tested with 2.6), wrk (../shared/
# bench/setup installs it) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=plain
duration=20
for arg in "$@"; do
    case $arg in
        --proxy) mode=proxy ;;
        --forwarded) mode=forwarded ;;
        ''|*[!0-9]*) echo "usage: $0 [--proxy|--forwarded] [SECONDS]"; exit 2 ;;
        *) duration=$arg ;;
    esac
done
base=${PORT_BASE:-18870}
fe_port=$base
stats_port=$((base + 1))
ports=($((base + 2)) $((base + 3)))
names=(a b)
connections=${CONNECTIONS:-32}
debug=${DEBUG:-0}
keep=${KEEP:-$debug}
drain_delay=2s      # > the time HAProxy needs to see a 503 (see `fall`/`inter` below)
shutdown_grace=5s

for tool in haproxy wrk curl; do
    command -v "$tool" >/dev/null || { echo "haproxy-rolling: $tool is missing"; exit 2; }
done
berth=target/release/berth
[ -x "$berth" ] || cargo build --release --quiet --bin berth

work=$(mktemp -d /tmp/haproxy-rolling.XXXXXX)
current=("" "")     # pid of the live berth per instance
restarts=(0 0)
haproxy_pid=""
load=""
cleanup() {
    for p in "${current[@]}" $haproxy_pid $load; do
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "$keep" = 1 ]; then echo "haproxy-rolling: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ROOT: a few files, among them a 4 KiB one (as in ../shared/bench).
mkdir "$work/root"
printf 'hello from berth\n' > "$work/root/index.html"
printf 'Hello, World!' > "$work/root/plaintext"
head -c 4096 /dev/urandom > "$work/root/4k.bin"
head -c 65536 /dev/urandom > "$work/root/64k.bin"

# --- HAProxy ----------------------------------------------------------------
server_opts=""
backend_opts=""
case $mode in
    proxy)
        # send-proxy-v2: every connection to berth starts with a PROXY v2
        # header naming the client; health checks send one too (a LOCAL one;
        # check-send-proxy is implied by send-proxy-v2, spelled out), since
        # berth --proxy-protocol closes connections without one.
        server_opts=" send-proxy-v2 check-send-proxy"
        backend_opts="    source 127.0.0.3
" ;;
    forwarded)
        # option forwardfor: HAProxy appends the client address to
        # X-Forwarded-For (after whatever the client sent). berth reads
        # Forwarded instead whenever there is one, and HAProxy 2.6 does not
        # write that header: delete the client's, or berth would log the
        # address a client forged in it.
        backend_opts="    option forwardfor
    http-request del-header Forwarded
    source 127.0.0.3
" ;;
esac
# `source 127.0.0.3`: connect to berth from 127.0.0.3 so that berth's TCP
# peer differs from the client (wrk, 127.0.0.1): the access log shows which
# one it used.

cat > "$work/haproxy.cfg" <<EOF
global
    # haproxy runs in the foreground (-db); its stderr is haproxy.log.
    log stderr format raw local0 info
    maxconn 4096

defaults
    mode http
    log global
    option httplog
    # Log only what went wrong (errors, retries, redispatches, 5xx) and server
    # state changes: the log stays small under load and shows every failure.
    option dontlog-normal
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # A failed connection attempt (nothing listening) is retried up to 3
    # times (retry-on keeps its default, conn-failure: only requests that
    # were never sent are replayed), the last time on the other server
    # (option redispatch). With the drain delay no server stops accepting
    # while HAProxy still sends it traffic, so this is only a safety net for
    # an instance that dies without draining (crash, SIGKILL) before the
    # checks mark it DOWN; in the tested runs HAProxy retried nothing. No
    # empty-response retries either: a draining berth answers every request
    # with Connection: close, and closes idle connections only once it stops
    # accepting, by when HAProxy has marked it DOWN and sends it nothing.
    retries 3
    option redispatch

frontend fe
    bind 127.0.0.1:$fe_port
    default_backend berth

backend berth
    balance roundrobin
    # A 503 from /healthz (berth draining) takes a server out after 2 checks
    # 250 ms apart (~0.5 s, well within the 2 s drain delay); a restarted
    # server comes back after 2 good checks.
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 250ms fastinter 250ms downinter 250ms fall 2 rise 2
    # Keep-alive to the servers and reuse of idle connections between client
    # sessions: "safe" is HAProxy's default (the first request of a client
    # session never goes over a reused idle connection), written out here.
    # berth sends "Connection: close" on every response while draining, so
    # HAProxy retires its connections to a draining server instead of
    # pooling them.
    http-reuse safe
${backend_opts}    server a 127.0.0.1:${ports[0]} check$server_opts
    server b 127.0.0.1:${ports[1]} check$server_opts

listen stats
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /stats
EOF

haproxy -c -q -f "$work/haproxy.cfg" || { echo "haproxy-rolling: bad haproxy.cfg"; cat "$work/haproxy.cfg"; exit 2; }

# Server state as HAProxy sees it: UP, DOWN, "UP 1/2" (going down), ...
server_state() { # $1: server name
    curl -s --max-time 1 "http://127.0.0.1:$stats_port/stats;csv" 2>/dev/null \
        | awk -F, -v s="$1" '$1 == "berth" && $2 == s { print $18 }'
}

# --- berth --------------------------------------------------------------------
start_berth() { # $1: instance index; records the pid in current[$1]
    local i=$1 name=${names[$1]} n=${restarts[$1]}
    local args=("$work/root" --port "${ports[$i]}" --health /healthz
        --drain-delay "$drain_delay" --shutdown-grace "$shutdown_grace")
    case $mode in
        proxy) args+=(--proxy-protocol) ;;
        forwarded) args+=(--trusted-proxy 127.0.0.3) ;;
    esac
    if [ "$debug" = 1 ]; then
        args+=(-vv)
    elif [ "$mode" != plain ] && [ "$name" = a ]; then
        args+=(--log json)      # the access log shows the client address
    else
        args+=(-q)
    fi
    "$berth" "${args[@]}" > "$work/$name.$n.out" 2> "$work/$name.$n.err" &
    current[$i]=$!
    for _ in $(seq 100); do
        grep -q "serving" "$work/$name.$n.out" 2>/dev/null && return
        sleep 0.05
    done
    echo "haproxy-rolling: berth $name did not start"; cat "$work/$name.$n.err"; exit 1
}

wait_state() { # $1: server name, $2: wanted state, $3: tenths of a second
    for _ in $(seq "$3"); do
        [ "$(server_state "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

start_berth 0
start_berth 1
haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
haproxy_pid=$!
for s in a b; do
    wait_state "$s" UP 100 || { echo "haproxy-rolling: server $s never came UP"; cat "$work/haproxy.log"; exit 1; }
done
echo "haproxy-rolling: haproxy $(haproxy -v | head -1 | awk '{print $3}') on 127.0.0.1:$fe_port," \
    "berth a on ${ports[0]}, b on ${ports[1]}, client address: $mode"

# --- load -----------------------------------------------------------------------
# Requests cycle through the files, with forged X-Forwarded-For and
# Forwarded headers that berth must never believe; every status is counted
# per code.
cat > "$work/count.lua" <<'EOF'
local paths = { "/4k.bin", "/index.html", "/plaintext", "/4k.bin", "/64k.bin" }
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {}; n = 0 end
function request()
    n = n + 1
    return wrk.format("GET", paths[n % #paths + 1], {
        ["X-Forwarded-For"] = "203.0.113.9", ["Forwarded"] = "for=198.51.100.7" })
end
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        for code, count in pairs(t:get("statuses")) do
            total[code] = (total[code] or 0) + count
        end
    end
    local codes = {}
    for code in pairs(total) do table.insert(codes, code) end
    table.sort(codes)
    for _, code in ipairs(codes) do io.write(string.format("status %d: %d\n", code, total[code])) end
end
EOF
wrk -t2 -c"$connections" -d"${duration}s" --timeout 5s -s "$work/count.lua" \
    "http://127.0.0.1:$fe_port/" > "$work/wrk.out" 2>&1 &
load=$!
start=$(date +%s.%N)
elapsed() { printf '%5.1f s' "$(echo "$(date +%s.%N) - $start" | bc)"; }

# --- restarts -------------------------------------------------------------------
failed=0
sleep 2
for round in 1 2; do
    for i in 0 1; do
        name=${names[$i]}
        echo "haproxy-rolling: $(elapsed) round $round: SIGTERM to berth $name (pid ${current[$i]})"
        kill -TERM "${current[$i]}"
        code=0
        wait "${current[$i]}" || code=$?
        state=$(server_state "$name")
        echo "haproxy-rolling: $(elapsed)   berth $name exited $code; haproxy sees it $state"
        [ "$code" = 0 ] || failed=1
        if [ "$state" != DOWN ]; then
            # Then the drain delay is too short for the checks, and the test
            # would not be testing the drain.
            echo "haproxy-rolling: berth $name exited before haproxy marked it DOWN"; failed=1
        fi
        current[$i]=""
        restarts[$i]=$((restarts[$i] + 1))
        start_berth "$i"
        if ! wait_state "$name" UP 100; then
            echo "haproxy-rolling: server $name did not come back UP"; failed=1
        fi
        echo "haproxy-rolling: $(elapsed)   berth $name restarted (pid ${current[$i]}), UP"
    done
done
if ! kill -0 "$load" 2>/dev/null; then
    echo "haproxy-rolling: the load ended before the restarts did: use more SECONDS"
    failed=1
fi
wait "$load" || true
load=""
cat "$work/wrk.out"

# --- results --------------------------------------------------------------------
requests=$(grep -oE "^ +[0-9]+ requests in" "$work/wrk.out" | grep -oE "[0-9]+" | head -1)
sock=$(grep -oE "Socket errors: connect [0-9]+, read [0-9]+, write [0-9]+, timeout [0-9]+" "$work/wrk.out" || true)
read -r connect_e read_e write_e timeout_e <<< "$(echo "${sock:-0 0 0 0}" | grep -oE "[0-9]+" | paste -sd' ')"
non2xx=$(grep -oE "Non-2xx or 3xx responses: [0-9]+" "$work/wrk.out" | grep -oE "[0-9]+$" || true)
non2xx=${non2xx:-0}
errors=$((connect_e + read_e + write_e + timeout_e))
echo "haproxy-rolling: restarts: berth a ${restarts[0]}, berth b ${restarts[1]}"
echo "haproxy-rolling: ${requests:-0} requests, $non2xx non-2xx/3xx responses," \
    "socket errors: connect $connect_e, read $read_e, write $write_e, timeout $timeout_e"
# The log holds only abnormal sessions (dontlog-normal) and state changes.
# Retried or redispatched requests that then succeeded are logged with a
# retry count (`+1`: redispatched) and are counted, not failures; wrk's
# connectivity probe (a connection closed before any request: CR--
# <BADREQ>) is ignored; anything else is shown.
events=$(grep -vE "^\[NOTICE\]|^\[WARNING\].*(is UP|is DOWN)|^Server berth/[ab] is (UP|DOWN)|CR-- .*\"<BADREQ>\"" \
    "$work/haproxy.log" || true)
retried=$(echo "$events" | grep -cE ' 200 .* ---- [0-9]+/[0-9]+/[0-9]+/[0-9]+/\+?[1-9][0-9]* ' || true)
others=$(echo "$events" | grep -vE ' 200 .* ---- [0-9]+/[0-9]+/[0-9]+/[0-9]+/\+?[1-9][0-9]* ' | grep . || true)
echo "haproxy-rolling: haproxy retried $retried requests (connection failures; succeeded on a retry)"
if [ -n "$others" ]; then
    echo "haproxy-rolling: haproxy logged $(echo "$others" | wc -l) other events (first 20):"
    echo "$others" | head -20
fi

if [ "$mode" != plain ] && [ "$debug" != 1 ]; then
    # Requests name the client (127.0.0.1) in the PROXY header or in what
    # HAProxy appended to X-Forwarded-For; health checks name none, so berth
    # logs the TCP peer for them (127.0.0.3).
    cat "$work"/a.*.out | grep '^{' > "$work/a.access.json" || true
    total=$(grep -vc '"target":"/healthz"' "$work/a.access.json" || true)
    from_client=$(grep -v '"target":"/healthz"' "$work/a.access.json" | grep -c '"remote":"127.0.0.1"' || true)
    checks=$(grep -c '"target":"/healthz"' "$work/a.access.json" || true)
    checks_local=$(grep '"target":"/healthz"' "$work/a.access.json" | grep -c '"remote":"127.0.0.3"' || true)
    echo "haproxy-rolling: berth a access log: $total requests, $from_client from 127.0.0.1 (the client);" \
        "$checks health checks, $checks_local from 127.0.0.3 (the TCP peer)"
    grep -v -m1 '"target":"/healthz"' "$work/a.access.json" || true
    grep -m1 '"target":"/healthz"' "$work/a.access.json" || true
    if [ "$total" = 0 ] || [ "$from_client" != "$total" ] || [ "$checks_local" != "$checks" ]; then failed=1; fi
fi

[ "$errors" = 0 ] && [ "$non2xx" = 0 ] && [ "$failed" = 0 ]
