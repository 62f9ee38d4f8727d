"""qa_bot: answers questions about a curated news corpus with verbatim, cited quotes.

    >>> from qa_bot import QABot
    >>> bot = QABot.load("index")
    >>> answer = bot.ask("What does the BLA want?")
    >>> answer.quotes[0].text, answer.quotes[0].article.title

Heavy libraries (torch, sentence-transformers, faiss) load lazily, so importing is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    ArticleError,
    BuildInProgressError,
    CorpusError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
    InvalidQuestionError,
    ModelLoadError,
    QABotError,
)
from .records import Answer, Article, ArticleFilter, Citation, Quote, SearchHit
from .version import __version__

if TYPE_CHECKING:
    from .bot import QABot

__all__ = [
    "QABot",
    "Answer",
    "Article",
    "ArticleFilter",
    "Citation",
    "Quote",
    "SearchHit",
    "QABotError",
    "ArticleError",
    "BuildInProgressError",
    "CorpusError",
    "IndexCorruptError",
    "IndexIncompatibleError",
    "IndexMissingError",
    "InvalidQuestionError",
    "ModelLoadError",
    "__version__",
]


def __getattr__(name: str):
    # QABot pulls in faiss and numpy; import it only when asked for.
    if name == "QABot":
        from .bot import QABot

        return QABot
    raise AttributeError(f"module 'qa_bot' has no attribute {name!r}")
