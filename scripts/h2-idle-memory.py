#!/usr/bin/env python3
"""Memory per idle HTTP/2 connection (h2c, prior knowledge), as the harness
measures idle HTTP/1.1 connections: RSS of a server's process tree before
and while N connections are held, each having completed the HTTP/2
handshake and one GET.

usage: scripts/h2-idle-memory.py PID PORT [N] [PATH]
PID: the server's (top) process; its children are counted too.
"""
import asyncio, os, sys, time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"


def get(path):
    # HEADERS, END_STREAM|END_HEADERS, stream 1; literal fields without
    # indexing, no Huffman.
    block = b""
    for name, value in ((b":method", b"GET"), (b":scheme", b"http"),
                        (b":authority", b"x"), (b":path", path.encode())):
        block += b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    return len(block).to_bytes(3, "big") + b"\x01\x05" + (1).to_bytes(4, "big") + block


def rss_kib(pid):
    pids = [pid]
    try:
        for line in os.popen(f"pgrep -P {pid}"):
            pids.append(int(line))
    except Exception:
        pass
    total = 0
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


async def hold(port, path, ready, stop):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(PREFACE + SETTINGS + get(path))
    await w.drain()
    # Read until the response's END_STREAM on stream 1, acking SETTINGS.
    buf = b""
    done = False
    while not done:
        chunk = await r.read(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            kind, flags, sid = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            if kind == 4 and not flags & 1:
                w.write(SETTINGS_ACK)
            if sid == 1 and kind in (0, 1) and flags & 1:
                done = True
            buf = buf[9 + n:]
    ready.release()
    await stop.wait()
    w.close()


async def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    path = sys.argv[4] if len(sys.argv) > 4 else "/4k.bin"
    before = rss_kib(pid)
    ready, stop = asyncio.Semaphore(0), asyncio.Event()
    tasks = [asyncio.create_task(hold(port, path, ready, stop)) for _ in range(n)]
    for _ in range(n):
        await asyncio.wait_for(ready.acquire(), 60)
    time.sleep(1.0)
    held = rss_kib(pid)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(f"{n} idle h2 connections: {(held - before) / n:.2f} KiB each "
          f"(RSS {before / 1024:.1f} -> {held / 1024:.1f} MiB)")


asyncio.run(main())
