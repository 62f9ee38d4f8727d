"""The parts of the web chat that need no browser: rendering, follow-ups, filters."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import SMALL_ARTICLES, FakeEncoder, make_corpus

from qa_bot.answer.config import FALLBACK_ABSTAIN, FALLBACK_RANK, AnswerConfig
from qa_bot.app.followup import ask_in_conversation, contextualize, needs_context
from qa_bot.app.render import answer_markdown, corpus_html, escape, followup_note, sources_html
from qa_bot.app.web import make_filter
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.errors import InvalidQuestionError
from qa_bot.records import Answer, Article, ArticleFilter, Citation, Quote

CITATION = Citation("a1", "Headline <b>x</b>", "Outlet & Co", "https://news.example/a?x=1&y=<2>", "2026-02-01")


def _quote(text: str, context: str, score: float = 0.9, citation: Citation = CITATION, paragraph: int = 3) -> Quote:
    return Quote(text=text, score=score, start=0, end=len(text), context=context, article=citation, section="Why?",
                 paragraph=paragraph, paragraphs=12)


# ---------------------------------------------------------------------------- rendering


def test_escape_neutralises_html_and_markdown():
    out = escape("<script>alert('x')</script> **bold** [link](http://e) # head")
    assert "<" not in out and ">" not in out
    assert "&lt;script&gt;" in out
    assert "\\*\\*bold\\*\\*" in out and "\\[link\\]" in out
    assert "&#x27;" not in out, "quotes stay plain text (an entity's # would be backslashed)"


def test_answer_markdown_quotes_cites_and_escapes():
    answer = Answer("q", True, None, [_quote("He said <i>no</i>.", "Before. He said <i>no</i>. After.")])
    md = answer_markdown(answer)
    assert md.startswith("> ") and "<sup>[1]</sup>" in md
    assert "<i>" not in md and "&lt;i&gt;" in md
    assert "Headline &lt;b&gt;x&lt;/b&gt;" in md and "<b>" not in md
    assert 'href="https://news.example/a?x=1&amp;y=&lt;2&gt;"' in md
    assert "Outlet &amp; Co" in md and "2026-02-01" in md
    assert "section “Why?”, paragraph 3 of 12" in md, "where the quote stands, in words"
    assert "characters" not in md


def test_each_article_is_cited_once_with_its_quotes_numbered_under_it():
    other = Citation("b2", "Another headline", "Wire", "", "2026-02-02")
    quotes = [_quote("One.", "One."), _quote("Two.", "Two.", citation=other), _quote("Three.", "Three.", paragraph=5)]
    md = answer_markdown(Answer("q", True, None, quotes))
    assert md.count("Headline &lt;b&gt;x&lt;/b&gt;") == 2, "once in the answer, once in its folded sources"
    assert md.index("One\\.") < md.index("Three\\.") < md.index("Headline &lt;b&gt;x") < md.index("Two\\.")
    assert "[1]" in md and "[2] " in md and "<sup>[3]</sup>" in md  # numbered in the order shown
    assert md.index("Three\\.") < md.index("<sup>[2]</sup>") and md.index("Two\\.") < md.index("<sup>[3]</sup>")


def test_one_confidence_scale_in_words_with_its_meaning_in_the_tooltip():
    for score, word in ((0.95, "high confidence"), (0.64, "medium confidence"), (0.41, "low confidence")):
        md = answer_markdown(Answer("q", True, None, [_quote("A.", "A.", score=score)]))
        assert f">{word}</span>" in md and f'title="Confidence {score:.0%}. The answerer' in md
    assert "●" not in md and "match" not in md, "no second scale that could disagree with the words"


def test_a_decline_says_why_and_shows_the_closest_passage_as_not_an_answer():
    nothing = answer_markdown(Answer("q", False, "Nothing in the articles is about <this> question.", []))
    assert "Nothing in the articles is about &lt;this&gt; question" in nothing and "> " not in nothing
    closest = _quote("The port has 40 ships waiting.", "The port has 40 ships waiting.", score=0.37)
    md = answer_markdown(Answer("q", False, "I could not find a clear answer.", [], closest=closest))
    assert "I could not find a clear answer" in md and "> The port has 40 ships waiting\\." in md
    assert "Closest passage, not a clear answer" in md and ">low confidence</span>" in md
    assert "<sup>" not in md, "the closest passage is not numbered like an answer's quotes"


def test_a_word_read_as_another_is_shown_escaped_with_the_answer_or_the_refusal():
    pairs = [("Pehsawar", "Peshawar"), ("<b>x", "bx")]
    answered = answer_markdown(Answer("q", True, None, [_quote("A.", "A.")], pairs))
    assert answered.startswith('<span class="qa-read-as">Also read “Pehsawar” as “Peshawar”, “&lt;b&gt;x” as “bx”\\.</span>')
    assert "<b>" not in answered and "> A\\." in answered
    declined = answer_markdown(Answer("q", False, "Nothing in the articles is about this question.", [], pairs[:1]))
    assert "Also read “Pehsawar” as “Peshawar”" in declined and "qa-none" in declined
    assert "qa-read-as" not in answer_markdown(Answer("q", True, None, [_quote("A.", "A.")]))


def test_non_http_links_are_not_links():
    quote = dataclasses.replace(_quote("A.", "A."), article=dataclasses.replace(CITATION, url="javascript:alert(1)"))
    md = answer_markdown(Answer("q", True, None, [quote]))
    assert "href" not in md and "javascript" not in md


def test_sources_panel_highlights_the_quote_in_its_context():
    html_out = sources_html(Answer("Why <now>?", True, None, [_quote("He said <i>no</i>.", "Before. He said <i>no</i>. After.")]))
    assert "Before. <mark>He said &lt;i&gt;no&lt;/i&gt;.</mark> After." in html_out
    assert "Why &lt;now&gt;?" in html_out and "<i>" not in html_out
    assert "section “Why?”, paragraph 3 of 12" in html_out
    assert "Nothing in the articles" in sources_html(Answer("q", False, "Nothing in the articles is about it.", []))
    closest = _quote("Near.", "Before. Near.", score=0.3)
    assert "Closest passage, not a clear answer" in sources_html(Answer("q", False, "unclear", [], closest=closest))
    assert "Ask a question" in sources_html(None)


def test_the_article_list_holds_full_headlines_newest_first():
    long = "A headline long enough that a table column would cut it somewhere in the middle of a word"
    arts = [Article("a", "Old <b>", "x", source="S", published="2020-01-01"), Article("b", long, "y", published="2026-01-01")]
    out = corpus_html(arts)
    assert out.index(long) < out.index("Old &lt;b&gt;") and "<b>" not in out
    assert "outlet unknown" in out and "2020-01-01 · S" in out


# ---------------------------------------------------------------------------- follow-ups


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How many of them were civilians?", True),  # "them": nothing in the question it names
        ("What did he say?", True),
        ("Why does it attack Chinese citizens?", True),
        ("When was that?", True),  # a demonstrative that ends the question
        ("And the army?", True),  # an ellipsis
        ("Why?", True),
        # Questions that stand alone, some of which the old rule took as follow-ups:
        ("Who claimed responsibility?", False),
        ("Who is Randhir Jaiswal?", False),
        ("When did the attacks begin?", False),  # a definite noun phrase names something itself
        ("What does the BLA want?", False),
        ("How many people were killed in Balochistan?", False),
        ("Why does the BLA say it attacks Chinese citizens?", False),  # "it": the BLA, named first
        ("What happened this week?", False),  # "this" before a noun is a determiner
    ],
)
def test_needs_context(question, expected):
    assert needs_context(question) is expected


def test_contextualize_completes_followups_only():
    asked = ["How many people were killed?"]
    assert contextualize("How many of them were civilians?", asked) == (
        "How many of them were civilians? (How many people were killed?)"
    )
    assert contextualize("Who claimed responsibility?", asked) == "Who claimed responsibility?"
    assert contextualize("How many of them were civilians?", []) == "How many of them were civilians?"
    long_question = "Why did they " + "x" * 990
    assert contextualize(long_question, asked) == long_question, "never pushed past the length limit"


def test_a_follow_up_keeps_the_reading_the_articles_support_better(tmp_path):
    """Both readings are scored; the one whose best sentence is trusted more is kept, and the
    answer shows the reader's own words either way."""
    config = AnswerConfig(min_confidence=0.0, rank_weights=FALLBACK_RANK, abstain_weights=FALLBACK_ABSTAIN)
    bot = QABot.from_corpus(make_corpus(tmp_path, SMALL_ARTICLES), tmp_path / "index", encoder=FakeEncoder(),
                            config=config)
    question, earlier = "What does it want?", "What does the Baloch Liberation Army say about Balochistan?"
    answer, reading = ask_in_conversation(bot, question, [earlier])
    alone, together = bot.candidates_batch([question, f"{question} ({earlier})"])
    assert answer.question == question
    if together.confidence > alone.confidence:
        assert reading.earlier == earlier and reading.searched == f"{question} ({earlier})"
    else:
        assert reading.earlier is None and reading.searched == question
    standalone, plain = ask_in_conversation(bot, "Who leads the group?", [earlier])
    assert plain.earlier is None and standalone == bot.ask("Who leads the group?")


def test_a_follow_up_note_is_escaped():
    note = followup_note("How many <b>people</b> were killed?")
    assert note.startswith('<span class="qa-followup">Read as a follow-up to “How many &lt;b&gt;people')
    assert "<b>" not in note and followup_note(None) == ""


# ---------------------------------------------------------------------------- filters


def test_make_filter():
    outlets = ["A", "B"]
    assert make_filter(outlets, outlets, "", "") is None
    assert make_filter(["A"], outlets, "", "").sources == frozenset({"A"})
    where = make_filter(outlets, outlets, "2026-01-01", " 2026-02-01 ")
    assert (where.published_from, where.published_to) == ("2026-01-01", "2026-02-01")
    with pytest.raises(InvalidQuestionError, match="YYYY-MM-DD"):
        make_filter(outlets, outlets, "yesterday", "")


def test_article_filter_matches():
    art = Article("a", "t", "x", source="A", published="2026-02-01")
    assert ArticleFilter().matches(art)
    assert ArticleFilter(sources=frozenset({"A"})).matches(art)
    assert not ArticleFilter(sources=frozenset({"B"})).matches(art)
    assert ArticleFilter(published_from="2026-02-01", published_to="2026-02-01").matches(art)
    assert not ArticleFilter(published_from="2026-02-02").matches(art)
    assert not ArticleFilter(published_to="2026-01-31").matches(art)
    assert not ArticleFilter(published_from="2020-01-01").matches(dataclasses.replace(art, published=""))


def test_filtered_search_and_ask_quote_only_matching_articles(tmp_path):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    # A second outlet, later date, on the same subject as the BLA article.
    save_articles(corpus, [Article("bla-2", "BLA again", "The Baloch Liberation Army wants independence for Balochistan.",
                                   source="Other Wire", published="2026-03-01")])
    encoder = FakeEncoder()
    bot = QABot.from_corpus(corpus, tmp_path / "index", encoder=encoder,
                            config=AnswerConfig(rank_weights=FALLBACK_RANK, abstain_weights=FALLBACK_ABSTAIN, min_confidence=0.05))
    question = "What does the Baloch Liberation Army want?"
    unfiltered = {h.article.id for h in bot.search(question, k=10)}
    assert "bla-2" in unfiltered and "pakistan-what-is-baloch-liberation-army" in unfiltered

    only_other = ArticleFilter(sources=frozenset({"Other Wire"}))
    hits = bot.search(question, k=10, where=only_other)
    assert hits and {h.article.id for h in hits} == {"bla-2"}
    answer = bot.ask(question, where=only_other)
    assert answer.answered and {q.article.id for q in answer.quotes} == {"bla-2"}

    before_march = ArticleFilter(published_to="2026-02-28")
    assert "bla-2" not in {h.article.id for h in bot.search(question, k=10, where=before_march)}
    nothing = ArticleFilter(sources=frozenset({"No Such Outlet"}))
    assert bot.search(question, k=5, where=nothing) == []
    assert not bot.ask(question, where=nothing).answered


def test_library_messages_become_sentences_once():
    from qa_bot.app.web import as_sentence

    assert as_sentence("the question is empty; type one") == "The question is empty; type one."
    assert as_sentence("the limit is 1,000. Ask something shorter.") == "The limit is 1,000. Ask something shorter."
    assert as_sentence("type a question such as 'What does the BLA want?'") == (
        "Type a question such as 'What does the BLA want?'")
