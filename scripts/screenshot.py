"""Take docs/screenshot.png: the web chat answering "What does the BLA want?" on the shipped corpus.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png]

Starts `qa-bot serve` on a free loopback port (building ./index if it is missing), drives Debian's
Chromium with Playwright, and saves a screenshot of the page.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "qa_bot.app.cli", "serve", "--build", "--port", str(port)], cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(480):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_selector("#qa-input textarea", timeout=60_000)
            page.fill("#qa-input textarea", "What does the BLA want?")
            page.click("#qa-send")
            page.wait_for_selector("#qa-sources mark", timeout=60_000)
            page.wait_for_timeout(500)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
        print(f"wrote {args.out}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
