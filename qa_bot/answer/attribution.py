"""Who said it: the source a quote's words are attributed to ("according to the Pakistani
military", "the BLA claimed", "said Randhir Jaiswal"), found by rules over the text.

News attributes its facts, and a reader weighs "17 killed, according to the military" apart from
"84 killed, the group claimed". A quote's attribution is read from its own sentences or, for
words inside a quotation, from the sentence of the same paragraph that says who spoke. Precision
comes first, since a wrong speaker is worse than none: a source must be a name or a definite
noun phrase ("the Pakistani military", "police", "Prime Minister Shehbaz Sharif"); a pronoun ("he
said") counts only where the sentence just before names the speaker with the same cue, and
everything between quotation marks is ignored (a cue quoted is not a cue). The rules were measured
on labelled sentences (tests/data/attribution_labels.jsonl, ``tools/studies/attribution.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..records import Attribution
from ..store.data import IndexData

_STRONG = r"said|says|told|tells|claimed|claims|confirmed|confirms|denied|denies|reported|reports"
# Verbs that also mean something else ("added Vail to the deed", "announced a world tour"): a cue
# only when what follows is what was said (a clause, a quotation, or the end of the sentence).
_WEAK = (r"announced|announces|added|adds|warned|warns|insisted|insists|alleged|alleges|acknowledged"
         r"|estimated|estimates|wrote|writes|tweeted|posted|argued|argues|explained|noted|admitted|declared")
_VERB = f"{_STRONG}|{_WEAK}"
_WEAK_RE = re.compile(rf"^(?:{_WEAK})$", re.I)
_ANY_CUE = re.compile(rf"\b(?:{_VERB})\b", re.I)
_SAID_FOLLOWS = re.compile(
    r"^\s*(?:(?:on\s+)?(?:\w+day|last\s+\w+|this\s+\w+|earlier|late|yesterday|today|in\s+a\s+\w+(?:\s+\w+)?)\s+)?"
    r"(?:that|it|they|he|she|we|there|[,.:;!?“\"]|$)", re.I)
# Abbreviations whose full stop does not end a name: "Dr. Carlos Del Rio", "Gov. Phil Murphy".
_ABBREVIATION = re.compile(r"\b(?:Dr|Gov|Rep|Reps|Sen|St|Jr|Sr|Mr|Mrs|Ms|Lt|Gen|Col|Sgt|Capt|Prof|Rev|Inc|Corp|Co"
                           r"|Ltd|No|U\.S|D-[A-Z]{2}|R-[A-Z]{2})\.")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
_ACCORDING = re.compile(r"\baccording to\s+(?P<who>[^,;:.()“”\"]+)", re.I)
# "…,” said Randhir Jaiswal, the ministry's spokesman." / "…, said the police."
_INVERTED = re.compile(rf"(?:[,”\"]\s*|^)(?P<cue>{_VERB})\s+(?P<who>[^,;:.()“”\"]+)", re.I)
# "The Pakistani military said on Sunday that…", "In a statement, the BLA claimed…"
_SUBJECT = re.compile(rf"(?P<who>[^,;:()“”\"]+?)\s+(?P<cue>{_VERB})\b", re.I)
_STOP = re.compile(r"\s+(?:that|who|which|when|while|after|before|because|as|on|in|at|last|this|earlier|late"
                   r"|yesterday|today|tonight|on\s+\w+day)\b.*$", re.I)
_PRONOUN = re.compile(r"^(?:he|she|they|it|we|i|you|this|that|these|those|the group|the company)$", re.I)
_DETERMINER = re.compile(r"^(?:the|a|an)\s+\S", re.I)
_AUXILIARY = re.compile(r"\b(?:is|are|was|were|be|been|being|has|have|had|will|would|can|could|should|may|might"
                        r"|must|do|does|did)\b", re.I)
_PREPOSITION = {"in", "at", "on", "for", "with", "after", "before", "during", "by", "from", "to", "of", "as", "since",
                "until", "under", "over", "about", "into", "through", "despite", "without", "within", "among"}
_COMMON = {"forecasters", "police", "officials", "authorities", "witnesses", "residents", "analysts", "experts",
           "investigators", "prosecutors", "doctors", "scientists", "researchers", "protesters", "organisers",
           "organizers", "critics", "lawmakers", "officers", "rescuers", "reports", "sources", "militants"}
_CLAUSE = re.compile(r"\b(?:but|that|if|because|while|although|though|so|when|after|before)\s+", re.I)
# Words between a speaker and the cue: "Paltrow also denied", "the SEC has said".
_TRAILING = re.compile(r"\s+(?:has|have|had|also|previously|later|again|then|now|further|repeatedly|both|publicly"
                       r"|recently|earlier|would|will|once|already|even|herself|himself|themselves)$", re.I)
# "Lori Christensen, public health officer for Gallatin County, said …": the speaker is the head.
_APPOSITION = re.compile(rf"(?P<who>[^,;:()“”\"]+?),\s+[^,;:()“”\"]+?,\s+(?P<cue>{_VERB})\b", re.I)
MAX_WORDS = 8
_NAME_WORD = re.compile(r"\b(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March"
                        r"|April|May|June|July|August|September|October|November|December)\b)[A-Z][a-z]")


def _source(phrase: str, *, strict: bool = False, according: bool = False) -> str | None:
    """``phrase`` trimmed to the speaker it names, or None where it names none we trust
    (``strict``: the phrase itself must be short and open with a name or "the"; ``according``:
    it follows "according to", which names a source whatever its words, "tax experts" too)."""
    if strict and (len(phrase.split()) > 6 or _CLAUSE.search(phrase)):
        return None
    words = _CLAUSE.split(phrase.strip())[-1]  # the last clause before the cue: its subject
    cut = _STOP.search(words)
    if cut and not according and _NAME_WORD.search(cut.group(0)):
        # "The broadcasts began on August 10 and South Korea says": a name after the cut may be
        # the real speaker, so none is trusted.
        return None
    words = _STOP.sub("", words).strip(" ,;:—–-'’")
    while _TRAILING.search(words):
        words = _TRAILING.sub("", words)
    if not words or len(words.split()) > MAX_WORDS or _PRONOUN.match(words):
        return None
    # A verb left in the phrase ("the lawsuit was filed", "No venue or dates have been") means it
    # is not a speaker but a clause; a preposition opening it ("In the end") likewise.
    if _AUXILIARY.search(words) or words.split()[0].lower() in _PREPOSITION:
        return None
    first = words.split()[0]
    named = not strict and any(w[0].isupper() for w in words.split()[1:])  # "district spokesman Mark Hebert"
    if according or first[0].isupper() or named or _DETERMINER.match(words) or first.lower() in _COMMON:
        # Not a sentence that merely opens with a capital: "Later said" has no speaker.
        if first.lower() in {"later", "also", "it", "he", "she", "they", "we", "i", "there", "here", "then"}:
            return None
        if first in ("The", "A", "An"):  # opening the sentence: "The BLA claimed" is "the BLA"
            words = first.lower() + words[len(first):]
        return words
    return None


def attribution_of(sentence: str) -> Attribution | None:
    """The attribution a sentence states itself, outside its quotations; None where it states none."""
    # Quoted words blanked, their marks kept (so "…,” said X" still reads as inverted), and the full
    # stops of abbreviations hidden; sources are cut from the sentence itself by offset.
    # The blank is ";", which no speaker holds: a speaker's words and the white space before a cue
    # could otherwise split a long quotation's blanks every which way (cubic time in its length).
    bare = _QUOTED.sub(lambda m: m.group(0)[0] + ";" * (len(m.group(0)) - 2) + m.group(0)[-1], sentence)
    bare = _ABBREVIATION.sub(lambda m: m.group(0)[:-1] + "\u2024", bare)
    m = _ACCORDING.search(bare)
    if m:
        source = _source(sentence[m.start("who") : m.end("who")], according=True)
        if source:
            return Attribution(source, "according to")
    if not _ANY_CUE.search(bare):
        return None
    def who(m: re.Match) -> str:
        return sentence[m.start("who") : m.end("who")]

    def says(m: re.Match) -> bool:  # a weak verb is a cue only before what was said
        return not _WEAK_RE.match(m.group("cue")) or bool(_SAID_FOLLOWS.match(bare[m.end("cue"):]))

    m = _APPOSITION.search(bare)
    if m and says(m):
        source = _source(who(m))
        if source:
            return Attribution(source, m.group("cue").lower())
    m = _INVERTED.search(bare)
    # Inverted only where the speaker closes the sentence or an apposition follows: "…,” said X."
    if m and re.match(r"\s*(?:[,.;!?]|$)", bare[m.end("who"):]):
        source = _source(who(m), strict=True)
        if source and not source.lower().startswith(("that ", "it ")):
            return Attribution(source, m.group("cue").lower())
    for m in _SUBJECT.finditer(bare):
        if re.search(r"\b(?:who|which|that)\s*$", m.group("who"), re.I) or not says(m):
            continue  # "a woman who said": the speaker is further back; "added Vail to the deed"
        source = _source(who(m))
        if source:
            return Attribution(source, m.group("cue").lower())
    return None


def attribute(sentences: Sequence[str], i: int) -> Attribution | None:
    """The attribution of sentence ``i`` of a paragraph's ``sentences``: its own, else, for words
    inside a quotation, that of the sentence of the paragraph that says who spoke them."""
    own = attribution_of(sentences[i])
    if own is not None:
        return own
    if not _in_quotation(sentences, i):
        return None
    for j in (i + 1, i - 1, i + 2, i - 2):
        if 0 <= j < len(sentences):
            found = attribution_of(sentences[j])
            if found is not None:
                return found
    return None


def _in_quotation(sentences: Sequence[str], i: int) -> bool:
    """True if sentence ``i`` is (mostly) words between quotation marks."""
    text = sentences[i]
    quoted = sum(len(m.group(0)) for m in _QUOTED.finditer(text))
    if quoted >= 0.6 * len(text.strip()):
        return True
    before = "".join(sentences[:i])
    opened = before.count("“") - before.count("”")
    return opened > 0 or (text.lstrip().startswith("“") and "”" not in text)


def attribution_at(data: IndexData, s: int) -> Attribution | None:
    """The attribution of sentence ``s`` of an index, read in its paragraph (``attribute``)."""
    paragraph = data.sentences["paragraph"]
    first = last = s
    while first > 0 and paragraph[first - 1] == paragraph[s]:
        first -= 1
    while last + 1 < len(paragraph) and paragraph[last + 1] == paragraph[s]:
        last += 1
    return attribute([data.sentence_text(j) for j in range(first, last + 1)], s - first)
