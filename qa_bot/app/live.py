"""Serving the newest index without a restart: ``LiveBot`` swaps in each generation ``qa-bot build``
publishes, while requests already running finish on the one they started with."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ..errors import QABotError
from ..store.files import load_index
from ..store.generations import live_name

if TYPE_CHECKING:
    from ..bot import QABot

log = logging.getLogger(__name__)


class LiveBot:
    """The bot the app answers with, reloaded when ``qa-bot build`` publishes a new index.

    ``current()`` is called per request. It reads the index's ``CURRENT`` pointer, which a build
    replaces atomically as its last step, and when the pointer names another generation it loads
    that one with the same encoder (the model is not reloaded). One thread loads while the others
    keep answering from the old bot; a generation that fails to load is remembered and skipped.
    """

    def __init__(self, bot: QABot):
        self._bot = bot
        self._index_dir = bot.data.path.parent if bot.data.path is not None else None
        self._loaded = bot.data.path.name if bot.data.path is not None else ""
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
        return live_name(self._index_dir) if self._index_dir is not None else ""

    def _reload(self, name: str) -> None:
        try:
            data = load_index(self._index_dir)
            fresh = self._bot.with_data(data)
        except QABotError as exc:
            self._failed.add(name)
            log.warning("kept serving index %s: the new index %s does not load: %s", self._loaded, name, exc)
            return
        self._bot, self._loaded = fresh, data.path.name
        log.info("now serving index %s", self._loaded)
