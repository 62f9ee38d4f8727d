"""Fetching an article page over http(s), defensively.

Only http:// and https:// are fetched, on every redirect hop too; the body is streamed with a
size cap and an overall deadline; a page that is not HTML is refused. Errors are ArticleErrors
naming the URL and saying what to do instead (usually: save the page and add the .html file).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from ..errors import ArticleError

USER_AGENT = "Mozilla/5.0 (compatible; qa-bot/0.1; news question answering)"
MAX_REDIRECTS = 10
# The largest page fetched or HTML/text file read: a news page with its scripts and styles is
# rarely above 2 MB, and trafilatura takes tens of seconds on pages far beyond this.
MAX_PAGE_BYTES = 5_000_000
URL_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml",
              *_HTML_TYPES)  # what servers send feeds as (some as HTML)


def fetch_url(url: str, *, timeout: float = 20.0, max_bytes: int = MAX_PAGE_BYTES,
              accept: tuple[str, ...] = _HTML_TYPES) -> tuple[str, str]:
    """Download an HTML page (or another of the content types ``accept`` lists), following
    redirects only to http(s) and refusing large bodies.

    Args:
        url: an ``http://`` or ``https://`` address.
        timeout: seconds allowed for connecting and for each read; the whole download must
            finish within three times this.
        max_bytes: the largest body accepted; reading stops as soon as it is exceeded.

    Returns:
        ``(final_url, html)`` after redirects.

    Raises:
        ArticleError: bad scheme, unreachable host, HTTP status >= 400, non-HTML or too large.
    """
    got = fetch_if_changed(url, timeout=timeout, max_bytes=max_bytes, accept=accept)
    return got.url, got.text


@dataclass(frozen=True)
class Fetched:
    """What ``fetch_if_changed`` got: the body, or ``unchanged`` (HTTP 304) and no body."""

    url: str
    text: str
    unchanged: bool = False
    etag: str = ""
    last_modified: str = ""


def fetch_if_changed(url: str, *, etag: str = "", last_modified: str = "", timeout: float = 20.0,
                     max_bytes: int = MAX_PAGE_BYTES, accept: tuple[str, ...] = _HTML_TYPES) -> Fetched:
    """``fetch_url`` as a conditional request: with the ``etag`` and ``last_modified`` a previous
    answer gave, a server whose resource has not changed answers 304 and sends no body."""
    import httpx  # lazy: only needed for URLs

    check_scheme(url, url)
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current, deadline = url, time.monotonic() + 3 * timeout
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
            for _ in range(MAX_REDIRECTS + 1):
                with client.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = str(response.url.join(response.headers["location"]))
                        check_scheme(current, url, redirect=True)
                        continue
                    tags = (response.headers.get("etag", ""), response.headers.get("last-modified", ""))
                    if response.status_code == 304:
                        return Fetched(current, "", True, tags[0] or etag, tags[1] or last_modified)
                    return Fetched(current, _read_page(response, url, max_bytes, deadline, accept), False, *tags)
    except httpx.TimeoutException:
        raise ArticleError(url, f"timed out after {timeout:g} s; try again later or save the page as .html",
                           transient=True) from None
    except httpx.HTTPError as exc:
        raise ArticleError(url, f"cannot reach the URL ({type(exc).__name__}: {exc}); check the address "
                                "and your connection, or save the page as .html", transient=True) from None
    raise ArticleError(url, f"more than {MAX_REDIRECTS} redirects; open it in a browser and save the page as .html")


def check_scheme(target: str, where: str, *, redirect: bool = False) -> None:
    match = URL_SCHEME_RE.match(target)
    scheme = match.group(1).lower() if match else ""
    if scheme not in ("http", "https"):
        via = f"redirects to {target!r}, which is" if redirect else "is"
        raise ArticleError(where, f"{via} not an http(s) URL; only http:// and https:// pages can be fetched")


def _read_page(response: Any, where: str, max_bytes: int, deadline: float,
               accept: tuple[str, ...] = _HTML_TYPES) -> str:
    if response.status_code >= 400:
        raise ArticleError(where, f"HTTP {response.status_code} {response.reason_phrase}; check the URL, "
                                  "or save the page from your browser and add the .html file",
                           transient=response.status_code == 429 or response.status_code >= 500)
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in accept:
        if accept != _HTML_TYPES:
            raise ArticleError(where, f"content type {kind!r} is not an RSS or Atom feed; check the URL")
        raise ArticleError(where, f"content type {kind!r} is not an HTML page; give the address of the article page")
    too_big = ArticleError(where, f"the page is larger than {max_bytes:,} bytes; refusing to download it")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        if time.monotonic() > deadline:
            raise ArticleError(where, "the download is too slow; try again later or save the page as .html",
                               transient=True)
        chunks.append(chunk)
    data = b"".join(chunks)
    encoding = response.charset_encoding
    if not encoding:
        declared_meta = META_CHARSET_RE.search(data[:4096])
        encoding = declared_meta.group(1).decode("ascii") if declared_meta else response.encoding or "utf-8"
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")
