"""Attributed speech: who said what. For a question about what someone said or claimed ("What
did India say?", "How many soldiers did the BLA say it killed?"), which candidate sentences give
that speaker's words, and which quote them directly.

News attributes nearly every fact to someone ("17 security personnel, according to the
military"; "the group's claim that it killed 84"), so a question that names the speaker wants the
sentence where that speaker speaks, not one where the speaker is talked about. Three ranking
features come from here (``features.RANK_FEATURES``; their weights are fitted apart from the
others, tools/fit/speakers.py):

- ``speaker``: the question asks what X said, and the sentence attributes words to X: X stands
  within a few words of a speech cue ("the BLA claimed", "said Jaiswal", "according to the
  military"), outside the sentence's quotations and outside what it reports ("Pakistan's claim
  that India was supporting..." does not make India the speaker). A stand-in speaker ("he said",
  "the group's claim") counts when X is named in the sentence before it in the article (news
  puts "he said" in the paragraph after the name).
- ``quotation``: the same, and the sentence quotes the speaker directly (four words or more
  between quotation marks).
- ``said_content``: the same, and the share of the rest of the question's terms ("soldiers",
  "killed") found in what the sentence reports ("the group's claim that it killed 84 ...").

Pure functions of text and stemmed terms: no model, no index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_VERBS = (
    r"say|says|said|saying|claim|claims|claimed|claiming|tell|tells|told|announce|announces|announced"
    r"|state|states|stated|report|reports|reported|deny|denies|denied|reject|rejects|rejected"
    r"|respond|responds|responded|accuse|accuses|accused|warn|warns|warned|admit|admits|admitted"
    r"|insist|insists|insisted|describe|describes|described|argue|argues|argued|allege|alleges|alleged"
    r"|promise|promises|promised|pledge|pledges|pledged|vow|vows|vowed|demand|demands|demanded"
    r"|want|wants|wanted|blame|blames|blamed|estimate|estimates|estimated|confirm|confirms|confirmed"
    r"|predict|predicts|predicted|threaten|threatens|threatened|believe|believes|believed"
    r"|think|thinks|thought|call|calls|called|urge|urges|urged|ask|asks|asked|add|adds|added"
)
# "What did X say", "How many soldiers did the BLA claim it killed", "What does X want?"
_QUESTION = re.compile(rf"\b(?:did|does|do|has|have|had)\s+(?P<who>[^?;]+?)\s+(?:{_VERBS})\b", re.I)
_ACCORDING = re.compile(r"\baccording to\s+(?P<who>[^?,;]+)", re.I)
# "Lydia Buchtmann of Food Standards Australia", "X, editor of Y": the speaker is the head before it.
_QUALIFIER = re.compile(r"\s+(?:of|from|at|for)\s+.*$|,.*$", re.I)

# Words that attribute speech in a sentence. "according to" names its speaker after it; the others
# before or after ("the BLA claimed", "said Jaiswal", "spokesperson Randhir Jaiswal").
_CUE = re.compile(
    r"\b(?:(?P<after>according to)|said|says|say|saying|told|tells|claim(?:s|ed)?|quot(?:ed|ing)|added"
    r"|adds|stated?|announce[sd]?|den(?:y|ies|ied)|reject(?:s|ed)?|dismiss(?:es|ed)?|insist(?:s|ed)?"
    r"|warn(?:s|ed)?|argue[sd]?|accuse[sd]?|allege[sd]?|wrote|writes|tweeted|posted|continued"
    r"|remark(?:s|ed)?|comment(?:s|ed)|explain(?:s|ed)|not(?:es|ed)|repl(?:y|ies|ied)|respond(?:s|ed)"
    r"|acknowledge[sd]?|estimate[sd]?|dubbed|called|asked|believes?|thinks?"
    r"|spokes(?:man|woman|person)|admit(?:s|ted)?|confirm(?:s|ed)?|vow(?:s|ed)?|pledge[sd]?"
    r"|promise[sd]?|demand(?:s|ed)?|urge[sd]?|want(?:s|ed)?|call(?:s|ed)? (?:for|on))\b",
    re.I,
)
# The reported content after a cue: "claimed that ...", "said it would ...", "denied the ...".
_CONTENT = re.compile(
    r"\b(?:said|says|say|told \w+|claim(?:s|ed)?|den(?:y|ies|ied)|warn(?:s|ed)?|insist(?:s|ed)?"
    r"|argue[sd]?|allege[sd]?|announce[sd]?|confirm(?:s|ed)?|accuse[sd]?|estimate[sd]?|believes?|thinks?)"
    r"\s+(?=(?:that|it|he|she|they|the|its|their|his|her|there|this|these|those|we|I)\b)",
    re.I,
)
_QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]")
_WINDOW = 6  # words on each side of a cue where its speaker may stand
# A speaker named by a pronoun or a definite description, whose name stands earlier.
_STAND_IN = re.compile(
    r"\b(?:he|she|they|it|his|her|their|its|the (?:group|company|firm|ministry|government|militants?"
    r"|organi[sz]ation|agency|spokes(?:man|woman|person)|official|minister|military|army|police"
    r"|president|party|department|office|statement|church|court|report|study))\b",
    re.I,
)
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|we|we're|we’re|my|our|me|us)\b")


def speech_subject(question: str) -> tuple[str, str] | None:
    """(speaker, the rest) of a question about what someone said: ("the BLA", "How many soldiers
    it killed?") for "How many soldiers did the BLA say it killed?"; None for other questions.
    A qualifier is dropped from the speaker: "Lydia Buchtmann of FSANZ" is "Lydia Buchtmann"."""
    match = _QUESTION.search(question) or _ACCORDING.search(question)
    if match is None:
        return None
    who = _QUALIFIER.sub("", match.group("who")).strip()
    rest = question[: match.start()] + " " + question[match.end():]
    return (who, rest) if who else None


def attribution(sentence: str) -> tuple[str, str]:
    """(speaker, content) of ``sentence``: the words next to its speech cues where the speaker
    stands, and what it reports (its direct quotations and what follows "said that", "claimed
    it", ...). Both "" without a speech cue."""
    quoted = " ".join(m.group(1) for m in _QUOTED.finditer(sentence))
    outside = _QUOTED.sub(" , ", sentence)
    cut = _CONTENT.search(outside)
    reported = outside[cut.end():] if cut else ""
    frame = outside[: cut.end()] if cut else outside
    speaker = []
    for cue in _CUE.finditer(frame):
        after = frame[cue.end():].split()[:_WINDOW]
        before = [] if cue.group("after") else frame[: cue.start()].split()[-_WINDOW:]
        speaker += before + [cue.group(0)] + after
    if not speaker:
        return "", ""
    return " ".join(speaker), f"{quoted} {reported}".strip()


def quotes_directly(sentence: str) -> bool:
    """True if ``sentence`` holds a direct quotation of four words or more (or opens or closes one
    that runs over several sentences)."""
    if any(len(m.group(1).split()) >= 4 for m in _QUOTED.finditer(sentence)):
        return True
    return _open_quote(sentence) or _closes_quote(sentence)


def _open_quote(text: str) -> bool:
    """True if a quotation opened in ``text`` runs on past its end."""
    return text.count("“") > text.count("”") or text.count('"') % 2 == 1


def _closes_quote(text: str) -> bool:
    return text.count("”") > text.count("“")


def _names(subject: Sequence[str], terms: set[str]) -> bool:
    """True if ``terms`` name the speaker: its last term (the surname, the head noun: "Baird" for
    "Environment Minister John Baird", "military" for "the Pakistani military") is among them."""
    return bool(subject) and subject[-1] in terms


def speaker_of(
    sentence: str, previous: str, subject: Sequence[str], terms_of: Callable[[str], set[str]], title: str = "",
    said_by: str | None = None,
) -> bool:
    """True if ``sentence`` gives the words of the speaker whose stemmed terms are ``subject``:
    named next to one of its speech cues; or a stand-in ("he said", "the group's claim") for the
    speaker named in ``previous`` (the sentence before it); or a quotation that runs on from
    ``previous`` or that ``previous`` introduces (ending in ":"), whose attribution names them;
    or, with no attribution of its own, in the first person in an article (an interview, an
    opinion piece) whose ``title`` names them. ``said_by``: the sentence's attribution, if the
    caller has it already."""
    if said_by is None:
        said_by, _ = attribution(sentence)
    if said_by:
        if _names(subject, terms_of(said_by)):
            return True
        if previous and _STAND_IN.search(said_by) and _names(subject, terms_of(previous)):
            return True
    if previous and (_open_quote(previous) or previous.rstrip().endswith(":")):
        before, _ = attribution(previous)
        if before and _names(subject, terms_of(before)):
            return True
    if not said_by and title and not sentence.rstrip().endswith("?") and _FIRST_PERSON.search(sentence):
        return _names(subject, terms_of(title))
    return False


def speech_features(
    subject_terms: Sequence[str],
    content_terms: Sequence[str],
    sentence: str,
    previous: str,
    terms_of: Callable[[str], set[str]],
    title: str = "",
) -> tuple[float, float, float]:
    """(speaker, quotation, content) of one candidate sentence.

    ``subject_terms`` are the stemmed terms of the question's speaker and ``content_terms`` those
    of the rest of the question (what was said), ``terms_of`` gives a text's stemmed terms (with
    synonyms), ``previous`` is the sentence before it in its article ("" at the start) and
    ``title`` the article's headline. ``content`` is the share of ``content_terms`` found in what
    the sentence reports (its quotations and what follows "said that"), or in all of it when it
    has no attribution of its own (a quotation running on, a first-person answer).
    """
    if not subject_terms:
        return 0.0, 0.0, 0.0
    said_by, said = attribution(sentence)
    if not speaker_of(sentence, previous, subject_terms, terms_of, title, said_by):
        return 0.0, 0.0, 0.0
    if not said_by:  # a quotation running on, or a first-person answer: all of it is what was said
        said = sentence
    content = set(content_terms)
    share = len(content & terms_of(said)) / len(content) if content and said else 0.0
    return 1.0, 1.0 if quotes_directly(sentence) else 0.0, share
