"""Looking around a match: the neighbouring words and whether a sentence ends there.

Every look is bounded to a short window so the whole pass stays linear in the text length.
"""

from __future__ import annotations

import re

from core.normalize.tables import SENTENCE_STARTERS

_WINDOW = 80
_PREV_WORD = re.compile(r"([^\W\d_][\w'’.&-]*|\d[\w,.]*)[ \t]+$")
_NEXT_WORD = re.compile(r"[ \t]+([^\W_][\w'’-]*)")
_AFTER_DOT = re.compile(
    r"[\"'”’»)\]]*(?P<ws>[ \t]*)(?:(?P<nl>\r?\n|$)|(?P<word>[\"“‘(\[]*[^\W\d_]\w*))?"
)


def prev_word(text: str, start: int) -> str:
    """The word right before ``start`` (only spaces between), or '' when punctuation or a line
    break intervenes."""
    m = _PREV_WORD.search(text, max(0, start - _WINDOW), start)
    return m.group(1) if m else ""


def prev_word_start(text: str, start: int) -> int:
    m = _PREV_WORD.search(text, max(0, start - _WINDOW), start)
    return m.start(1) if m else -1


def next_word(text: str, end: int) -> str:
    """The word right after ``end`` (only spaces between), or ''."""
    m = _NEXT_WORD.match(text, end, min(len(text), end + _WINDOW))
    return m.group(1) if m else ""


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
