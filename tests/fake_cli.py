"""Run the real ``qa-bot`` command line with the fake encoder, optionally pausing at a build step.

Fault tests run this as a subprocess so that they can SIGKILL a real build process, or run it
under a file-size limit, without loading the embedding model (which would only make them slower:
the model plays no part in how a build writes its files).

    python tests/fake_cli.py build --corpus C --index I

With ``QA_BOT_TEST_PAUSE=<step>`` and ``QA_BOT_TEST_MARKER=<file>`` the build creates the marker
file at that step and sleeps, so the test knows where the process is when it kills it:

- ``embedding``: after the first batch of texts is embedded;
- ``writing``: in the middle of writing the new generation (the vector store's file is written,
  the BM25 arrays and the manifest are not);
- ``publishing``: the new generation directory is complete and in place, ``CURRENT`` still names
  the old one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from conftest import FakeEncoder

import qa_bot.bot
import qa_bot.store.generations
from qa_bot.store.vectors.faiss import FaissVectorStore


def pause() -> None:
    Path(os.environ["QA_BOT_TEST_MARKER"]).write_text(str(os.getpid()))
    time.sleep(600)  # the test kills the process long before this ends


class PausingEncoder(FakeEncoder):
    def _before_batch(self, batch) -> None:
        if self.batches == 1 and os.environ.get("QA_BOT_TEST_PAUSE") == "embedding":
            pause()


def install_pause(step: str) -> None:
    if step == "writing":
        save = FaissVectorStore.save

        def save_then_pause(self, directory):
            save(self, directory)
            pause()

        FaissVectorStore.save = save_then_pause
    elif step == "publishing":
        fsync_dir = qa_bot.store.generations._fsync_dir

        def fsync_then_pause(path):
            fsync_dir(path)
            pause()  # first call: right after the generation directory is renamed into place

        qa_bot.store.generations._fsync_dir = fsync_then_pause


if __name__ == "__main__":
    qa_bot.bot.make_encoder = lambda model=None, **kwargs: PausingEncoder()
    install_pause(os.environ.get("QA_BOT_TEST_PAUSE", ""))
    from qa_bot.app.cli import main

    main(prog_name="qa-bot")
