"""What counts as page clutter in text pasted from a news page: the line patterns ``clean`` removes,
each with the reason a curator is shown.

``CLUTTER_RULES`` are removed wherever they appear; ``TAIL_RULES`` mark where the article has ended
(an author bio, a copyright line, a trailing list of links) and everything from there is cut. A new
kind of clutter is a new rule here, not new code in ``clean``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """A line pattern. Lines longer than ``max_words`` are prose and never match."""

    reason: str
    pattern: re.Pattern[str]
    max_words: int = 25


def _rule(reason: str, pattern: str, max_words: int = 25) -> Rule:
    return Rule(reason, re.compile(pattern, re.IGNORECASE), max_words)


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+\d{{4}})"
)
DATE_RE = re.compile(rf"\b{_DATE}\b", re.IGNORECASE)
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_TIME = r"\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*\(?[A-Z]{2,5}\)?)?"
DATE_MARKER_RE = re.compile(r"^\s*date\s*:?\s*(\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)
_CAPTION_WORDS = r"(?:photo|photograph|image|picture|pic|illustration|graphic|screengrab|video grab)s?"
CONNECTORS = frozenset({"and", "&", "de", "da", "del", "van", "von", "der", "den", "bin", "al", "la", "le", "du"})
BYLINE_RE = re.compile(
    r"^(?:by|written by|reported by|words by)\s*[:\-–—]?\s+(?P<author>[^|•·]+?)\s*(?:[|•·].*)?$",
    re.IGNORECASE,
)

BYLINE = "byline"
STAMP = "reading time / updated stamp"
CAPTION = "image caption"
CAPTION_LABEL_RE = re.compile(r"^(?:image|photo|picture|video) caption\s*[,:]?$", re.IGNORECASE)

#: Lines removed wherever they appear (before the tail starts).
CLUTTER_RULES: tuple[Rule, ...] = (
    _rule("advertisement",
          r"^(?:advertisements?|advert|ad|ad feedback|sponsored(?: content)?|promoted|paid content)$"),
    _rule("advertisement", r"^(?:loading\s+)?(?:taboola|outbrain)\b.*$|^scroll to continue with content$"),
    _rule("'Story continues below this ad'",
          r"^(?:story|article) continues (?:below|after) (?:this |the )?(?:ad|advertisement)$"
          r"|^continue reading below$"),
    _rule("'Also Read' link", r"^(?:also read|read also|also see|also watch|must watch|read more|read next"
          r"|related)\s*(?:[|:–—-]\s*\S.*|[.…]*)$"),
    _rule("share/follow prompt",
          r"^(?:click here to (?:follow|join|subscribe)|follow us on|stay updated with the latest"
          r"|subscribe to|sign up (?:for|to)|join our (?:whatsapp|telegram)|download the .{1,40} app"
          r"|make us (?:a )?preferred source|add .{1,30} as a preferred source|listen to (?:this )?(?:article|story)"
          r"|share (?:this|on|via)|sign up here)\b.*$", max_words=15),
    _rule("share/follow prompt",
          r"^(?:share|tweet|email|e-mail|print|facebook|twitter|x|whatsapp|linkedin|reddit|telegram"
          r"|pinterest|save|copy|copy link|copy url|link copied!?)$"),
    _rule("comment widget",
          r"^(?:latest comments?|post (?:a )?comment|read comments|view comments|show comments|comments?"
          r"|add (?:a )?comment|leave a (?:comment|reply)|join the conversation|\d+\s+comments?)$"),
    _rule(STAMP,
          rf"^(?:\d+\s*(?:min|mins|minutes?)\s*read(?!ing|er|s\b)"
          rf"|(?:last\s+)?(?:updated|published|posted|modified|first published)\b.*(?:{_DATE}|{_TIME}))",
          max_words=20),
    _rule(STAMP, rf"^(?:{_WEEKDAY}\.?,?\s+)?(?:{_DATE})(?:\s*,?\s*(?:at\s+)?{_TIME})?$"
          r"|^(?:published|updated)$|^\d+\s+(?:minutes?|mins?|hours?|hrs?|days?)\s+ago$"),
    _rule(CAPTION,
          rf"\((?:[^()]{{0,40}}\s|[^()]{{0,40}}-)?{_CAPTION_WORDS}\b(?:\s*(?:by|:|/|-|–|credit)[^()]{{0,80}})?\)$"
          r"|\(file\)$"
          rf"|[.!?”]\s+{_CAPTION_WORDS}\s*:\s*\S[^.!?]{{0,60}}$",  # "... the scene. Photograph: Reuters"
          max_words=80),
    _rule(CAPTION,
          rf"^(?:representational {_CAPTION_WORDS}|file {_CAPTION_WORDS}"
          rf"|{_CAPTION_WORDS}\s*(?:credit|source|caption)?\s*[:,]"
          r"|credit\s*:|courtesy\s*:)",
          max_words=60),
)

#: Lines that mark the end of the article once it has begun; everything from there is cut.
TAIL_RULES: tuple[Rule, ...] = (
    _rule("copyright line", r"^(?:©|\(c\)\s|copyright\s*(?:©|\(c\)|\d{4})).*$"),
    _rule("author bio", r"^about the (?:author|writer|reporter)s?$"),
    _rule("comment widget",
          r"^(?:latest comments?|post (?:a )?comment|read comments|view comments|\d+\s+comments?)$"),
    _rule("trailing link list ('{line}')",
          r"^(?:top stories|must read|buzzing now|trending(?: now| news| stories| topics)?|latest news"
          r"|live blog|photos|videos|related (?:stories|articles|news|posts|coverage|topics)"
          r"|you (?:may|might) also like|more from .{1,40}|recommended(?: for you| stories| articles)?"
          r"|most (?:read|popular|viewed)|editor'?s picks|don'?t miss|up next|more stories|more on this story"
          r"|related topics|explore more on these topics|reuse this content|our standards\b.*)$"),
    _rule("trailing link list ('Latest News')", rf"^(?:{_MONTH}\.?\s+\d{{1,2}}\s*:\s*)latest news$"),
)
