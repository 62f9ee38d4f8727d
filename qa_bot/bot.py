"""QABot: the front class that other apps embed (load an index, ask, search)."""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .answer.config import AnswerConfig, Candidates, confidence
from .answer.features import ABSTAIN_FEATURES, RANK_FEATURES, Evidence, abstain_features, linear, rank_features, unknown_share
from .indexing.build import BuildReport, Progress, build_index
from .indexing.chunking import ChunkParams
from .encoders.base import Encoder, gives_tokens
from .encoders.factory import make_encoder
from .encoders.models import DEFAULT_MODEL
from .errors import IndexIncompatibleError, InvalidQuestionError
from .store.files import IndexData, load_index
from .store.lexical import tokenize
from .encoders.pooling import TokenStates
from .answer.quotes import select_quotes
from .answer.rerank import Reranker, rerank_order
from .retrieval.spelling import Spelling
from .records import Answer, Article, ArticleFilter, SearchHit
from .retrieval.hybrid import Ranked, Retriever

MAX_QUESTION_CHARS = 1000
NO_ANSWER = (
    "The articles do not answer this question. Try rephrasing it, or ask about something the "
    "articles cover."
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def clean_question(question: object) -> str:
    """The question with control characters removed and white space folded; raises if unusable."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask something shorter."
        )
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", question)).split())
    if not text:
        raise InvalidQuestionError("the question is empty; type a question such as 'What does the BLA want?'")
    return text


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
    ):
        """``reranker`` (optional, off by default): a cross-encoder that re-orders the best
        candidates (``rerank.py``)."""
        self.data = data
        self.reranker = reranker
        # Without an explicit encoder, use the model the index was built with.
        self.encoder = encoder or make_encoder(data.model)
        if self.encoder.name != data.model:
            raise IndexIncompatibleError(
                f"the index{_where(data)} was built with model {data.model!r}, not {self.encoder.name!r}; "
                f"run 'qa-bot build --model {self.encoder.name}' to rebuild it for that model"
            )
        # MaxSim needs the index's token states and the question's, from the same model.
        self._tokens = data.tokens is not None and gives_tokens(self.encoder)
        self.config = config or AnswerConfig()
        self.retriever = Retriever(data)
        self.spelling = Spelling.of(data)
        self._dimension_checked = False

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

    def with_config(self, config: AnswerConfig) -> QABot:
        """This bot with another config, sharing its index, encoder, reranker, retriever and
        spelling corrections (which are built once); weights left unset are resolved as usual."""
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
        """Load the index in ``index_dir``. ``model`` must be the one it was built with (default)."""
        data = load_index(Path(index_dir))
        if encoder is None and model is not None:
            encoder = make_encoder(model)
        return cls(data, encoder, config, reranker=reranker)

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
    ) -> BuildReport:
        """Build or update an index; see ``builder.build_index`` (``token_states``: MaxSim on or off,
        None keeps the index's choice)."""
        return build_index(
            Path(corpus_dir), Path(index_dir), encoder or make_encoder(model),
            params=params, progress=progress, token_states=token_states,
        )

    def warm_up(self) -> None:
        """Load the embedding model now rather than on the first question."""
        self._encode(["warm up"])
        if self.reranker is not None:
            self.reranker.score("warm up", ["warm up"])

    @property
    def articles(self) -> list[Article]:
        return list(self.data.articles)

    # ------------------------------------------------------------------ questions

    def ask(self, question: str, *, where: ArticleFilter | None = None) -> Answer:
        """Answer one question; see ``ask_batch``."""
        return self.ask_batch([question], where=where)[0]

    def ask_batch(self, questions: Sequence[str], *, where: ArticleFilter | None = None) -> list[Answer]:
        """Answer each question with ranked verbatim quotes, or ``answered=False``.

        Args:
            questions: the questions.
            where: quote only articles this filter matches (outlet, date range).

        Raises:
            InvalidQuestionError: a question is empty, whitespace only or too long.
        """
        return [self.select(c) for c in self.candidates_batch(questions, where=where)]

    def candidates_batch(
        self, questions: Sequence[str], *, where: ArticleFilter | None = None
    ) -> list[Candidates]:
        """The scored candidate sentences of each question (for evaluation and fitting)."""
        cleaned = [clean_question(q) for q in questions]
        if not cleaned:
            return []
        q = self._read(cleaned, tokens=self._tokens)
        ranked = self._retrieve(q, self.config.passages, where)
        cands = [
            replace(self._candidates(text, [(v, st)] + ([] if alt is None else [alt]), terms, r, pairs), read_as=typos)
            for text, v, st, alt, terms, r, pairs, typos in zip(
                cleaned, q.vectors, q.states, q.expanded, q.terms, ranked, q.synonyms, q.read_as)
        ]
        return [self._rerank(c) for c in cands] if self.reranker is not None else cands

    def search(self, query: str, k: int = 5, *, where: ArticleFilter | None = None) -> list[SearchHit]:
        """The ``k`` best passages for ``query`` (hybrid dense + BM25), with citations."""
        return self.search_batch([query], k, where=where)[0]

    def search_batch(
        self, queries: Sequence[str], k: int = 5, *, where: ArticleFilter | None = None
    ) -> list[list[SearchHit]]:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        ranked = self._retrieve(self._read([clean_question(text) for text in queries]), k, where)
        return [[self._hit(int(p), float(s)) for p, s in zip(r.passages, r.fused)] for r in ranked]

    def _retrieve(self, q: _Readings, k: int, where: ArticleFilter | None) -> list[Ranked]:
        """The top ``k`` passages of each question, searched with all its readings."""
        return self.retriever.search_batch(
            q.vectors, q.terms, k, self._allowed(where),
            alternatives=[None if r is None else r[0][None, :] for r in q.expanded], synonyms=q.synonyms,
        )

    def _allowed(self, where: ArticleFilter | None) -> np.ndarray | None:
        """The passage mask of a filter (None: every passage)."""
        if where is None or where.is_empty:
            return None
        keep = np.array([where.matches(a) for a in self.data.articles], dtype=bool)
        return keep[self.data.passages[:, 0]]

    # ------------------------------------------------------------------ internals

    def _read(self, questions: list[str], *, tokens: bool = False) -> _Readings:
        """The questions' vectors, token states and terms; for a question naming an acronym the
        corpus defines (or spelling one out) or misspelling a word of the corpus, also the reading
        with the other form or the correction, and the pairs of terms that name the same thing."""
        cfg, acronyms = self.config, self.data.acronyms
        rewritten: dict[int, tuple[str, list[tuple[str, str]]]] = {}
        read_as: list[tuple[tuple[str, str], ...]] = [()] * len(questions)
        for i, text in enumerate(questions):
            pairs: list[tuple[str, str]] = []
            if cfg.correct_spelling:
                text, typos = self.spelling.read(text)
                pairs += typos
                read_as[i] = tuple(typos)
            if cfg.expand_acronyms and len(acronyms):
                text, forms = acronyms.read(text)
                pairs += forms
            if pairs:
                rewritten[i] = (text, pairs)
        # Both readings go through the model in one call.
        n = len(questions)
        vectors, states = self._encode(questions + [text for text, _ in rewritten.values()], tokens=tokens)
        expanded: list[tuple[np.ndarray, TokenStates | None] | None] = [None] * n
        synonyms: list[list[tuple[list[str], list[str]]]] = [[] for _ in questions]
        for row, (i, (_, pairs)) in enumerate(rewritten.items(), start=n):
            expanded[i] = (vectors[row], states[row])
            synonyms[i] = [(tokenize([short])[0], tokenize([long])[0]) for short, long in pairs]
        vectors, states = vectors[:n], states[:n]
        return _Readings(vectors, states, expanded, synonyms, tokenize(questions), read_as)

    def _encode(self, texts: list[str], *, tokens: bool = False) -> tuple[np.ndarray, list[TokenStates | None]]:
        """The question vectors, and (with ``tokens``) their token states from the same pass."""
        if tokens:
            vectors, states = self.encoder.encode_tokens(texts, batch_size=32)
        else:
            vectors, states = self.encoder.encode(texts, batch_size=32), [None] * len(texts)
        if not self._dimension_checked:
            if vectors.shape[1] != self.data.dimension:
                raise IndexIncompatibleError(
                    f"model {self.encoder.name!r} gives {vectors.shape[1]}-dimensional vectors but the index"
                    f"{_where(self.data)} holds {self.data.dimension}-dimensional ones; run 'qa-bot build' to rebuild"
                )
            self._dimension_checked = True
        return vectors, states

    def _hit(self, p: int, score: float) -> SearchHit:
        start, end = self.data.passage_span(p)
        article = self.data.articles[self.data.passages[p, 0]]
        return SearchHit(article.text[start:end], score, start, end, self.data.heading(p), article.citation(), p)

    def _candidates(
        self,
        question: str,
        readings: list[tuple[np.ndarray, TokenStates | None]],
        qtokens: list[str],
        ranked: Ranked,
        synonyms: list[tuple[list[str], list[str]]],
    ) -> Candidates:
        """Every sentence of the retrieved passages, with features, scores and the confidence.

        ``readings`` are the question's vector and token states, as written and (if it names an
        acronym of the corpus) expanded; each sentence is scored by the better one. A sentence
        holding either term list of a ``synonyms`` pair holds the other too.
        """
        data, cfg = self.data, self.config
        rank_of: dict[int, int] = {}  # sentence -> rank of the best passage holding it
        for rank, p in enumerate(ranked.passages.tolist()):
            for s in range(int(data.passages[p, 1]), int(data.passages[p, 2])):
                rank_of.setdefault(s, rank)
        if not rank_of:
            empty = np.empty(0, dtype=np.int64)
            return Candidates(question, empty, empty, np.zeros((0, len(RANK_FEATURES))), np.empty(0),
                              np.zeros(len(ABSTAIN_FEATURES)), 0.0)
        sent_ids = np.fromiter(rank_of, dtype=np.int64, count=len(rank_of))
        ranks = np.fromiter(rank_of.values(), dtype=np.int64, count=len(rank_of))
        texts = [data.sentence_text(s) for s in sent_ids.tolist()]
        same = _with_synonyms(synonyms)
        sent_tokens = [same(t) for t in tokenize(texts)]
        tokens_of = dict(zip(sent_ids.tolist(), sent_tokens))
        # A sentence is read with its section heading (as it is embedded); a passage with its
        # heading and all its sentences.
        heading_tokens: dict[int, list[str]] = {}
        passage_context: dict[int, set[str]] = {}
        tokens, context_tokens = [], []
        for i, rank in enumerate(ranks.tolist()):
            p = int(ranked.passages[rank])
            if p not in passage_context:
                heading = data.heading(p)
                heading_tokens[p] = same(tokenize([heading])[0]) if heading else []
                ctx = set(heading_tokens[p])
                for s in range(int(data.passages[p, 1]), int(data.passages[p, 2])):
                    ctx.update(tokens_of[s])
                passage_context[p] = ctx
            tokens.append(sent_tokens[i] + heading_tokens[p])
            context_tokens.append(passage_context[p])
        qvecs = np.vstack([v for v, _ in readings])
        # Per reading: (plain MaxSim, MaxSim through the query adapter); each sentence takes the better.
        maxsims = [data.tokens.maxsim(st, sent_ids) for _, st in readings if st is not None]
        evidence = Evidence(
            question, qtokens, texts, tokens, context_tokens,
            sentence_cos=(data.sentence_vectors[sent_ids] @ qvecs.T).max(axis=1),
            neighbour_cos=self._neighbour_cos(sent_ids, qvecs),
            passage_cos=ranked.dense[ranks], passage_rrf=ranked.fused[ranks], passage_bm25=ranked.bm25[ranks],
            maxsim=np.max([m for m, _ in maxsims], axis=0) if maxsims else None,
            maxsim_adapted=np.max([a for _, a in maxsims], axis=0) if maxsims else None,
        )
        features = rank_features(evidence, data.lexical.idf)
        scores = linear(features, RANK_FEATURES, cfg.rank_weights)
        # A term paired with another (a misspelling with its correction) is as known as that one.
        paired = {t for pair in synonyms for side in pair for t in side}
        unknown = unknown_share(qtokens, lambda t: t in paired or data.lexical.knows(t), data.lexical.idf)
        abstain = abstain_features(features, scores, unknown)
        return Candidates(
            question, sent_ids, ranked.passages[ranks], features, scores, abstain,
            confidence(abstain, cfg.abstain_weights),
        )

    def _rerank(self, cand: Candidates) -> Candidates:
        """The reranker's order of the best candidates (not for a question the bot will decline)."""
        cfg = self.config
        if len(cand.sentences) < 2 or cand.confidence < cfg.min_confidence:
            return cand
        head = np.argsort(-cand.scores, kind="stable")[: cfg.rerank_top]
        scores = self.reranker.score(cand.question, [self.data.sentence_text(int(s)) for s in cand.sentences[head]])
        return replace(cand, order=rerank_order(cand.scores, scores, cfg.rerank_top, cfg.rerank_weight))

    def _neighbour_cos(self, sent_ids: np.ndarray, qvecs: np.ndarray) -> np.ndarray:
        """For each sentence, the best cosine of the sentence before or after it in its paragraph
        (to the better of the question's readings)."""
        data = self.data
        out = np.zeros(len(sent_ids))
        para = data.sentences[:, 3]
        for i, s in enumerate(sent_ids.tolist()):
            neighbours = [j for j in (s - 1, s + 1) if 0 <= j < len(para) and para[j] == para[s]]
            if neighbours:
                out[i] = float(np.max(data.sentence_vectors[neighbours] @ qvecs.T))
        return out

    def select(self, cand: Candidates) -> Answer:
        """Turn scored candidates (``candidates_batch``) into ranked, non-overlapping,
        non-duplicate quotes, or decline below the confidence threshold."""
        read_as = list(cand.read_as)
        if not len(cand.sentences) or cand.confidence < self.config.min_confidence:
            return Answer(cand.question, False, NO_ANSWER, [], read_as)
        return Answer(cand.question, True, None, select_quotes(self.data, cand, self.config), read_as)


@dataclass
class _Readings:
    """Questions as the bot reads them (rows aligned): as written, and with acronyms expanded."""

    vectors: np.ndarray
    states: list[TokenStates | None]
    expanded: list[tuple[np.ndarray, TokenStates | None] | None]  # None: nothing to expand
    synonyms: list[list[tuple[list[str], list[str]]]]  # stemmed (short, long) term lists
    terms: list[list[str]]  # stemmed terms as written
    read_as: list[tuple[tuple[str, str], ...]]  # misspelt words and the corpus words they were read as


def _with_synonyms(synonyms: list[tuple[list[str], list[str]]]):
    """A function adding to a sentence's terms the other side of each synonym pair it holds, so
    that "TTP" and "Tehreek-e-Taliban Pakistan" count as the same term."""
    if not synonyms:
        return lambda terms: terms

    def same(terms: list[str]) -> list[str]:
        present = set(terms)
        return terms + [t for short, long in synonyms for a, b in ((short, long), (long, short))
                        if a and set(a) <= present for t in b]

    return same


def _where(data: IndexData) -> str:
    return f" in {data.path.parent}" if data.path is not None else ""
