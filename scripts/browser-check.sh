#!/usr/bin/env bash
# Loads a small site and a directory listing served by berth in headless
# Chromium, and checks that the page rendered and that every request the
# browser made succeeded.
#
#   scripts/browser-check.sh            # screenshot to docs/listing.png
#   SCREENSHOT=/tmp/x.png scripts/browser-check.sh
#
# What it does:
#  1. installs Debian's `chromium` if it is missing (needs root and apt-get);
#  2. builds berth (`cargo build --release`);
#  3. writes a site into a temporary directory: index.html with a CSS file,
#     a script that writes into the DOM, a PNG image and a WAV file in an
#     <audio preload="auto"> element (so the browser asks for a Range), and a
#     files/ directory without an index file;
#  4. starts `berth --port 0 --listing --log json` on it;
#  5. (a) dumps the DOM of index.html after the page settled and checks that
#     the script ran, the stylesheet applied, the image decoded (its
#     naturalWidth) and the audio's metadata loaded;
#     (b) dumps the DOM of /files/ and checks the listing, then screenshots
#     it (1000x600) to $SCREENSHOT;
#  6. stops berth and reads its JSON access log: every request must be
#     200, 206 or 304, every asset must have been requested, and there
#     should be a 206 for the WAV (a warning, not a failure, if Chromium
#     fetched it without a Range);
#  7. starts `berth --tls-self-signed` on the same site and loads it over
#     HTTPS: the page and every asset must come over HTTP/2 (the
#     `nextHopProtocol` of the navigation and resource timing entries is
#     `h2`), and the access log must say `HTTP/2.0` for each request;
#  8. starts `berth --tls-self-signed --http3` and loads the site with QUIC
#     forced on for its origin: the page and every asset must come over
#     HTTP/3 (`nextHopProtocol` `h3`), and the access log must say
#     `HTTP/3.0` for each request. Chromium accepts a self-signed
#     certificate over QUIC only when it is pinned by the hash of its
#     public key (`--ignore-certificate-errors-spki-list`), which openssl
#     computes from the PEM berth writes.
#  9. starts `berth --listing --upload --archives` and, through the
#     DevTools protocol (scripts/browser-upload.py), uploads a file with
#     the listing's form and downloads /files/ as a zip with its link:
#     the file is stored byte for byte, and `unzip` gives back every file.
#
# Exits non-zero on any failure. Everything it starts (berth, Chromium and
# its helpers) runs in process groups it kills on exit; the temporary
# directory is removed.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
screenshot=${SCREENSHOT:-$repo/docs/listing.png}

log() { printf 'browser-check: %s\n' "$*" >&2; }
fail() {
    log "FAIL: $*"
    exit 1
}

# ---- cleanup ---------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-browser.XXXXXX")
berth_pid=
chrome_pgids=()

cleanup() {
    local status=$?
    if [[ -n $berth_pid ]] && kill -0 "$berth_pid" 2>/dev/null; then
        kill -TERM "$berth_pid" 2>/dev/null || true
        wait "$berth_pid" 2>/dev/null || true
    fi
    for pgid in "${chrome_pgids[@]}"; do
        kill -KILL -- "-$pgid" 2>/dev/null || true
    done
    [[ -n ${KEEP_WORK:-} ]] && log "kept $work" || rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. chromium -------------------------------------------------------------

chromium_bin=
for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null 2>&1; then
        chromium_bin=$(command -v "$candidate")
        break
    fi
done
if [[ -z $chromium_bin ]]; then
    [[ $(id -u) -eq 0 ]] || fail "chromium is not installed (apt-get install -y chromium, as root)"
    command -v apt-get >/dev/null || fail "chromium is not installed and there is no apt-get"
    log "installing chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y chromium >"$work/apt.log" 2>&1; then
        apt-get update >>"$work/apt.log" 2>&1 || true
        apt-get install -y chromium >>"$work/apt.log" 2>&1 ||
            { cat "$work/apt.log" >&2; fail "apt-get install chromium failed"; }
    fi
    chromium_bin=$(command -v chromium) || fail "chromium still missing after apt-get"
fi
log "using $("$chromium_bin" --version 2>/dev/null | head -n1)"

# ---- 2. berth ----------------------------------------------------------------

log "cargo build --release"
cargo build --release --quiet --bin berth
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
berth_bin=$target_dir/release/berth
[[ -x $berth_bin ]] || fail "no binary at $berth_bin"

# ---- 3. the site -------------------------------------------------------------

site=$work/site
mkdir -p "$site/files/nested dir"
python3 - "$site" <<'PY'
import math, struct, sys, wave, zlib
from pathlib import Path

site = Path(sys.argv[1])

def png(width, height, pixel):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))

(site / "image.png").write_bytes(
    png(64, 48, lambda x, y: (x * 4, y * 5, 160)))

# 2 s of a 440 Hz tone, 22.05 kHz mono 16-bit: large enough (88 KB) that
# the media stack fetches it by ranges.
rate = 22050
with wave.open(str(site / "tone.wav"), "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(2 * rate)))

(site / "style.css").write_text(encoding="utf-8", data="""\
body { font-family: sans-serif; margin: 2rem; }
#styled { color: rgb(12, 34, 56); }
""")

(site / "app.js").write_text(encoding="utf-8", data="""\
"use strict";
const out = (key, value) => {
  const li = document.createElement("li");
  li.id = key;
  li.textContent = key + "=" + value;
  document.getElementById("report").append(li);
};
out("JS", "ran");
const finish = () => {
  const img = document.getElementById("img");
  out("IMG_WIDTH", img.complete ? img.naturalWidth : "pending");
  out("CSS_COLOR", getComputedStyle(document.getElementById("styled")).color);
};
const audio = document.getElementById("audio");
const audioDone = new Promise((resolve) => {
  if (audio.readyState >= 1) return resolve("ready");
  audio.addEventListener("loadedmetadata", () => resolve("ready"));
  audio.addEventListener("error", () => resolve("error " + (audio.error && audio.error.code)));
  setTimeout(() => resolve("timeout"), 4000);
});
window.addEventListener("load", () => {
  finish();
  audioDone.then((how) => {
    out("AUDIO", how + " duration=" + Math.round(audio.duration || 0));
    // The protocol of the page and of each asset (HTTP/2 over HTTPS).
    const entries = performance.getEntriesByType("navigation")
      .concat(performance.getEntriesByType("resource"));
    out("PROTOCOLS", entries.map((e) => e.nextHopProtocol || "?").join(","));
    out("RESOURCES", performance.getEntriesByType("resource").length);
    out("DONE", "yes");
  });
});
""")

(site / "index.html").write_text(encoding="utf-8", data="""\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>berth browser check</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body>
<h1 id="styled">berth browser check</h1>
<img id="img" src="image.png" width="64" height="48" alt="gradient">
<audio id="audio" src="tone.wav" preload="auto" controls></audio>
<ul id="report"></ul>
</body>
</html>
""")

files = site / "files"
(files / "README.txt").write_text(encoding="utf-8", data="A directory listing rendered by berth.\n")
(files / "report 2024.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * 180_000)
(files / "café ünïcode.txt").write_text(encoding="utf-8", data="UTF-8 names work.\n")
(files / "a&b <tag>.html").write_text(encoding="utf-8", data="escaped\n")
(files / "data.json").write_text(encoding="utf-8", data='{"ok": true}\n')
(files / "image.png").write_bytes((site / "image.png").read_bytes())
(files / ".hidden").write_text(encoding="utf-8", data="not listed\n")
(files / "nested dir" / "inner.txt").write_text(encoding="utf-8", data="inner\n")
(files / "assets").mkdir()
PY

# ---- 4. berth ----------------------------------------------------------------

access_log=$work/access.log
setsid "$berth_bin" --port 0 --listing --log json "$site" >"$access_log" 2>"$work/berth.err" &
berth_pid=$!
base=
for _ in $(seq 100); do
    base=$(grep -o -m1 'http://[0-9.:]*' "$access_log" 2>/dev/null || true)
    [[ -n $base ]] && break
    kill -0 "$berth_pid" 2>/dev/null || { cat "$work/berth.err" >&2; fail "berth exited"; }
    sleep 0.05
done
[[ -n $base ]] || fail "berth did not print its address"
log "berth serving $site on $base"

# ---- 5. chromium runs --------------------------------------------------------

# Runs headless Chromium with a fresh profile in its own process group;
# output on stdout, the browser's own logging in $work/chromium.err.
chrome() {
    local profile quic=--disable-quic
    if [[ ${1:-} == --quic ]]; then
        quic=--enable-quic
        shift
    fi
    profile=$(mktemp -d "$work/profile.XXXXXX")
    setsid timeout 90 "$chromium_bin" --headless --no-sandbox --disable-gpu \
        "$quic" --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --disable-breakpad \
        --disable-dev-shm-usage --no-default-browser-check --mute-audio \
        --autoplay-policy=no-user-gesture-required \
        --user-data-dir="$profile" "$@" 2>>"$work/chromium.err" &
    local pid=$!
    chrome_pgids+=("$pid")
    local status=0
    wait "$pid" || status=$?
    # Helpers (zygote, crashpad) left in the group go too.
    kill -KILL -- "-$pid" 2>/dev/null || true
    return "$status"
}

log "(a) rendering $base/"
# Not in $(...): chrome must run in this shell so cleanup knows its group.
chrome --virtual-time-budget=15000 --dump-dom "$base/" >"$work/index.dom" ||
    { tail -n 20 "$work/chromium.err" >&2; fail "chromium --dump-dom failed"; }
dom=$(<"$work/index.dom")
report=$(grep -o 'id="[A-Z_]*">[^<]*' <<<"$dom" | sed 's/^id="[A-Z_]*">//' || true)
printf '%s\n' "$report" | sed 's/^/    /' >&2
grep -qx 'JS=ran' <<<"$report" || fail "the script did not run"
grep -qx 'IMG_WIDTH=64' <<<"$report" || fail "the image did not load (naturalWidth != 64)"
grep -qx 'CSS_COLOR=rgb(12, 34, 56)' <<<"$report" || fail "the stylesheet did not apply"
grep -qx 'DONE=yes' <<<"$report" || fail "the page did not finish its checks"
if ! grep -q '^AUDIO=ready duration=2$' <<<"$report"; then
    fail "the audio did not load: $(grep '^AUDIO=' <<<"$report")"
fi

log "(b) listing $base/files/"
chrome --dump-dom "$base/files/" >"$work/listing.dom" ||
    fail "chromium --dump-dom of the listing failed"
listing=$(<"$work/listing.dom")
for name in 'README.txt' 'report 2024.pdf' 'café ünïcode.txt' 'a&amp;b &lt;tag&gt;.html' \
    'nested dir/' 'assets/' '../'; do
    grep -qF -- "$name" <<<"$listing" || fail "listing lacks $name"
done
grep -qF '.hidden' <<<"$listing" && fail "listing shows .hidden"
grep -qF '<tag>' <<<"$listing" && fail "listing did not escape a name"

mkdir -p "$(dirname "$screenshot")"
rm -f "$screenshot"
chrome --hide-scrollbars --window-size=1000,600 \
    --screenshot="$screenshot" "$base/files/" >/dev/null ||
    fail "chromium --screenshot failed"
size=$(python3 - "$screenshot" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
print(f"{w}x{h}")
PY
) || fail "no screenshot at $screenshot"
[[ $size == 1000x600 ]] || fail "screenshot is $size, not 1000x600"
log "screenshot: $screenshot ($size, $(stat -c %s "$screenshot") bytes)"

# ---- 6. the access log -------------------------------------------------------

kill -TERM "$berth_pid"
wait "$berth_pid" || true
berth_pid=

log "access log:"
python3 - "$access_log" <<'PY'
import json, sys

records = []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if line.startswith("{"):
        records.append(json.loads(line))
for r in records:
    print(f"    {r['status']} {r['method']} {r['target']} {r['bytes']} B "
          f"{r['duration_ms']:.1f} ms", file=sys.stderr)

problems = [r for r in records if r["status"] not in (200, 206, 304)]
for r in problems:
    print(f"browser-check: FAIL: {r['method']} {r['target']} -> {r['status']}",
          file=sys.stderr)

paths = {r["target"].split("?")[0] for r in records}
missing = [p for p in ("/", "/style.css", "/app.js", "/image.png", "/tone.wav", "/files/")
           if p not in paths]
for p in missing:
    print(f"browser-check: FAIL: {p} was never requested", file=sys.stderr)

ranged = [r for r in records if r["target"] == "/tone.wav" and r["status"] == 206]
if ranged:
    print(f"browser-check: {len(ranged)} ranged (206) response(s) for /tone.wav",
          file=sys.stderr)
else:
    print("browser-check: WARNING: Chromium fetched /tone.wav without a Range "
          "(no 206 in the log)", file=sys.stderr)
sys.exit(1 if problems or missing or not records else 0)
PY

# ---- 7. HTTPS: HTTP/2 ---------------------------------------------------------

tls_log=$work/access-tls.log
setsid "$berth_bin" --port 0 --tls-self-signed --log json "$site" >"$tls_log" 2>"$work/berth-tls.err" &
berth_pid=$!
tls_base=
for _ in $(seq 100); do
    tls_base=$(grep -o -m1 'https://[^ ]*:[0-9]*' "$tls_log" 2>/dev/null || true)
    [[ -n $tls_base ]] && break
    kill -0 "$berth_pid" 2>/dev/null || { cat "$work/berth-tls.err" >&2; fail "berth (TLS) exited"; }
    sleep 0.05
done
[[ -n $tls_base ]] || fail "berth (TLS) did not print its address"
tls_port=${tls_base##*:}
log "(c) rendering https://localhost:$tls_port/ (self-signed, HTTP/2)"
chrome --ignore-certificate-errors --virtual-time-budget=15000 --dump-dom \
    "https://localhost:$tls_port/" >"$work/index-tls.dom" ||
    { tail -n 20 "$work/chromium.err" >&2; fail "chromium --dump-dom over HTTPS failed"; }
tls_report=$(grep -o 'id="[A-Z_]*">[^<]*' "$work/index-tls.dom" | sed 's/^id="[A-Z_]*">//' || true)
printf '%s\n' "$tls_report" | sed 's/^/    /' >&2
grep -qx 'DONE=yes' <<<"$tls_report" || fail "the page did not finish its checks over HTTPS"
protocols=$(sed -n 's/^PROTOCOLS=//p' <<<"$tls_report")
[[ -n $protocols ]] || fail "no protocols reported"
resources=$(sed -n 's/^RESOURCES=//p' <<<"$tls_report")
[[ ${resources:-0} -ge 3 ]] || fail "only ${resources:-0} resources timed over HTTPS"
for p in ${protocols//,/ }; do
    [[ $p == h2 ]] || fail "a request over HTTPS used $p, not h2 ($protocols)"
done
log "every request over HTTPS used h2 ($protocols)"

kill -TERM "$berth_pid"
wait "$berth_pid" || true
berth_pid=
python3 - "$tls_log" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.startswith("{")]
bad = [r for r in records if r["version"] != "HTTP/2.0" or r["status"] not in (200, 206, 304)]
for r in bad:
    print(f"browser-check: FAIL: {r['version']} {r['method']} {r['target']} -> {r['status']}",
          file=sys.stderr)
print(f"browser-check: {len(records)} requests over HTTPS, all HTTP/2.0"
      if records and not bad else "", file=sys.stderr)
sys.exit(1 if bad or not records else 0)
PY

# ---- 8. HTTPS: HTTP/3 ---------------------------------------------------------

command -v openssl >/dev/null || fail "openssl is needed to pin the certificate for QUIC"
h3_log=$work/access-h3.log
setsid "$berth_bin" --port 0 --tls-self-signed --tls-self-signed-pem "$work/h3-cert.pem" \
    --http3 --log json "$site" >"$h3_log" 2>"$work/berth-h3.err" &
berth_pid=$!
h3_base=
for _ in $(seq 100); do
    h3_base=$(grep -o -m1 'https://[^ ]*:[0-9]*' "$h3_log" 2>/dev/null || true)
    [[ -n $h3_base && -s $work/h3-cert.pem ]] && break
    kill -0 "$berth_pid" 2>/dev/null || { cat "$work/berth-h3.err" >&2; fail "berth (HTTP/3) exited"; }
    sleep 0.05
done
[[ -n $h3_base ]] || fail "berth (HTTP/3) did not print its address"
grep -q '^berth: HTTP/3 (QUIC) on udp ' "$h3_log" || fail "berth did not say it serves HTTP/3"
h3_port=${h3_base##*:}
spki=$(openssl x509 -in "$work/h3-cert.pem" -pubkey -noout |
    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
log "(d) rendering https://localhost:$h3_port/ over QUIC (SPKI $spki)"
# berth listens on 127.0.0.1: Chromium would send its forced QUIC to
# localhost's first address, ::1, and fail on the ICMP error.
chrome --quic --origin-to-force-quic-on="localhost:$h3_port" \
    --host-resolver-rules="MAP localhost 127.0.0.1" \
    --ignore-certificate-errors-spki-list="$spki" --virtual-time-budget=15000 \
    --dump-dom "https://localhost:$h3_port/" >"$work/index-h3.dom" ||
    { tail -n 20 "$work/chromium.err" >&2; fail "chromium --dump-dom over HTTP/3 failed"; }
h3_report=$(grep -o 'id="[A-Z_]*">[^<]*' "$work/index-h3.dom" | sed 's/^id="[A-Z_]*">//' || true)
printf '%s\n' "$h3_report" | sed 's/^/    /' >&2
grep -qx 'DONE=yes' <<<"$h3_report" || fail "the page did not finish its checks over HTTP/3"
grep -qx 'IMG_WIDTH=64' <<<"$h3_report" || fail "the image did not load over HTTP/3"
protocols=$(sed -n 's/^PROTOCOLS=//p' <<<"$h3_report")
[[ -n $protocols ]] || fail "no protocols reported over HTTP/3"
for p in ${protocols//,/ }; do
    [[ $p == h3 ]] || fail "a request with QUIC forced on used $p, not h3 ($protocols)"
done
log "every request with QUIC forced on used h3 ($protocols)"

kill -TERM "$berth_pid"
wait "$berth_pid" || true
berth_pid=
python3 - "$h3_log" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.startswith("{")]
bad = [r for r in records if r["version"] != "HTTP/3.0" or r["status"] not in (200, 206, 304)]
for r in bad:
    print(f"browser-check: FAIL: {r['version']} {r['method']} {r['target']} -> {r['status']}",
          file=sys.stderr)
print(f"browser-check: {len(records)} requests over QUIC, all HTTP/3.0"
      if records and not bad else "", file=sys.stderr)
sys.exit(1 if bad or not records else 0)
PY

# ---- 9. upload and zip through the listing -----------------------------------

command -v unzip >/dev/null || fail "unzip is not installed (apt-get install -y unzip)"
drop_log=$work/access-drop.log
setsid "$berth_bin" --port 0 --listing --upload --archives --log json "$site" \
    >"$drop_log" 2>"$work/berth-drop.err" &
berth_pid=$!
drop_base=
for _ in $(seq 100); do
    drop_base=$(grep -o -m1 'http://[0-9.:]*' "$drop_log" 2>/dev/null || true)
    [[ -n $drop_base ]] && break
    kill -0 "$berth_pid" 2>/dev/null || { cat "$work/berth-drop.err" >&2; fail "berth (uploads) exited"; }
    sleep 0.05
done
[[ -n $drop_base ]] || fail "berth (uploads) did not print its address"
log "(e) uploading through $drop_base/files/ and downloading it as a zip"
# The DevTools protocol over a pipe, in its own process group (killed by
# the script itself, and by cleanup if it is interrupted).
setsid python3 "$repo/scripts/browser-upload.py" "$chromium_bin" "$drop_base" "$site" "$work" &
upload_pid=$!
chrome_pgids+=("$upload_pid")
wait "$upload_pid" || fail "the upload and zip download through the listing failed"
kill -TERM "$berth_pid"
wait "$berth_pid" || true
berth_pid=

log "OK: page rendered, listing rendered, every request succeeded, HTTPS used HTTP/2, QUIC used HTTP/3, upload and zip through the listing"
