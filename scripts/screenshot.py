"""Take the screenshots of the README and docs: the web chat on the shipped corpus, at 1366 x 768
(docs/screenshot.png: "What does the BLA want?", then "What caused the crane to fall into Mecca's
Grand Mosque?", answered from another outlet's report of 2015) and on a 390 x 844 phone
(docs/screenshot-phone.png: the same, sources unfolded).

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png] [--phone docs/screenshot-phone.png]

Starts `qa-bot serve --build` on a free loopback port, drives Debian's Chromium with Playwright,
and saves the screenshots.
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


BOT = "#qa-chat [data-testid='bot']"


def converse(page, url: str) -> None:
    """A question on the seed article, then one on a Wikinews report, as a reader would type them."""
    page.goto(url)
    page.wait_for_selector("#qa-input textarea", timeout=60_000)
    questions = ("What does the BLA want?", "What caused the crane to fall into Mecca's Grand Mosque?")
    for n, question in enumerate(questions, 1):
        page.fill("#qa-input textarea", question)
        page.click("#qa-send")
        page.wait_for_function("([s, n]) => document.querySelectorAll(s).length >= n", arg=[BOT, n], timeout=60_000)
    page.wait_for_timeout(800)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--phone", type=Path, default=ROOT / "docs" / "screenshot-phone.png")
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
            desktop = browser.new_page(viewport={"width": 1366, "height": 768})
            converse(desktop, url)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            desktop.screenshot(path=str(args.out))
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            converse(phone, url)
            phone.locator(BOT).last.locator("details.qa-inline-sources summary").click()
            phone.wait_for_timeout(300)
            phone.locator(BOT).last.scroll_into_view_if_needed()
            phone.screenshot(path=str(args.phone))
            browser.close()
        print(f"wrote {args.out} and {args.phone}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
