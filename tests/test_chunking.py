"""Sentence offsets, headings and passage windows (qa_bot.indexing.chunking)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_bot.indexing.chunking import MAX_SENTENCE_CHARS, ChunkParams, Chunks, chunk_text, split_sentences

# ---------------------------------------------------------------------------- helpers


def check_spans(text: str, spans: list[tuple[int, int]], lo: int = 0, hi: int | None = None) -> None:
    """The offset invariant: sorted, disjoint, non-empty, trimmed spans inside ``text[lo:hi]``."""
    hi = len(text) if hi is None else hi
    previous_end = lo
    for start, end in spans:
        assert previous_end <= start < end <= hi, (spans, lo, hi)
        sentence = text[start:end]
        assert sentence == sentence.strip(), repr(sentence)
        assert end - start <= MAX_SENTENCE_CHARS
        previous_end = end


def non_space(s: str) -> str:
    return "".join(s.split())


def check_chunks(text: str, chunks: Chunks) -> None:
    """Structural invariants of chunk_text that hold for any input."""
    paragraphs = chunks.paragraphs
    for start, end in paragraphs:
        para = text[start:end]
        assert para and para == para.strip()
        assert not any(not line.strip() for line in para.splitlines()), "a paragraph holds a blank line"
    # Sentences: in order, inside their own paragraph, covering every non-space character of it.
    by_para: dict[int, list[tuple[int, int]]] = {}
    last_para = 0
    for start, end, para in chunks.sentences:
        assert last_para <= para < len(paragraphs)
        last_para = para
        by_para.setdefault(para, []).append((start, end))
    for k, (p_start, p_end) in enumerate(paragraphs):
        spans = by_para.get(k, [])
        check_spans(text, spans, p_start, p_end)
        assert non_space("".join(text[a:b] for a, b in spans)) == non_space(text[p_start:p_end])


# ---------------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Héllo wörld, ça va? Oui. Très bien!", ["Héllo wörld, ça va?", "Oui.", "Très bien!"]),
        ("I love it 😀. Next one 😀😀 here. Done 👍🏽.", ["I love it 😀.", "Next one 😀😀 here.", "Done 👍🏽."]),
        (
            "He said: “We will fight.” Then they left. ‘Quite,’ she said.",
            ["He said: “We will fight.”", "Then they left.", "‘Quite,’ she said."],
        ),
        ("名前は何ですか。 これはテストです。 Third one.", ["名前は何ですか。", "これはテストです。", "Third one."]),
        ("  Leading and trailing space.   Second one.  ", ["Leading and trailing space.", "Second one."]),
        ("No final stop", ["No final stop"]),
    ],
)
def test_split_sentences_offsets_slice_each_sentence(text, expected):
    spans = split_sentences(text)
    check_spans(text, spans)
    assert [text[a:b] for a, b in spans] == expected


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\r\n ", "\u00a0\u2003"])
def test_split_sentences_of_blank_text_is_empty(text):
    assert split_sentences(text) == []


def test_split_sentences_of_a_slice_returns_offsets_into_the_whole_text():
    text = "Prefix. 😀 Emoji first. Then “curly” quotes. Suffix."
    start = text.index("😀")
    end = text.index(" Suffix")
    spans = split_sentences(text, start, end)
    check_spans(text, spans, start, end)
    assert [text[a:b] for a, b in spans] == ["😀 Emoji first.", "Then “curly” quotes."]


def test_over_long_sentence_is_capped_at_a_space():
    text = " ".join(f"w{i:03d}" for i in range(400))  # 1,999 characters, no punctuation
    spans = split_sentences(text)
    check_spans(text, spans)
    assert len(spans) == 3
    for a, b in spans[:-1]:
        assert text[b] == " ", "a cut must fall on a space, not inside a word"
        assert b - a > MAX_SENTENCE_CHARS - 6, "the cut is at the last space that fits"
    assert " ".join(text[a:b] for a, b in spans) == text


def test_over_long_word_is_cut_hard_at_the_cap():
    text = "x" * (2 * MAX_SENTENCE_CHARS + 5)
    assert split_sentences(text) == [
        (0, MAX_SENTENCE_CHARS),
        (MAX_SENTENCE_CHARS, 2 * MAX_SENTENCE_CHARS),
        (2 * MAX_SENTENCE_CHARS, len(text)),
    ]


_WORDS = st.sampled_from(
    ["Hello", "world.", "Ça", "va?", "😀", "👍🏽", "“quoted", "text.”", "‘single’", "Mr.", "Smith", "U.S.", "3.5",
     "!", "…", "—", "e.g.", "名前は何ですか。", "Zürich", "naïve", "it’s", "\"straight\"", "(aside)", "\t"]
)
_PRINTABLE = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")), min_size=1, max_size=10
)
_PARAGRAPH = st.lists(st.one_of(_WORDS, _PRINTABLE), max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PARAGRAPH)
def test_split_sentences_offset_invariant(paragraph):
    spans = split_sentences(paragraph)
    check_spans(paragraph, spans)
    # Nothing is lost: every non-space character belongs to some sentence.
    assert non_space("".join(paragraph[a:b] for a, b in spans)) == non_space(paragraph)


# ---------------------------------------------------------------------------- paragraphs and headings

ARTICLE = (
    "Intro paragraph about the attack. It killed 21 people.\n"
    "\n"
    "## What does the BLA want?\n"
    "\n"
    "The BLA wants independence for Balochistan. It accuses Islamabad of exploitation.\n"
    "\n"
    "The group was banned in 2019.\n"
    "\n"
    "## Who leads it?\n"
    "Bashir Zeb leads it. He took over in 2018."
)


def sentence_texts(text: str, chunks: Chunks, first: int, last: int) -> list[str]:
    return [text[a:b] for a, b, _ in chunks.sentences[first:last]]


def heading_of(text: str, passage: tuple[int, int, int, int]) -> str:
    _, _, hstart, hend = passage
    return text[hstart:hend] if hstart >= 0 else ""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_heading_attaches_to_the_paragraphs_after_it(newline):
    text = ARTICLE.replace("\n", newline)
    chunks = chunk_text(text)
    check_chunks(text, chunks)
    headings = {}
    for passage in chunks.passages:
        for sentence in sentence_texts(text, chunks, passage[0], passage[1]):
            headings.setdefault(sentence, set()).add(heading_of(text, passage))
    assert headings["Intro paragraph about the attack."] == {""}
    assert headings["It killed 21 people."] == {""}
    assert headings["The BLA wants independence for Balochistan."] == {"What does the BLA want?"}
    assert headings["The group was banned in 2019."] == {"What does the BLA want?"}
    assert headings["Bashir Zeb leads it."] == {"Who leads it?"}
    assert headings["He took over in 2018."] == {"Who leads it?"}


def test_passages_never_cross_sections():
    chunks = chunk_text(ARTICLE, ChunkParams(max_sentences=6, overlap=2, max_chars=10_000))
    section_of = {}  # sentence -> heading, from the headings between paragraphs
    heading = ""
    for line_start, line in _lines(ARTICLE):
        if line.startswith("## "):
            heading = line[3:]
        for i, (a, _, _) in enumerate(chunks.sentences):
            if line_start <= a < line_start + len(line):
                section_of[i] = heading
    assert len(section_of) == len(chunks.sentences)
    for passage in chunks.passages:
        first, last = passage[:2]
        assert {section_of[i] for i in range(first, last)} == {heading_of(ARTICLE, passage)}
    # With room for six sentences, one passage per section.
    assert [heading_of(ARTICLE, p) for p in chunks.passages] == ["", "What does the BLA want?", "Who leads it?"]


def _lines(text: str):
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def test_multi_line_paragraph_is_one_paragraph_and_sentences_cross_its_lines():
    text = "First line of a sentence\nthat goes on. Second sentence\r\nends here.\n\nNext paragraph."
    chunks = chunk_text(text)
    check_chunks(text, chunks)
    assert [text[a:b] for a, b in chunks.paragraphs] == [
        "First line of a sentence\nthat goes on. Second sentence\r\nends here.",
        "Next paragraph.",
    ]
    assert [(text[a:b], p) for a, b, p in chunks.sentences] == [
        ("First line of a sentence\nthat goes on.", 0),
        ("Second sentence\r\nends here.", 0),
        ("Next paragraph.", 1),
    ]


def test_sentences_never_cross_a_paragraph_even_without_a_full_stop():
    text = "A paragraph with no stop\n\nanother one without one\n\n  indented third  "
    chunks = chunk_text(text)
    check_chunks(text, chunks)
    assert [text[a:b] for a, b, _ in chunks.sentences] == [
        "A paragraph with no stop", "another one without one", "indented third",
    ]


def test_heading_lines_without_blank_lines_around_them():
    text = "Para one ends here.\n## Heading ##\nPara two starts here.\n#hashtag is text.\n####### Not a heading."
    chunks = chunk_text(text)
    check_chunks(text, chunks)
    assert [text[a:b] for a, b in chunks.paragraphs] == [
        "Para one ends here.",
        "Para two starts here.\n#hashtag is text.\n####### Not a heading.",
    ]
    assert [heading_of(text, p) for p in chunks.passages] == ["", "Heading"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", "\r\n \r\n", "## Only a heading", "# One\n\n## Two\n"])
def test_text_without_sentences_gives_no_passages(text):
    assert chunk_text(text) == Chunks([], [], [])


def test_over_long_sentence_in_an_article_is_capped():
    long_sentence = " ".join(["word"] * 500)
    text = f"Short one.\n\n{long_sentence}\n\nShort two."
    chunks = chunk_text(text)
    check_chunks(text, chunks)
    assert max(b - a for a, b, _ in chunks.sentences) <= MAX_SENTENCE_CHARS
    assert len(chunks.sentences) == 2 + 4  # 2,499 characters in pieces of at most 800


_LINE = st.lists(st.one_of(_WORDS, _PRINTABLE), min_size=1, max_size=15).map(" ".join).filter(
    lambda s: s.strip() and not s.lstrip().startswith("#")
)
_HEADING = st.lists(
    st.sampled_from(["What", "does", "the", "BLA", "want?", "Ça", "😀", "Who"]), min_size=1, max_size=5
).map(" ".join)
_BLOCK = st.one_of(
    st.tuples(st.just("heading"), _HEADING),
    st.tuples(st.just("para"), st.lists(_LINE, min_size=1, max_size=3)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_BLOCK, max_size=7),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", " ", "  \t"]),
    st.integers(1, 5).flatmap(
        lambda m: st.builds(ChunkParams, st.just(m), st.integers(0, m - 1), st.integers(1, 400))
    ),
)
def test_chunk_text_invariants_on_random_articles(blocks, newline, blank, params):
    parts, expected_paragraphs = [], []
    for kind, value in blocks:
        if kind == "heading":
            parts.append(f"## {value}")
        else:
            parts.append(newline.join(value))
            expected_paragraphs.append(newline.join(value).strip())
    text = (newline + blank + newline).join(parts)
    chunks = chunk_text(text, params)
    check_chunks(text, chunks)
    assert [text[a:b] for a, b in chunks.paragraphs] == expected_paragraphs
    # Each sentence's heading is the last heading before it; passages carry exactly that one.
    headings_before = []
    for a, _, _ in chunks.sentences:
        before = [line for line in text[:a].split(newline) if line.startswith("## ")]
        headings_before.append(before[-1][3:].rstrip(" #") if before else "")
    covered = set()
    for passage in chunks.passages:
        first, last = passage[:2]
        assert 0 <= first < last <= len(chunks.sentences)
        assert {headings_before[i] for i in range(first, last)} == {heading_of(text, passage)}
        covered.update(range(first, last))
    assert covered == set(range(len(chunks.sentences)))


# ---------------------------------------------------------------------------- passage windows


def numbered_sentences(lengths: list[int]) -> str:
    """One paragraph of sentences 'Sentence 3 aaa aaa.' with roughly the given character lengths."""
    return " ".join(f"Sentence {i} " + " ".join(["aaa"] * max(1, n // 4)) + "." for i, n in enumerate(lengths))


def check_windows(chunks: Chunks, params: ChunkParams) -> None:
    sentences, passages = chunks.sentences, chunks.passages
    assert {i for first, last, *_ in passages for i in range(first, last)} == set(range(len(sentences)))
    for first, last, *_ in passages:
        assert 1 <= last - first <= params.max_sentences
        chars = sentences[last - 1][1] - sentences[first][0]
        assert chars <= params.max_chars or last - first == 1, "max_chars is exceeded only by a single sentence"
        # Greedy: a window stops only at max_sentences, at max_chars, or at the end.
        if last < len(sentences) and last - first < params.max_sentences:
            assert sentences[last][1] - sentences[first][0] > params.max_chars
    for (f1, l1, *_), (f2, l2, *_) in zip(passages, passages[1:]):
        assert f1 < f2 and l1 < l2, "passages move forward: none is a part of the one before"
        planned = max(f1 + 1, l1 - params.overlap)
        assert f2 >= planned
        if f2 > planned:  # started later only because a window from `planned` could not reach l1
            assert sentences[l1][1] - sentences[f2 - 1][0] > params.max_chars
        else:
            assert l1 - f2 == min(params.overlap, l1 - f1 - 1), "consecutive passages overlap where possible"
    assert passages[0][0] == 0 and passages[-1][1] == len(sentences)


@pytest.mark.parametrize(
    "params",
    [ChunkParams(), ChunkParams(1, 0, 1000), ChunkParams(3, 0, 1000), ChunkParams(5, 4, 1000), ChunkParams(4, 2, 120)],
)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 10])
def test_windows_of_equal_sentences(params, n):
    text = numbered_sentences([40] * n)
    chunks = chunk_text(text, params)
    assert len(chunks.sentences) == n
    check_windows(chunks, params)


def test_windows_default_params_exact():
    chunks = chunk_text(numbered_sentences([40] * 7))
    assert [p[:2] for p in chunks.passages] == [(0, 4), (2, 6), (4, 7)]


def test_sentence_longer_than_max_chars_is_a_passage_of_its_own():
    params = ChunkParams(max_sentences=4, overlap=1, max_chars=100)
    chunks = chunk_text(numbered_sentences([30, 300, 30]), params)
    check_windows(chunks, params)
    assert [p[:2] for p in chunks.passages] == [(0, 1), (1, 2), (2, 3)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(8, 160), min_size=1, max_size=14),
    st.integers(1, 5).flatmap(lambda m: st.tuples(st.just(m), st.integers(0, m - 1))),
    st.integers(20, 600),
)
def test_windows_respect_size_and_overlap(lengths, sizes, max_chars):
    params = ChunkParams(max_sentences=sizes[0], overlap=sizes[1], max_chars=max_chars)
    chunks = chunk_text(numbered_sentences(lengths), params)
    assert len(chunks.sentences) == len(lengths)
    check_windows(chunks, params)


def test_every_passage_adds_a_new_sentence():
    # Four short sentences fill the first window; the fifth is too long to join the overlap.
    params = ChunkParams(max_sentences=4, overlap=2, max_chars=110)
    short = "Aaaa bbbb cccc dddd eee."  # 24 characters
    text = " ".join([short] * 4 + ["Long " * 17 + "end.", short])  # the fifth has 89
    chunks = chunk_text(text, params)
    assert [b - a for a, b, _ in chunks.sentences] == [24, 24, 24, 24, 89, 24]
    for (_, l1, *_), (_, l2, *_) in zip(chunks.passages, chunks.passages[1:]):
        assert l2 > l1, f"passage ending at {l2} adds nothing to the one ending at {l1}: {chunks.passages}"


# ---------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_sentences": 0}, "max_sentences must be at least 1, got 0"),
        ({"max_sentences": -3, "overlap": 0}, "got -3"),
        ({"overlap": -1}, "got -1"),
        ({"max_sentences": 4, "overlap": 4}, "overlap must be between 0 and max_sentences - 1 (3), got 4"),
        ({"max_sentences": 1, "overlap": 1}, "got 1"),
    ],
)
def test_chunk_params_validation(kwargs, message):
    with pytest.raises(ValueError) as info:
        ChunkParams(**kwargs)
    assert message in str(info.value)


def test_chunk_params_defaults_are_valid_and_frozen():
    params = ChunkParams()
    assert (params.max_sentences, params.overlap, params.max_chars) == (4, 2, 1000)
    with pytest.raises(AttributeError):
        params.overlap = 1  # type: ignore[misc]
