"""Looking around a match: the neighbouring words and whether a sentence ends there.

Every look is bounded to a short window so the whole pass stays linear in the text length.
"""

from __future__ import annotations

import re

from core.text.normalize.tables import SENTENCE_STARTERS

_WINDOW = 80
_WORD_INNER = "_'’.&-,"
# Both are used at one position, on a short window, but are linear over any text too: a
# match can always end where its possessive runs end (the word is optional), and the openers
# before a word are bounded, so no run is read again from each of its positions.
_NEXT_WORD = re.compile(r"[ \t]++([^\W_][\w'’-]*+)?")
_OPENERS_BEFORE_WORD = 8
_AFTER_DOT = re.compile(
    r"[\"'”’»)\]]*+(?P<ws>[ \t]*+)"
    rf"(?:(?P<nl>\r?\n|$)|(?P<word>[\"“‘(\[]{{0,{_OPENERS_BEFORE_WORD}}}+[^\W\d_]\w*+))?"
)


def _prev_span(text: str, start: int) -> tuple[int, int]:
    """Where the word right before ``start`` lies (only spaces or tabs between), or (-1, -1).

    A word starts with a letter and goes on with letters, digits and ' ’ . & - (or starts
    with a digit and may hold commas: '1,234'). Scanned backwards by hand: a regex search
    would retry every position of the window.
    """
    lo = max(0, start - _WINDOW)
    end = start
    while end > lo and text[end - 1] in " \t":
        end -= 1
    if end == start:
        return -1, -1
    i = end
    while i > lo and (text[i - 1].isalnum() or text[i - 1] in _WORD_INNER):
        i -= 1
    while i < end and not (text[i].isalnum() and text[i] != "_"):
        i += 1
    if i == end:
        return -1, -1
    if not text[i].isdecimal():
        comma = text.rfind(",", i, end)
        if comma != -1:
            i = comma + 1
            while i < end and not text[i].isalpha():
                i += 1
            if i == end or text[end - 1] == ",":
                return -1, -1
    return i, end


def prev_word(text: str, start: int) -> str:
    """The word right before ``start`` (only spaces between), or '' when punctuation or a line
    break intervenes."""
    i, end = _prev_span(text, start)
    return text[i:end] if i != -1 else ""


def prev_word_start(text: str, start: int) -> int:
    return _prev_span(text, start)[0]


def next_word(text: str, end: int) -> str:
    """The word right after ``end`` (only spaces between), or ''."""
    m = _NEXT_WORD.match(text, end, min(len(text), end + _WINDOW))
    return (m.group(1) or "") if m else ""


def starts_sentence(text: str, pos: int) -> bool:
    """True when only spaces, quotes and sentence punctuation stand between pos and the
    previous sentence end (or the start of the text)."""
    i = pos - 1
    lo = max(0, pos - _WINDOW)
    while i >= lo and text[i] in " \t\"'“‘(":
        i -= 1
    return i < lo or text[i] in ".!?\n"


def is_capitalised(word: str) -> bool:
    return bool(word) and word[0].isupper()


def sentence_ends_after(text: str, end: int, initialism: bool = False) -> bool:
    """Whether the dot just before ``end`` also closed the sentence, so its period must stay.

    True at the end of the text or a line, and before a capitalised word; after a dotted
    initialism ('the U.S. Army') only before a word that typically opens a sentence.
    """
    m = _AFTER_DOT.match(text, end, min(len(text), end + _WINDOW))
    if not m:
        return False
    if m.group("nl") is not None:
        return True
    word = m.group("word")
    if not word or not m.group("ws"):
        return False
    bare = word.lstrip('"“‘([')
    if not bare[0].isupper():
        return False
    if initialism:
        return bare in SENTENCE_STARTERS or bare != word
    return True


def alternation(choices) -> str:
    """A regex alternative of the words, longest first (so "Sept" wins over "Sep")."""
    return "|".join(re.escape(w) for w in sorted(choices, key=len, reverse=True))


def keep_period(m: re.Match, text: str, spoken: str, initialism: bool = False) -> str:
    """``spoken``, with the period the match took (an abbreviation's: "a.m.", "Co.") given
    back when it also ends the sentence."""
    if m.group(0).endswith(".") and sentence_ends_after(text, m.end(), initialism):
        return spoken + "."
    return spoken
