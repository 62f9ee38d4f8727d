"""Shared fixtures: a deterministic fake encoder and small corpora written with the real corpus code.

The fake encoder hashes words, so texts that share words get similar vectors and retrieval in unit
tests behaves like retrieval, not like noise; it never loads a model, so these tests run in seconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from qa_bot.corpus.files import save_articles
from qa_bot.records import Article

SEED_FILE = Path(__file__).resolve().parents[1] / "corpus" / "pakistan-what-is-baloch-liberation-army-what-fuelled.md"
"""The article the project began from, in the shipped demo collection (corpus/ATTRIBUTION.md)."""


def seed_corpus(directory: Path) -> Path:
    """A corpus of the seed article alone at ``directory``, for tests about what it says."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    return directory

_WORD_RE = re.compile(r"\w+")


@lru_cache(maxsize=65536)
def _feature_vector(feature: str, dim: int) -> np.ndarray:
    """A fixed +1/-1 vector for one word or bigram, its signs taken from sha256 of the feature."""
    bits = []
    counter = 0
    while len(bits) < dim:  # 256 bits per digest; chain digests for wider vectors
        digest = hashlib.sha256(f"{counter}\x00{feature}".encode()).digest()
        bits.extend(np.unpackbits(np.frombuffer(digest, dtype=np.uint8)).tolist())
        counter += 1
    vector = np.where(np.asarray(bits[:dim]) == 1, 1.0, -1.0)
    vector.setflags(write=False)
    return vector


class FakeEncoder:
    """A deterministic stand-in for SentenceTransformerEncoder (same interface, no model).

    Each lower-cased word contributes a hashed +1/-1 vector and each word bigram half of one; the
    sum is L2-normalised. ``encoded`` counts every text encoded, ``calls`` the encode calls and
    ``texts`` keeps them all, so tests can check what an incremental build re-embedded.
    """

    def __init__(self, name: str = "fake-hash-64", dim: int = 64, *, bigrams: bool = True) -> None:
        self.name = name
        self._dim = dim
        self._bigrams = bigrams
        self.encoded = 0
        self.calls = 0
        self.batches = 0
        self.texts: list[str] = []

    @property
    def dimension(self) -> int:
        return self._dim

    def reset(self) -> None:
        self.encoded = self.calls = self.batches = 0
        self.texts = []

    def vector(self, text: str) -> np.ndarray:
        """The unit vector of one text (what ``encode`` returns for it), as float64."""
        words = _WORD_RE.findall(text.lower())
        total = np.zeros(self._dim)
        for word in words:
            total += _feature_vector(word, self._dim)
        if self._bigrams:
            for a, b in zip(words, words[1:]):
                total += 0.5 * _feature_vector(f"{a} {b}", self._dim)
        norm = np.linalg.norm(total)
        if norm == 0:  # no words (or cancelling ones): still a fixed unit vector, like a real model
            total, norm = _feature_vector("\x00empty", self._dim), np.sqrt(self._dim)
        return total / norm

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        self.calls += 1
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for lo in range(0, len(texts), batch_size):
            batch = texts[lo : lo + batch_size]
            self._before_batch(batch)
            for offset, text in enumerate(batch):
                out[lo + offset] = self.vector(text)
            self.batches += 1
            self.encoded += len(batch)
            self.texts.extend(batch)
            if progress is not None:
                progress(len(batch))
        return out

    def _before_batch(self, batch: Sequence[str]) -> None:
        """Hook for subclasses (e.g. an encoder that fails part-way)."""


class SpanFakeEncoder(FakeEncoder):
    """FakeEncoder with late chunking (``encode_with_spans``), like the real mean-pooled encoders.

    A span's vector is the fake vector of the span's own text. ``window`` plays the model's
    truncation: a span ending past that many characters of its text gets a zero row. ``spans``
    counts the spans pooled.
    """

    pools_spans = True

    def __init__(self, name: str = "fake-hash-64", dim: int = 64, *, window: int = 10**9) -> None:
        super().__init__(name, dim)
        self.window = window
        self.spans = 0

    def reset(self) -> None:
        super().reset()
        self.spans = 0

    def encode_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.encode(texts, batch_size=batch_size, progress=progress)
        rows = [
            self.vector(text[a:b]) if b <= self.window else np.zeros(self._dim)
            for text, text_spans in zip(texts, spans)
            for a, b in text_spans
        ]
        self.spans += len(rows)
        return vectors, np.asarray(rows, dtype=np.float32).reshape(-1, self._dim)

    # Token states, as the real encoders give them for MaxSim: one "token" per word, its state the
    # word's fixed unit vector, its id a hash of the word.

    def word_tokens(self, text: str, a: int = 0, b: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The token states and ids of the words of ``text[a:b]`` (what a span holds)."""
        b = len(text) if b is None else b
        words = [m.group(0).lower() for m in _WORD_RE.finditer(text) if m.start() >= a and m.end() <= b]
        states = np.array([_feature_vector(w, self._dim) / np.sqrt(self._dim) for w in words], np.float32)
        return states.reshape(-1, self._dim), np.array([word_id(w) for w in words], np.int32)

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> tuple[np.ndarray, list]:
        return self.encode(texts, batch_size=batch_size), [self.word_tokens(t) for t in texts]

    def encode_with_span_tokens(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, list]:
        vectors, rows = self.encode_with_spans(texts, spans, batch_size=batch_size, progress=progress)
        states = [
            self.word_tokens(text, a, b) if b <= self.window else self.word_tokens("")
            for text, text_spans in zip(texts, spans)
            for a, b in text_spans
        ]
        return vectors, rows, states


def word_id(word: str) -> int:
    """The fake vocabulary id of a lower-cased word."""
    return int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:4], "little") % 30_000


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


# ---------------------------------------------------------------------------- corpora


def make_corpus(tmp_path: Path, articles: dict[str, tuple[str, str]], *, subdir: str = "corpus") -> Path:
    """Write ``{id: (title, body)}`` as corpus files under ``tmp_path/subdir``; return that directory.

    Articles whose id already has a file are replaced, so a test can call it again to edit one.
    """
    corpus_dir = Path(tmp_path) / subdir
    save_articles(
        corpus_dir,
        [
            Article(
                id=article_id,
                title=title,
                text=body,
                source="Test Gazette",
                url=f"https://news.example/{article_id}",
                published="2026-02-01",
                author="Staff",
            )
            for article_id, (title, body) in articles.items()
        ],
        overwrite=True,
    )
    return corpus_dir


@pytest.fixture(name="make_corpus")
def make_corpus_fixture() -> Callable[..., Path]:
    """The ``make_corpus(tmp_path, articles)`` helper, for tests that prefer a fixture to an import."""
    return make_corpus


BLA_BODY = """\
The Baloch Liberation Army claimed responsibility for a coordinated attack on a passenger train in Balochistan on Tuesday. Security officials said 21 passengers were killed.

## What does the BLA want?

The BLA wants independence for Balochistan, the largest province of Pakistan by area. It accuses Islamabad of exploiting the province’s gas and mineral wealth while local people remain poor.

The group was designated a terrorist organisation by the United States in 2019. “We will continue our struggle until Balochistan is free. Nobody can stop it,” a BLA spokesman said.

## Who leads the group?

Bashir Zeb is believed to lead the BLA from exile in Afghanistan. He took over after the death of Aslam Baloch in 2018."""

FLOOD_BODY = """\
Heavy rain caused the Alder River to burst its banks in Riverton on Sunday night. More than 3,000 homes were flooded and two bridges collapsed.

## How did the city respond?

Mayor Helen Park declared a state of emergency on Monday morning. She said rescue teams had evacuated 1,200 residents by boat.

“The water rose faster than anyone expected. We had minutes, not hours,” said Tom Reyes, a shopkeeper on Mill Street.

## What happens next?

Engineers will inspect the damaged levees this week. They warned that repairs could take until March."""

SOLAR_BODY = """\
Regulators approved the construction of the largest solar farm in the region on Thursday. The project will cover 4,500 acres of former farmland near Dalton.

## Who is building it?

Brightline Energy, a company based in Denver, will build and operate the plant. Its chief executive, María López, said construction would begin in April.

The farm is expected to power 250,000 homes. Critics argue that the panels will destroy habitat for ground-nesting birds."""

CHESS_BODY = """\
Anna Kowalski won the national chess championship on Saturday after a tense final round. She defeated the defending champion in 58 moves.

Kowalski, who is 19, is the youngest winner in the tournament’s history. Her coach said she had studied endgames for six hours a day."""

SMALL_ARTICLES: dict[str, tuple[str, str]] = {
    "pakistan-what-is-baloch-liberation-army": ("Pakistan: What is Baloch Liberation Army?", BLA_BODY),
    "riverton-floods": ("Floods hit Riverton after the Alder River bursts its banks", FLOOD_BODY),
    "dalton-solar-farm": ("Regulators approve solar farm near Dalton", SOLAR_BODY),
    "kowalski-chess-title": ("Kowalski, 19, wins national chess title", CHESS_BODY),
}


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A corpus directory of the four SMALL_ARTICLES (three with section headings)."""
    return make_corpus(tmp_path, SMALL_ARTICLES)


@pytest.fixture
def shared_dir() -> Path:
    """The ../shared directory beside the repository (holds shared test data in CI)."""
    path = Path(__file__).resolve().parents[1].parent / "shared"
    if not path.is_dir():
        pytest.skip("../shared is absent (a user's clone); CI has it")
    return path
