"""Tests for qa_bot.corpus.clean: pasted news pages to the corpus body format."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_bot.corpus.clean import Cleaned, Dropped, clean_lines_of_extracted, clean_pasted, paragraphs_to_body

SEED = Path(__file__).parents[1] / ".." / "shared" / "seeds" / "000_7b40b680bf4b2169.txt"

INTRO = "The council met on Monday to discuss the new budget for the coming year."
SECOND = "Members argued for several hours before agreeing on a compromise plan."
THIRD = "The plan will be published in full next week, officials said."


def page(*blocks: str, title: str = "Council agrees budget") -> str:
    return "\n\n".join((title, *blocks)) + "\n"


def assert_body_format(body: str) -> None:
    assert body == body.strip()
    assert "\n\n\n" not in body
    for block in body.split("\n\n"):
        assert block and "\n" not in block
        assert block == block.strip()


# ---------------------------------------------------------------- the seed article


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED} (../shared is absent)")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed(seed_text: str) -> Cleaned:
    return clean_pasted(seed_text)


SEED_SENTENCES = [
    # standfirst
    "For nearly 40 hours, Pakistani security forces battled what officials described as a coordinated "
    "wave of attacks across more than a dozen locations.",
    "The banned Balochistan Liberation Army (BLA) claimed responsibility for the assaults.",
    # start
    "As fighting subsided across the Sulaiman and Kirthar mountain ranges in Balochistan, Pakistan’s largest "
    "but least populated province was once again at the centre of a deadly cycle of separatist violence, "
    "military response and unresolved grievances.",
    "Nearly 200 people, including 31 civilians, 17 security personnel and 145 BLA fighters,\xa0 were killed, "
    "according to the Pakistani military.",
    "In Quetta, a city shaped by decades of insurgency, the government projected control.",
    "“Our security forces, personnel and officers have fought bravely,” Al Jazeera quoted Information "
    "Minister Attaullah Tarar as saying.",
    "Yet the scale of casualties, including civilians, highlighted how entrenched the conflict remains.",
    # middle and each section
    "Islamabad once again attributed the violence to external interference, branding the fighters "
    "“Fitna-al-Hindustan”, an allegation aimed at India.",
    "External Affairs Ministry spokesperson Randhir Jaiswal, trashing the charges, also highlighted "
    "Pakistan’s record of suppression, brutality and violation of human rights.",
    "Its record of suppression, brutality and violation of human rights is well known,” he added.",
    "Balochistan lies at the heart of the $46 billion China-Pakistan Economic Corridor (CPEC), anchored by "
    "the port of Gwadar.",
    "Who said it’s safe for you to be in this area?”",
    "“A military can neutralise a militant, but it cannot neutralise a grievance.",
    "“Everyone here is corrupt,” a former chief minister of Balochistan, speaking anonymously0, said.",
    "Residents say corruption has drained funds meant for healthcare, education and infrastructure, eroding "
    "trust in the state and leaving security as an abstract promise.",
    "The BLA is the strongest of several insurgent groups operating in the mineral-rich province bordering "
    "Afghanistan and Iran, home to major Chinese-backed projects including the deep-water port of Gwadar.",
    "The BLA seeks independence for Balochistan, arguing that the federal government unfairly exploits the "
    "province’s gas and mineral resources.",
    "In 2022, militants stormed army and navy bases.",
    "In March 2025, militants opened fire on the Jaffar Express after sabotaging railway tracks, briefly "
    "taking hostages, officials and local media said.",
    "The BLA primarily targets security forces and infrastructure in Balochistan but has also struck in Karachi.",
    "Officials say attacks on civilian labourers from other provinces mark a significant escalation.",
    "The group was also at the centre of tit-for-tat strikes last year between Iran and Pakistan over alleged "
    "militant bases on each other’s territory, bringing the neighbours close to war.",
]

SEED_CLUTTER = [
    "Story continues", "Also Read", "AI-generated image", "Make us preferred source", "By: Express",
    "min read", "Updated:", "Express Global Desk", "The Express Global Desk at The Indian Express",
    "Djokovic", "Budget", "WHOOP", "Taboola", "Advertisement", "©", "Latest Comment", "Post Comment",
    "Read Comments", "Stay updated", "Top Stories", "Must Read", "Buzzing Now", "Live Blog", "PHOTOS",
    "Latest News", "Rashmika", "balochistan army pakistan", "date 2026",
]

SEED_HEADINGS = [
    ("The ‘foreign hand’ argument", "Islamabad once again attributed the violence"),
    ("Development without dividends", "Balochistan lies at the heart"),
    ("Human cost of a long war", "“Everyone here is corrupt,”"),
    ("Who is the Baloch Liberation Army?", "Pakistan’s banned separatist group"),
    ("What does the BLA want?", "The BLA seeks independence"),
    ("How has it escalated?", "Once considered a low-intensity insurgency"),
    ("Who does it target?", "The BLA primarily targets"),
]


@pytest.mark.shared
def test_seed_metadata(seed: Cleaned) -> None:
    assert seed.title == (
        "Pakistan: What is Baloch Liberation Army? What fuelled Balochistan attacks that killed nearly 200"
    )
    assert seed.author == "Express Global Desk"
    assert seed.published == "2026-02-01"


@pytest.mark.shared
@pytest.mark.parametrize("sentence", SEED_SENTENCES)
def test_seed_keeps_sentence(seed: Cleaned, sentence: str) -> None:
    assert sentence in seed.body


@pytest.mark.shared
def test_seed_keeps_every_article_line_verbatim(seed: Cleaned, seed_text: str) -> None:
    lines = [line.strip() for line in seed_text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("As fighting subsided"))
    end = lines.index("(With inputs from Reuters)")
    article = [line for line in lines[start:end + 1]
               if line and line != "Story continues below this ad" and not line.startswith("Also Read |")]
    assert len(article) == 34
    blocks = seed.body.split("\n\n")
    for line in article:
        assert line in blocks or f"## {line}" in blocks


@pytest.mark.shared
def test_seed_body_shape(seed: Cleaned) -> None:
    assert_body_format(seed.body)
    blocks = seed.body.split("\n\n")
    assert blocks[0].startswith("For nearly 40 hours, Pakistani security forces battled")
    assert blocks[1].startswith("As fighting subsided across the Sulaiman")
    assert blocks[-1] == "(With inputs from Reuters)"


@pytest.mark.shared
@pytest.mark.parametrize("clutter", SEED_CLUTTER)
def test_seed_clutter_gone(seed: Cleaned, clutter: str) -> None:
    assert clutter not in seed.body


@pytest.mark.shared
def test_seed_headings(seed: Cleaned) -> None:
    blocks = seed.body.split("\n\n")
    headings = [b for b in blocks if b.startswith("## ")]
    assert headings == [f"## {h}" for h, _ in SEED_HEADINGS]
    for heading, first_words in SEED_HEADINGS:
        i = blocks.index(f"## {heading}")
        assert blocks[i + 1].startswith(first_words)


@pytest.mark.shared
def test_seed_dropped_reports_clutter(seed: Cleaned, seed_text: str) -> None:
    lines = seed_text.splitlines()
    by_line = {d.line: d for d in seed.dropped}
    for number, line in enumerate(lines, start=1):
        if line.strip() == "Story continues below this ad":
            assert by_line[number].reason == "'Story continues below this ad'"
    reasons = {d.reason for d in seed.dropped}
    assert {"byline", "reading time / updated stamp", "image caption", "share/follow prompt",
            "'Also Read' link", "author bio", "copyright line", "comment widget", "advertisement",
            "trailing link list ('Must Read')", "trailing link list ('Top Stories')"} <= reasons
    assert by_line[5].reason == "byline" and by_line[5].text == "By: Express Global Desk"
    assert by_line[7].reason == "image caption"
    # everything after the article is reported, one entry per line
    end = next(i for i, line in enumerate(lines, start=1) if line.strip() == "(With inputs from Reuters)")
    tail = [n for n, line in enumerate(lines, start=1) if n > end and line.strip()]
    assert all(n in by_line for n in tail)
    assert all(len(d.text) <= 80 for d in seed.dropped)


# ---------------------------------------------------------------- small synthetic pages


def test_page_without_clutter_is_unchanged_apart_from_format() -> None:
    text = "Council agrees budget\n\n" + INTRO + "\n\n\n" + SECOND + "  \n\n" + THIRD
    cleaned = clean_pasted(text)
    assert cleaned == Cleaned("Council agrees budget", "", "", f"{INTRO}\n\n{SECOND}\n\n{THIRD}", [])


def test_empty_input() -> None:
    assert clean_pasted(" \n\n \n") == Cleaned("", "", "", "", [])


def test_text_is_kept_verbatim() -> None:
    odd = "He said  “it’s fine”\xa0— and  left, ‘quietly’ ."
    cleaned = clean_pasted(page(INTRO, odd))
    assert odd in cleaned.body.split("\n\n")


def test_wrapped_lines_are_joined() -> None:
    wrapped = ("The council met on Monday to discuss the new budget for\n"
               "the coming year, and members argued for several hours\n"
               "before agreeing.")
    cleaned = clean_pasted(page(wrapped, SECOND))
    assert cleaned.body.split("\n\n")[0] == wrapped.replace("\n", " ")


def test_date_marker_and_title() -> None:
    cleaned = clean_pasted(page(INTRO, "Updated: Mar 3, 2025 10:00 AM IST", title="date 2026-02-01 A headline"))
    assert cleaned.title == "A headline"
    assert cleaned.published == "2026-02-01"  # the marker wins over the stamp


@pytest.mark.parametrize("stamp, iso", [
    ("Updated: Feb 1, 2026 07:37 PM IST", "2026-02-01"),
    ("5 min readUpdated: Feb 1, 2026 07:37 PM IST", "2026-02-01"),
    ("Published on 3 March 2025, 10:12 am", "2025-03-03"),
    ("Last updated 2024-11-30 09:00", "2024-11-30"),
])
def test_published_from_stamp(stamp: str, iso: str) -> None:
    cleaned = clean_pasted(page(stamp, INTRO))
    assert cleaned.published == iso
    assert cleaned.body == INTRO
    assert [d.reason for d in cleaned.dropped] == ["reading time / updated stamp"]


@pytest.mark.parametrize("line, author", [
    ("By: Express Global Desk", "Express Global Desk"),
    ("By Jane Roe", "Jane Roe"),
    ("By Jane Roe and John van der Berg", "Jane Roe and John van der Berg"),
    ("Written by Ana Lima | Feb 2, 2026", "Ana Lima"),
])
def test_byline(line: str, author: str) -> None:
    cleaned = clean_pasted(page(line, INTRO))
    assert cleaned.author == author
    assert cleaned.body == INTRO
    assert cleaned.dropped[0].reason == "byline"


def test_sentence_starting_with_by_is_not_a_byline() -> None:
    line = "By the time the police arrived, the crowd had gone."
    cleaned = clean_pasted(page(INTRO, line))
    assert cleaned.author == ""
    assert line in cleaned.body


def test_standfirst_before_byline_is_first_paragraph() -> None:
    standfirst = "A short summary of the story that sits right under the headline."
    cleaned = clean_pasted(page(standfirst, "By: Jane Roe\n4 min read\nMake us preferred source on Google", INTRO))
    assert cleaned.body == f"{standfirst}\n\n{INTRO}"
    assert cleaned.author == "Jane Roe"


ANYWHERE = [
    ("Advertisement", "advertisement"),
    ("ADVERTISEMENT", "advertisement"),
    ("Loading Taboola...", "advertisement"),
    ("Story continues below this ad", "'Story continues below this ad'"),
    ("Also Read | Ten things to know about the budget", "'Also Read' link"),
    ("Also Read: Ten things to know about the budget", "'Also Read' link"),
    ("Also read", "'Also Read' link"),
    ("Read More", "'Also Read' link"),
    ("Click here to follow us on WhatsApp", "share/follow prompt"),
    ("Stay updated with the latest - Click here to follow us on Instagram", "share/follow prompt"),
    ("Follow us on X", "share/follow prompt"),
    ("Share", "share/follow prompt"),
    ("Subscribe to our daily newsletter", "share/follow prompt"),
    ("Make us preferred source on Google", "share/follow prompt"),
    ("Officers at the scene on Monday. (Express Photo by Amit Mehra)", "image caption"),
    ("Smoke rises over the city. (Reuters photo)", "image caption"),
    ("A protester holds a flag. (File photo)", "image caption"),
    ("Troops in the valley. (Image: X/@army)", "image caption"),
    ("A robot reading a newspaper. (AI-generated image)", "image caption"),
    ("Council chamber. (Photo: Sam Lee)", "image caption"),
    ("Representational image of a courtroom", "image caption"),
    ("File photo of the council building", "image caption"),
    ("3 min read", "reading time / updated stamp"),
]


@pytest.mark.parametrize("line, reason", ANYWHERE)
def test_clutter_removed_anywhere(line: str, reason: str) -> None:
    cleaned = clean_pasted(page(INTRO, line, SECOND, THIRD))
    assert cleaned.body == f"{INTRO}\n\n{SECOND}\n\n{THIRD}"
    assert [(d.line, d.reason) for d in cleaned.dropped] == [(5, reason)]


def test_long_prose_is_never_clutter() -> None:
    cleaned = clean_pasted(page(INTRO, "10 minutes reading the report was enough for him"))
    assert not cleaned.dropped
    prose = ("Share prices fell sharply on Monday after the council said it would subscribe to the new bond "
             "scheme, a decision that analysts said could cost the city millions over the next ten years.")
    cleaned = clean_pasted(page(INTRO, prose))
    assert prose in cleaned.body and not cleaned.dropped


TAIL_MARKERS = [
    ("© 2026 Example Media Ltd", "copyright line"),
    ("Copyright 2026 Example Media", "copyright line"),
    ("Latest Comment", "comment widget"),
    ("12 Comments", "comment widget"),
    ("Top Stories", "trailing link list ('Top Stories')"),
    ("Must Read", "trailing link list ('Must Read')"),
    ("Buzzing Now", "trailing link list ('Buzzing Now')"),
    ("Trending", "trailing link list ('Trending')"),
    ("Latest News", "trailing link list ('Latest News')"),
    ("Live Blog", "trailing link list ('Live Blog')"),
    ("PHOTOS", "trailing link list ('PHOTOS')"),
    ("Related Stories", "trailing link list ('Related Stories')"),
    ("You may also like", "trailing link list ('You may also like')"),
    ("More from Example News", "trailing link list ('More from Example News')"),
    ("Feb 01: Latest News", "trailing link list ('Latest News')"),
]


@pytest.mark.parametrize("marker, reason", TAIL_MARKERS)
def test_tail_is_cut(marker: str, reason: str) -> None:
    links = ["Mayor opens new bridge across the river in a ceremony", "Weather", "Five recipes for a cold evening"]
    cleaned = clean_pasted(page(INTRO, SECOND, "\n".join([marker, *links])))
    assert cleaned.body == f"{INTRO}\n\n{SECOND}"
    assert cleaned.dropped[0] == Dropped(7, marker, reason)
    assert [d.line for d in cleaned.dropped] == [7, 8, 9, 10]


def test_author_name_starts_the_bio() -> None:
    bio = "Jane Roe covers local government and has written for the paper since 2010."
    cleaned = clean_pasted(page("By Jane Roe", INTRO, SECOND, "Jane Roe", bio, "Must Read\nSome other headline"))
    assert cleaned.body == f"{INTRO}\n\n{SECOND}"
    reasons = [d.reason for d in cleaned.dropped]
    assert reasons == ["byline", "author bio", "author bio", "trailing link list ('Must Read')",
                       "trailing link list ('Must Read')"]


def test_tail_marker_before_body_is_only_dropped() -> None:
    cleaned = clean_pasted(page("Trending", "World", INTRO, SECOND))
    assert cleaned.body == f"World\n\n{INTRO}\n\n{SECOND}"
    assert [d.text for d in cleaned.dropped] == ["Trending"]


def test_heading_versus_short_paragraph() -> None:
    cleaned = clean_pasted(page(
        INTRO, "What happens next?", SECOND, "It was over.", "“Never again,”", THIRD,
        "A new chapter", "Budget talks", "Officials expect a vote in spring.", "(With inputs from Reuters)",
    ))
    assert cleaned.body.split("\n\n") == [
        INTRO, "## What happens next?", SECOND, "It was over.", "“Never again,”", THIRD,
        "A new chapter", "## Budget talks", "Officials expect a vote in spring.", "(With inputs from Reuters)",
    ]


def test_heading_after_removed_clutter_introduces_next_paragraph() -> None:
    cleaned = clean_pasted(page(INTRO, "Story continues below this ad", "Who pays?", SECOND))
    assert cleaned.body == f"{INTRO}\n\n## Who pays?\n\n{SECOND}"


def test_heading_without_blank_line_before_its_paragraph() -> None:
    cleaned = clean_pasted(page(INTRO, f"Who pays\n{SECOND}"))
    assert cleaned.body == f"{INTRO}\n\n## Who pays\n\n{SECOND}"


def test_trailing_short_line_is_a_paragraph_not_a_heading() -> None:
    cleaned = clean_pasted(page(INTRO, "Reporting by Jane Roe"))
    assert cleaned.body == f"{INTRO}\n\nReporting by Jane Roe"


def test_markdown_headings_are_kept() -> None:
    cleaned = clean_pasted(page(INTRO, "### The vote", SECOND))
    assert cleaned.body == f"{INTRO}\n\n## The vote\n\n{SECOND}"


def test_repeated_headline_is_dropped() -> None:
    cleaned = clean_pasted(page("Council agrees budget", INTRO))
    assert cleaned.body == INTRO


def test_clean_lines_of_extracted() -> None:
    text = "\n\n".join([
        "## Overview", INTRO, "Advertisement", "Also Read | Something else", SECOND,
        "## Reaction", THIRD, "© 2026 Example Media", "A link to another story entirely",
    ])
    body, dropped = clean_lines_of_extracted(text)
    assert body == f"## Overview\n\n{INTRO}\n\n{SECOND}\n\n## Reaction\n\n{THIRD}"
    assert [d.reason for d in dropped] == ["advertisement", "'Also Read' link", "copyright line", "copyright line"]
    assert all(d.line is None for d in dropped)


def test_paragraphs_to_body() -> None:
    assert paragraphs_to_body([" One\nline. ", "", "# Head", "Two."]) == "One line.\n\n## Head\n\nTwo."


LINES = st.one_of(
    st.sampled_from([INTRO, SECOND, "Advertisement", "Who pays?", "By Jane Roe", "Must Read", "", "  ",
                     "© 2026 X", "Short line", "“Quoted,” he said.", "(With inputs from Reuters)"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
)


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(st.lists(LINES, max_size=25))
def test_every_line_is_kept_or_reported(lines: list[str]) -> None:
    text = "\n".join(lines)
    cleaned = clean_pasted(text)
    if cleaned.body:
        assert_body_format(cleaned.body)
    split = text.replace("\ufeff", "").splitlines()
    first = next((i for i, line in enumerate(split) if line.strip()), len(split))
    reported = {d.line for d in cleaned.dropped}
    for number, line in enumerate(split[first + 1:], start=first + 2):
        if line.strip():
            assert number in reported or line.strip() in cleaned.body
