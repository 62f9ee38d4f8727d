"""Exceptions raised by qa_bot.

Library code raises; only the command line turns these into messages and exit codes. Every
message names the offending input and says how to fix it.
"""

from __future__ import annotations


class QABotError(Exception):
    """Base class for every error qa_bot raises on purpose."""


class InvalidQuestionError(QABotError, ValueError):
    """The question is empty, whitespace only, too long or otherwise unusable."""


class ArticleError(QABotError):
    """One article source could not be turned into a corpus article.

    Attributes:
        source: the file, URL or ``file:line`` that failed.
        transient: the failure may not happen again (a timeout, an unreachable server, HTTP 429 or
            5xx): worth trying again later, where a missing or oversize page is not.
    """

    def __init__(self, source: str, problem: str, *, transient: bool = False) -> None:
        self.source = source
        self.problem = problem
        self.transient = transient
        super().__init__(f"{source}: {problem}")


class CorpusError(QABotError):
    """The corpus directory is missing or holds files that cannot be read."""


class IndexMissingError(QABotError):
    """No index has been built in the given directory."""


class IndexCorruptError(QABotError):
    """An index file is truncated, garbled or missing."""


class IndexIncompatibleError(QABotError):
    """The index was built by another model or a newer format."""


class ModelLoadError(QABotError):
    """The embedding model could not be loaded."""


class BuildInProgressError(QABotError):
    """Another build holds the index lock."""


class StoreUnavailableError(QABotError):
    """The engine that holds the passage vectors (a Milvus server, a Milvus Lite file) cannot be used."""
