"""The package version, in one place: ``qa_bot.__version__``, the index manifest and ``qa-bot
--version`` read it, and pyproject.toml takes it from here."""

__version__ = "0.1.0"
