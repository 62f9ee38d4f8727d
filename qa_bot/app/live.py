"""Serving the newest index without a restart: ``LiveBot`` swaps in each generation ``qa-bot build``
publishes, while requests already running finish on the one they started with; ``PendingBot``
waits for the first one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import QABotError
from ..store.files import load_index
from ..store.generations import live_name

if TYPE_CHECKING:
    from ..bot import QABot

log = logging.getLogger(__name__)
SERVED_POLL = 5.0  # seconds between two reads of a served index's alias (a round trip each)


class LiveBot:
    """The bot the app answers with, reloaded when ``qa-bot build`` publishes a new index.

    ``current()`` is called per request. It reads the index's ``CURRENT`` pointer, which a build
    replaces atomically as its last step, and when the pointer names another generation it loads
    that one with the same encoder (the model is not reloaded). One thread loads while the others
    keep answering from the old bot; a generation that fails to load is remembered and skipped.
    For an index served from Milvus the pointer is the location's alias and its current summary
    (``store/served.py``), read at most every ``SERVED_POLL`` seconds since each read costs round trips.
    """

    def __init__(self, bot: QABot):
        self._bot = bot
        self._index_dir = bot.data.path.parent if bot.data.path is not None else None
        self._loaded = bot.data.path.name if bot.data.path is not None else ""
        if bot.served is not None:  # a served index: its pointer, read at most every SERVED_POLL seconds
            self._loaded = f"{bot.served.collection}#{bot.served.version}"
        self._polled = time.monotonic()
        self._failed: set[str] = set()
        self._lock = threading.Lock()

    def current(self) -> QABot:
        """The bot for the live index generation (the previous one while a reload is running)."""
        name = self._pointer()
        if name and name != self._loaded and name not in self._failed and self._lock.acquire(blocking=False):
            try:
                self._reload(name)
            finally:
                self._lock.release()
        return self._bot

    def _pointer(self) -> str:
        # A missing or unreadable pointer gives "": keep serving what is loaded.
        served = self._bot.served
        if served is not None:
            if time.monotonic() - self._polled < SERVED_POLL:
                return ""
            self._polled = time.monotonic()
            try:
                return served.pointer(served.location)
            except QABotError:
                return ""
        return live_name(self._index_dir) if self._index_dir is not None else ""

    def _reload(self, name: str) -> None:
        try:
            if self._bot.served is not None:
                from ..store.served import ServedIndex

                served = ServedIndex.open_collection(self._bot.served.location, name.split("#")[0])
                fresh, loaded = self._bot.with_served(served), f"{served.collection}#{served.version}"
            else:
                data = load_index(self._index_dir)
                fresh, loaded = self._bot.with_data(data), data.path.name
        except QABotError as exc:
            self._failed.add(name)
            log.warning("kept serving index %s: the new index %s does not load: %s", self._loaded, name, exc)
            return
        self._bot, self._loaded = fresh, loaded
        log.info("now serving index %s", self._loaded)


class PendingBot:
    """The bot of an index that may not be built yet (``qa-bot serve --api-only`` before the first
    ``qa-bot build``): calling it raises IndexMissingError (the API answers 503) until the index
    appears, then loads it once and serves it as a LiveBot would, newer generations included."""

    def __init__(self, load: Callable[[], QABot]):
        self._load = load
        self._live: LiveBot | None = None
        self._lock = threading.Lock()

    def __call__(self) -> QABot:
        if self._live is None:
            with self._lock:
                if self._live is None:
                    self._live = LiveBot(self._load())  # IndexMissingError until a build
        return self._live.current()
