"""QABot: the front class that other apps embed (load or build an index, ask, search).

It composes the pipeline's stages and holds none of their logic: the question is read by
``retrieval.question``, passages found by ``retrieval.hybrid``, candidate sentences scored by
``answer.candidates`` and turned into an answer by ``answer.quotes``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path

import numpy as np

from .answer.candidates import Candidates, rerank_candidates, score_candidates
from .answer.config import AnswerConfig
from .answer.quotes import make_answer
from .answer.rerank import Reranker
from .encoders.base import Encoder, gives_tokens
from .encoders.factory import make_encoder
from .encoders.models import DEFAULT_MODEL
from .errors import IndexIncompatibleError
from .indexing.build import BuildReport, build_index
from .indexing.chunking import ChunkParams
from .indexing.embed import Progress
from .records import Answer, Article, ArticleFilter, SearchHit, TimeUse
from .retrieval.hybrid import Ranked, Retriever
from .retrieval.question import QuestionReader, Readings, clean_question, where
from .retrieval.served import ServedRetriever, Source
from .retrieval.spelling import Spelling
from .retrieval.timewords import as_date, time_window
from .store.data import IndexData
from .store.files import load_index
from .store.slices import Slice


class QABot:
    """Answers questions from an index with verbatim quotes and citations.

    Construction is cheap: the embedding model loads on first use (or ``warm_up()``).
    """

    def __init__(
        self,
        data: IndexData,
        encoder: Encoder | None = None,
        config: AnswerConfig | None = None,
        *,
        reranker: Reranker | None = None,
        served: Source | None = None,
    ):
        """``reranker`` (optional, off by default): a cross-encoder that re-orders the best
        candidates (``answer.rerank``). ``served``: the index is an engine's (``load("milvus://…")``),
        ``data`` its summary's shell, and each question is answered from a slice of it."""
        self.data = data
        self.served = served
        self.reranker = reranker
        # Without an explicit encoder, use the model the index was built with.
        self.encoder = encoder or make_encoder(data.model)
        if self.encoder.name != data.model:
            raise IndexIncompatibleError(
                f"the index{where(data)} was built with model {data.model!r}, not {self.encoder.name!r}; "
                f"run 'qa-bot build --model {self.encoder.name}' to rebuild it for that model"
            )
        # MaxSim needs the index's token states and the question's, from the same model.
        self._tokens = data.tokens is not None and gives_tokens(self.encoder)
        self.config = config or AnswerConfig()
        self.reader = QuestionReader(
            data, self.encoder,
            spelling=None if served is None else Spelling.counted(served.summary.words, data.lexical.knows))
        self.retriever = Retriever(data) if served is None else ServedRetriever(served)

    @property
    def config(self) -> AnswerConfig:
        return self._config

    @config.setter
    def config(self, config: AnswerConfig) -> None:
        """Weights left unset are the ones fitted for this index (with or without token states)."""
        self._given_config = config
        self._config = config.resolved(self._tokens)

    def with_data(self, data: IndexData) -> QABot:
        """A bot for another index (a newer build) with this one's encoder, reranker and config; the
        weights left unset are resolved again for it, which may hold token states where this did not."""
        return QABot(data, self.encoder, self._given_config, reranker=self.reranker)

    def with_served(self, served: Source) -> QABot:
        """A bot for another generation of a served index, as ``with_data``."""
        return QABot(served.summary.shell(), self.encoder, self._given_config, reranker=self.reranker, served=served)

    def with_config(self, config: AnswerConfig) -> QABot:
        """This bot with another config, sharing its index, encoder, reranker, question reader
        (with its spelling corrections, built once) and retriever; weights left unset are resolved
        as usual."""
        other = copy.copy(self)
        other.config = config
        return other

    # ------------------------------------------------------------------ construction

    @classmethod
    def load(
        cls,
        index_dir: str | Path = "index",
        *,
        model: str | None = None,
        encoder: Encoder | None = None,
        config: AnswerConfig | None = None,
        reranker: Reranker | None = None,
    ) -> QABot:
        """Load the index in ``index_dir``, or the one a Milvus location serves
        (``milvus://HOST:PORT/NAME`` or ``milvus-lite://PATH``, published there by ``build(store=…)``).
        ``model`` must be the one it was built with (default)."""
        if encoder is None and model is not None:
            encoder = make_encoder(model)
        if isinstance(index_dir, str) and index_dir.startswith(("milvus://", "milvus-lite://")):
            from .store.served import ServedIndex

            served = ServedIndex.open(index_dir)
            return cls(served.summary.shell(), encoder, config, reranker=reranker, served=served)
        return cls(load_index(Path(index_dir)), encoder, config, reranker=reranker)

    @classmethod
    def from_corpus(
        cls,
        corpus_dir: str | Path = "corpus",
        index_dir: str | Path = "index",
        *,
        model: str = DEFAULT_MODEL,
        encoder: Encoder | None = None,
        config: AnswerConfig | None = None,
        params: ChunkParams = ChunkParams(),
        progress: Progress | None = None,
        token_states: bool | None = None,
        reranker: Reranker | None = None,
    ) -> QABot:
        """Build (or incrementally update) the index of ``corpus_dir``, then load it."""
        encoder = encoder or make_encoder(model)
        cls.build(corpus_dir, index_dir, encoder=encoder, params=params, progress=progress, token_states=token_states)
        return cls(load_index(Path(index_dir)), encoder, config, reranker=reranker)

    @staticmethod
    def build(
        corpus_dir: str | Path = "corpus",
        index_dir: str | Path = "index",
        *,
        model: str = DEFAULT_MODEL,
        encoder: Encoder | None = None,
        params: ChunkParams = ChunkParams(),
        progress: Progress | None = None,
        token_states: bool | None = None,
        store: str | None = None,
        ray: str | None = None,
    ) -> BuildReport:
        """Build or update an index; see ``indexing.build.build_index`` (``token_states``: MaxSim on or off,
        None keeps the index's choice; ``store``: where the passage vectors go, e.g.
        ``milvus-lite://./index.db``, None keeps the index's store; ``ray``: embed on the Ray
        cluster at that address, or "local" for one started here)."""
        return build_index(
            Path(corpus_dir), Path(index_dir), encoder or make_encoder(model),
            params=params, progress=progress, token_states=token_states, store=store, ray=ray,
        )

    def warm_up(self) -> None:
        """Load the embedding model now rather than on the first question."""
        self.reader.encode(["warm up"])
        if self.reranker is not None:
            self.reranker.score("warm up", ["warm up"])

    @property
    def articles(self) -> list[Article]:
        """The articles of the index (of a served index, their metadata: ``text`` is empty)."""
        return list(self.data.articles)

    def article(self, article_id: str) -> Article | None:
        """The article ``article_id`` with its text, or None if the index has none of that id (of
        a served index, read from its packet: one round trip)."""
        pos = self.data.article_position(article_id)
        if pos is None:
            return None
        if self.served is None:
            return self.data.articles[pos]
        from .store.slices import assemble

        serial = int(self.served.summary.serials[pos])
        piece, _ = assemble(self.served.summary, self.served.packets([serial]))
        return next(a for a in piece.articles if a.id == article_id)

    def examples(self) -> list[str]:
        """Questions a first-time reader can click: the corpus's own (its QUESTIONS.md, kept in the
        index), then its section headings that are questions."""
        return list(dict.fromkeys([*self.data.manifest.get("examples", []), *self.headings()]))

    def headings(self) -> list[str]:
        """The section headings of the articles that are questions, in index order, each once."""
        if self.served is not None:
            return list(self.served.summary.headings)
        return self.data.question_headings()

    # ------------------------------------------------------------------ questions

    def ask(self, question: str, *, where: ArticleFilter | None = None, as_of: dt.date | str | None = None) -> Answer:
        """Answer one question; see ``ask_batch``."""
        return self.ask_batch([question], where=where, as_of=as_of)[0]

    def ask_batch(
        self, questions: Sequence[str], *, where: ArticleFilter | None = None, as_of: dt.date | str | None = None
    ) -> list[Answer]:
        """Answer each question with ranked verbatim quotes, or ``answered=False``.

        Args:
            questions: the questions.
            where: quote only articles this filter matches (outlet, date range).
            as_of: the date the questions are asked on (a date or YYYY-MM-DD; default today). Time
                words ("this week", "yesterday", "in March", "recently") are read against it as a
                window of published dates: the answer comes from the articles inside it when one
                of them answers, else from all, and ``Answer.time`` says which.

        Raises:
            InvalidQuestionError: a question is empty, whitespace only or too long.
            ValueError: ``as_of`` is not a date.
        """
        return [self.select(c, where) for c in self.candidates_batch(questions, where=where, as_of=as_of)]

    def candidates_batch(
        self, questions: Sequence[str], *, where: ArticleFilter | None = None, as_of: dt.date | str | None = None
    ) -> list[Candidates]:
        """The scored candidate sentences of each question (for evaluation and fitting), from the
        window of its time words where that answers (see ``ask_batch``)."""
        cleaned = [clean_question(q) for q in questions]
        if not cleaned:
            return []
        anchor = as_date(as_of)
        # A corpus without published dates has no window to prefer: its questions are not touched.
        reads_time = self.config.time_windows and self._dated
        windows = [time_window(text, anchor) if reads_time else None for text in cleaned]
        # The time words go to the window; the rest of the question is what is searched.
        searched = [text if window is None else window.strip(text) for text, window in zip(cleaned, windows)]
        q = self._read(searched, tokens=self._tokens)
        out: list[Candidates | None] = [None] * len(cleaned)
        for i, window in enumerate(windows):
            if window is None:
                continue
            start, end = window.start.isoformat(), window.end.isoformat()
            inside = self._candidates([searched[i]], q.subset([i]), (where or ArticleFilter()).narrowed(start, end))[0]
            if len(inside.sentences) and inside.confidence >= self.config.window_confidence:
                out[i] = replace(inside, question=cleaned[i], time=TimeUse(window.expression, start, end, True))
        rest = [i for i, c in enumerate(out) if c is None]
        if rest:
            # Nothing inside the window answers: every date is searched, without relative time
            # words ("this week" names no article's words) but with absolute ones, as without a
            # window (so an undated corpus answers "What happened in 1995?" as it always did).
            texts = [cleaned[i] if windows[i] is None or not windows[i].relative else searched[i] for i in rest]
            again = any(texts[k] != searched[i] for k, i in enumerate(rest))
            asked = self._read(texts, tokens=self._tokens) if again else q.subset(rest)
            for i, cand in zip(rest, self._candidates(texts, asked, where)):
                window = windows[i]
                out[i] = cand if window is None else replace(
                    cand, question=cleaned[i],
                    time=TimeUse(window.expression, window.start.isoformat(), window.end.isoformat(), False))
        return out  # type: ignore[return-value]

    def _candidates(self, cleaned: list[str], q: Readings, where: ArticleFilter | None) -> list[Candidates]:
        """Scored (and, with a reranker, re-ordered) candidates of questions read as ``q``, searched under ``where``."""
        data, ranked, piece = self._retrieve(q, self.config.passages, where)
        cfg = self.config
        index = None if piece is None else data
        cands = [
            replace(score_candidates(data, cfg, text, [(v, st)] + ([] if alt is None else [alt]), terms, r, pairs),
                    read_as=typos, index=index)
            for text, v, st, alt, terms, r, pairs, typos in zip(
                cleaned, q.vectors, q.states, q.expanded, q.terms, ranked, q.synonyms, q.read_as)
        ]
        if self.reranker is None:
            return cands
        return [rerank_candidates(data, cfg, self.reranker, c) for c in cands]

    def search(self, query: str, k: int = 5, *, where: ArticleFilter | None = None) -> list[SearchHit]:
        """The ``k`` best passages for ``query`` (hybrid dense + BM25), with citations."""
        return self.search_batch([query], k, where=where)[0]

    def search_batch(
        self, queries: Sequence[str], k: int = 5, *, where: ArticleFilter | None = None
    ) -> list[list[SearchHit]]:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        data, ranked, piece = self._retrieve(self._read([clean_question(text) for text in queries]), k, where)
        return [[_hit(data, int(p), float(s), p if piece is None else int(piece.whole([p])[0]))
                 for p, s in zip(r.passages, r.fused)] for r in ranked]

    def select(self, cand: Candidates, where: ArticleFilter | None = None) -> Answer:
        """Turn scored candidates (``candidates_batch``, searched under ``where``) into ranked,
        non-overlapping, non-duplicate quotes, or decline below the confidence threshold."""
        return make_answer(self.data if cand.index is None else cand.index, cand, self.config, where)

    # ------------------------------------------------------------------ internals

    def _read(self, questions: list[str], *, tokens: bool = False) -> Readings:
        cfg = self.config
        return self.reader.read(questions, tokens=tokens, correct_spelling=cfg.correct_spelling,
                                expand_acronyms=cfg.expand_acronyms)

    def _retrieve(
        self, q: Readings, k: int, where: ArticleFilter | None
    ) -> tuple[IndexData, list[Ranked], Slice | None]:
        """The top ``k`` passages of each question, searched with all its readings, and the index
        their ids refer to: the bot's, or the slice of a served index that holds them."""
        alternatives = [None if r is None else r[0][None, :] for r in q.expanded]
        if self.served is not None:
            piece, ranked = self.retriever.search_batch(q.vectors, q.terms, k, alternatives=alternatives,
                                                        synonyms=q.synonyms, where=where)
            return piece.data, ranked, piece
        ranked = self.retriever.search_batch(q.vectors, q.terms, k, self._allowed(where), alternatives=alternatives,
                                             synonyms=q.synonyms, where=where)
        return self.data, ranked, None

    def _allowed(self, where: ArticleFilter | None) -> np.ndarray | None:
        """The passage mask of a filter (None: every passage)."""
        if where is None or where.is_empty:
            return None
        sources, days = self._article_columns
        keep = np.ones(len(days), dtype=bool)
        if where.sources is not None:
            keep &= np.isin(sources, sorted(where.sources))
        if where.published_from or where.published_to:
            keep &= days != ""  # an article without a date fails any date restriction
            if where.published_from:
                keep &= days >= where.published_from
            if where.published_to:
                keep &= days <= where.published_to
        return keep[self.data.passages["article"]]

    @cached_property
    def _dated(self) -> bool:
        """True if some article of the index has a published date."""
        return bool((self._article_columns[1] != "").any())

    @cached_property
    def _article_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Each article's outlet and published date (YYYY-MM-DD, or "" without one), for filters."""
        articles = self.data.articles
        return (np.array([a.source for a in articles], dtype=str),
                np.array([a.published[:10] for a in articles], dtype=str))



def _hit(data: IndexData, p: int, score: float, passage: int) -> SearchHit:
    """Passage ``p`` of ``data`` as a search hit, under its id ``passage`` in the whole index."""
    start, end = data.passage_span(p)
    article = data.article_of_passage(p)
    return SearchHit(article.text[start:end], score, start, end, data.heading(p), article.citation(), passage)
