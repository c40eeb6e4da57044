#!/usr/bin/env python3
"""Memory per idle HTTPS connection, HTTP/1.1 or HTTP/2 over TLS (any
certificate accepted): RSS of the server before and while N connections
are held, each having completed its handshake and one GET. The HTTP/3
figure to set beside it comes from `h3load ADDR PATH --idle N` (see
scripts/h3-bench.sh).

usage: scripts/tls-idle-memory.py PID PORT N h1|h2 [PATH]
"""
import asyncio, os, ssl, sys, time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"


def h2_get(path):
    block = b""
    for name, value in ((b":method", b"GET"), (b":scheme", b"https"),
                        (b":authority", b"localhost"), (b":path", path.encode())):
        block += b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    return len(block).to_bytes(3, "big") + b"\x01\x05" + (1).to_bytes(4, "big") + block


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def hold(port, proto, path, ready, stop, opening):
    await opening.acquire()
    try:
        r, w = await open_and_get(port, proto, path)
    finally:
        opening.release()
    ready.release()
    await stop.wait()
    w.close()


async def open_and_get(port, proto, path):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"] if proto == "h2" else ["http/1.1"])
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                         server_hostname="localhost")
    if proto == "h2":
        w.write(PREFACE + SETTINGS + h2_get(path))
        buf, done = b"", False
        while not done:
            chunk = await r.read(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 9:
                n = int.from_bytes(buf[:3], "big")
                if len(buf) < 9 + n:
                    break
                kind, flags = buf[3], buf[4]
                sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
                if kind == 4 and not flags & 1:
                    w.write(SETTINGS_ACK)
                if sid == 1 and kind in (0, 1) and flags & 1:
                    done = True
                buf = buf[9 + n:]
    else:
        w.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        head = await r.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await r.readexactly(length)
    return r, w


async def main():
    pid, port, n, proto = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    path = sys.argv[5] if len(sys.argv) > 5 else "/4k.bin"
    before = rss_kib(pid)
    ready, stop = asyncio.Semaphore(0), asyncio.Event()
    # 32 handshakes at a time: all at once overflow the listen backlog.
    opening = asyncio.Semaphore(32)
    tasks = [asyncio.create_task(hold(port, proto, path, ready, stop, opening))
             for _ in range(n)]
    for _ in range(n):
        await asyncio.wait_for(ready.acquire(), 60)
    time.sleep(1.0)
    held = rss_kib(pid)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(f"{n} idle {proto} connections over TLS: {(held - before) / n:.2f} KiB each "
          f"(RSS {before / 1024:.1f} -> {held / 1024:.1f} MiB)")


asyncio.run(main())
