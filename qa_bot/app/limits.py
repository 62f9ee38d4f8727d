"""A bound on HTTP request bodies for the web app and the REST API (ASGI middleware): a question is
short, so a large body is refused with 413 before it is read into memory."""

from __future__ import annotations

import json

from ..retrieval.question import MAX_QUESTION_CHARS
from .schema import error_object

# The largest request body accepted. A question is at most 1,000 characters; the chat also
# sends its history, which stays far below this even in long conversations.
MAX_REQUEST_BYTES = 1_000_000


class RequestSizeLimit:
    """ASGI middleware: refuse HTTP request bodies larger than ``max_bytes`` with 413.

    A declared Content-Length is checked before anything is read; a body sent without one
    (chunked) is read up to the limit and then replayed to the app, so memory stays bounded.
    """

    def __init__(self, app, max_bytes: int = MAX_REQUEST_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit():
            if int(declared) > self.max_bytes:
                return await self._refuse(send)
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                return await self._refuse(send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        """413 with the REST API's error object (``api.py``): the problem and the fix."""
        message = (f"request body larger than {self.max_bytes:,} bytes; questions are limited to "
                   f"{MAX_QUESTION_CHARS:,} characters")
        text = json.dumps(error_object("too_large", message)).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(text)).encode())]})
        await send({"type": "http.response.body", "body": text})
