#!/usr/bin/env python3
"""Drives headless Chromium through the DevTools protocol over a pipe
(`--remote-debugging-pipe`: no websocket library needed) to use berth's
listing page as a person would: upload a file through its form, then
download the folder as a zip through its link.

    browser-upload.py CHROMIUM BASE_URL SITE_DIR WORK_DIR

BASE_URL is berth started with `--listing --upload --archives` on
SITE_DIR. Checks:
  1. the listing of /files/ shows the upload form;
  2. choosing a local file in the form's file input and submitting it
     stores the file byte for byte, and the browser lands back on the
     listing (303), which now lists it;
  3. clicking the listing's zip link downloads an archive that `unzip`
     extracts into the folder's files, byte for byte (the new one too).
Exits non-zero with a message on the first failure.
"""

import json
import os
import select
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path


def fail(msg):
    print(f"browser-check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


class Chrome:
    """A headless Chromium and its DevTools pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        # Chromium reads commands on fd 3 and writes on fd 4: a shell puts
        # the pipes there (subprocess would close them after a preexec_fn).
        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-breakpad",
                "--disable-dev-shm-usage", "--no-default-browser-check",
                f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        # (Through fds 100 and 101 first: the pipes themselves may be 3 or 4.)
        os.dup2(to_chrome_r, 100)
        os.dup2(from_chrome_w, 101)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        to_chrome_r, from_chrome_w = 100, 101
        self.proc = subprocess.Popen(
            ["bash", "-c", 'exec 3<&100 4>&101 100<&- 101>&-; exec "$@"', "chrome", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(Path(profile) / "chromium.err", "wb"),
            start_new_session=True, pass_fds=(to_chrome_r, from_chrome_w),
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def close(self):
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                fail("Chromium did not answer in time")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if ready:
                chunk = os.read(self.from_chrome, 65536)
                if not chunk:
                    fail("Chromium closed its DevTools pipe")
                self.buf += chunk
        message, self.buf = self.buf.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    fail(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, name, timeout=30, where=lambda params: True):
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == name and where(event.get("params", {})):
                    return self.events.pop(i)["params"]
            self.events.append(self._read(deadline))


def main():
    binary, base, site, work = sys.argv[1:5]
    site, work = Path(site), Path(work)
    profile = tempfile.mkdtemp(dir=work, prefix="cdp-profile.")
    downloads = work / "downloads"
    downloads.mkdir()
    upload = work / "from the phone.bin"
    content = os.urandom(300_000)
    upload.write_bytes(content)

    chrome = Chrome(binary, profile)
    try:
        target = chrome.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = chrome.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        s = lambda method, params=None: chrome.send(method, params, session)
        s("Page.enable")
        chrome.send("Browser.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True})

        def load(url):
            s("Page.navigate", {"url": url})
            chrome.wait_event("Page.loadEventFired")

        def evaluate(expr):
            return s("Runtime.evaluate", {"expression": expr, "returnByValue": True}) \
                ["result"].get("value")

        # 1. The form.
        load(f"{base}/files/")
        if not evaluate("!!document.querySelector('form[enctype=\"multipart/form-data\"] "
                        "input[type=file]')"):
            fail("the listing of /files/ has no upload form")

        # 2. Upload through it.
        doc = s("DOM.getDocument")["root"]["nodeId"]
        node = s("DOM.querySelector", {
            "nodeId": doc,
            "selector": "form[enctype=\"multipart/form-data\"] input[type=file]"})["nodeId"]
        s("DOM.setFileInputFiles", {"nodeId": node, "files": [str(upload)]})
        evaluate("document.querySelector('form[enctype=\"multipart/form-data\"]')"
                 ".requestSubmit()")
        chrome.wait_event("Page.loadEventFired")
        url = evaluate("location.href")
        if url != f"{base}/files/":
            fail(f"after the upload the browser is at {url}, not the listing")
        stored = site / "files" / upload.name
        if not stored.is_file() or stored.read_bytes() != content:
            fail(f"the uploaded file is not stored byte for byte at {stored}")
        if upload.name not in evaluate("document.body.innerText"):
            fail("the listing after the upload does not show the new file")
        print(f"browser-check: uploaded {upload.name!r} ({len(content)} bytes) "
              "through the listing's form", file=sys.stderr)

        # 3. The folder as a zip, through the listing's link.
        href = evaluate("(a => a && a.href)(document.querySelector('a[href*=\"download=zip\"]'))")
        if not href:
            fail("the listing has no zip download link")
        evaluate("document.querySelector('a[href*=\"download=zip\"]').click()")
        done = chrome.wait_event(
            "Browser.downloadProgress", timeout=60,
            where=lambda p: p.get("state") in ("completed", "canceled"))
        if done["state"] != "completed":
            fail(f"the zip download was {done['state']}")
        zips = list(downloads.glob("*.zip"))
        if len(zips) != 1:
            fail(f"expected one .zip in the downloads, found {os.listdir(downloads)}")
        extracted = work / "unzipped"
        subprocess.run(["unzip", "-q", str(zips[0]), "-d", str(extracted)], check=True)
        want = {p.relative_to(site / "files"): p.read_bytes()
                for p in (site / "files").rglob("*")
                if p.is_file() and not any(part.startswith(".")
                                           for part in p.relative_to(site).parts)}
        tops = list(extracted.iterdir())
        if len(tops) != 1 or not tops[0].is_dir():
            fail(f"the zip should hold one top folder, holds {tops}")
        got = {p.relative_to(tops[0]): p.read_bytes()
               for p in tops[0].rglob("*") if p.is_file()}
        if got != want:
            fail(f"the zip's files differ: missing {sorted(map(str, want.keys() - got.keys()))}, "
                 f"extra {sorted(map(str, got.keys() - want.keys()))}, "
                 f"changed {sorted(str(k) for k in want.keys() & got.keys() if want[k] != got[k])}")
        with zipfile.ZipFile(zips[0]) as z:
            if z.testzip() is not None:
                fail("the zip's CRCs do not check")
        print(f"browser-check: downloaded {zips[0].name} through the listing's link: "
              f"{len(got)} files, byte for byte", file=sys.stderr)
    finally:
        chrome.close()


if __name__ == "__main__":
    main()
