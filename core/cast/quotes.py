"""Quotations in English prose: where each one starts and ends.

A quote's ``start`` is the index of its opening mark and its ``end`` the index just after its
closing mark: the span holds both marks, as a reader would underline it. A line of dialogue
opened by a dash (—Where are you going? he asked.) starts at the dash and ends after its last
spoken character (the "?"); when the speech goes on after the tag (he asked. It is late.), the
rest is a quote of its own, from its first letter to the end of the paragraph. A quotation that
runs over several paragraphs (each opens with a quote mark, only the last one closes) is one
quote, from the first opening mark to the closing one; an opening mark never closed ends its
quote at the end of its paragraph.

Which marks open the dialogue is decided for the whole text: double quotes (" and “ ”, and
« ») or single ones (' and ‘ ’) as British printers use, whichever opens more quotes. Marks of
the other kind only nest inside (a quote within a quote stays part of the outer one). A single
mark is an apostrophe when it stands inside a word (don't, o'clock), opens an elision ('tis,
'em, rock 'n' roll, '99), or closes a plural or a dropped letter (the Joneses' house, goin'
home). A short quote inside a sentence that is no speech ("built for "style," not service", a
large "E") is a mention, not dialogue, and is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.cast.lexicon import CLOSE_FOLLOWERS, ELIDED_T_WORDS, ELISIONS, SPEECH_VERBS
from core.cast.tags import after_abbreviation, tag_after

DOUBLE_OPENING = "“«"
DOUBLE_CLOSING = "”»"
SINGLE_OPENING = "‘"
SINGLE_CLOSING = "’"
STRAIGHT_DOUBLE = '"'
STRAIGHT_SINGLE = "'"
DOUBLE_MARKS = DOUBLE_OPENING + DOUBLE_CLOSING + STRAIGHT_DOUBLE
SINGLE_MARKS = SINGLE_OPENING + SINGLE_CLOSING + STRAIGHT_SINGLE
QUOTE_MARKS = DOUBLE_MARKS + SINGLE_MARKS
DIALOGUE_DASHES = "—―–"
MARK = re.compile(r"[\"“”«»'‘’]")
# Where a line of dialogue may stop for its tag: after this punctuation and a space
SPEECH_BREAK = re.compile(r"[,.!?…;:](?=\s)")
# What may stand before an opening mark, and after a closing one
_BEFORE_OPENING = "([{—–-/" + QUOTE_MARKS
_AFTER_CLOSING = ",.;:!?)]}—–-…" + QUOTE_MARKS
# A mention ("style," a large "E") is at most this long
_MENTION_WORDS = 3
_MENTION_CHARS = 40
_WORDISH = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class QuoteSpan:
    start: int
    end: int
    paragraph: int
    dash: bool = False  # a line of dialogue opened by a dash, or its continuation


def _opens(text: str, i: int, lo: int, hi: int) -> bool:
    before = text[i - 1] if i > lo else " "
    after = text[i + 1] if i + 1 < hi else " "
    return (before.isspace() or before in _BEFORE_OPENING) and not after.isspace()


def _closes(text: str, i: int, lo: int, hi: int) -> bool:
    before = text[i - 1] if i > lo else " "
    after = text[i + 1] if i + 1 < hi else " "
    return not before.isspace() and (after.isspace() or after in _AFTER_CLOSING)


def _word_at(text: str, i: int, hi: int) -> str:
    end = i
    while end < hi and end - i < 12 and text[end].isalpha():
        end += 1
    return text[i:end]


def _elision(text: str, i: int, hi: int) -> bool:
    """Whether a single mark at i opens an elided word ('tis, 'em, '99) rather than a quote."""
    if i + 1 < hi and text[i + 1].isdigit():
        return True
    word = _word_at(text, i + 1, hi)
    return (word.islower() and word in ELISIONS) or word.lower().startswith(ELIDED_T_WORDS)


def _apostrophe_after(text: str, i: int, hi: int) -> bool:
    """Whether a single mark at i that could close a quote ends a word instead: the Joneses'
    house, goin' home (a letter before it, a lower-case word after that is no tag)."""
    if not text[i - 1].isalpha() or i + 2 >= hi or text[i + 1] != " ":
        return False
    word = _word_at(text, i + 2, hi)
    return bool(word) and word.islower() and word not in CLOSE_FOLLOWERS


def _is_inside_word(text: str, i: int, lo: int, hi: int) -> bool:
    return i > lo and i + 1 < hi and text[i - 1].isalnum() and text[i + 1].isalnum()


def quote_style(text: str) -> str:
    """ "double" or "single": the marks that open more quotes in this text (as many: those
    that open the first)."""
    doubles = singles = 0
    first = None
    size = len(text)
    for match in MARK.finditer(text):
        mark, i = match.group(), match.start()
        if mark in DOUBLE_OPENING or (mark == STRAIGHT_DOUBLE and _opens(text, i, 0, size)):
            doubles += 1
            first = first or "double"
        elif (
            mark in (SINGLE_OPENING, STRAIGHT_SINGLE)
            and _opens(text, i, 0, size)
            and not _elision(text, i, size)
        ):
            singles += 1
            first = first or "single"
    if singles == doubles:
        return first or "double"
    return "single" if singles > doubles else "double"


class _Scanner:
    """Reads the marks of one paragraph after another, carrying a quote that runs on."""

    def __init__(self, text: str, style: str):
        self.text = text
        self.single = style == "single"
        self.marks = SINGLE_MARKS if self.single else DOUBLE_MARKS
        self.open_at: int | None = None
        self.open_paragraph = 0
        self.depth = 0
        self.found: list[QuoteSpan] = []

    def _emit(self, end: int) -> None:
        if self.open_at is not None:
            self.found.append(QuoteSpan(self.open_at, end, self.open_paragraph))
        self.open_at = None
        self.depth = 0

    def _open(self, i: int, paragraph: int) -> None:
        if self.open_at is None:
            self.open_at, self.open_paragraph, self.depth = i, paragraph, 0
        else:
            self.depth += 1

    def _close(self, i: int) -> None:
        if self.depth:
            self.depth -= 1
        else:
            self._emit(i + 1)

    def starts_with_opening(self, lo: int, hi: int) -> bool:
        if lo >= hi:
            return False
        mark = self.text[lo]
        if self.single:
            return mark == SINGLE_OPENING or (
                mark == STRAIGHT_SINGLE and not _elision(self.text, lo, hi)
            )
        return mark in DOUBLE_OPENING or mark == STRAIGHT_DOUBLE

    def paragraph(self, index: int, lo: int, hi: int, previous_end: int) -> None:
        start = lo
        if self.open_at is not None:
            if self.starts_with_opening(lo, hi):
                start = lo + 1  # the quotation runs on: this mark only reopens it
            else:
                self._emit(previous_end)
        for match in MARK.finditer(self.text, start, hi):
            mark = match.group()
            if mark in self.marks:
                self._mark(mark, match.start(), index, lo, hi)

    def _mark(self, mark: str, i: int, paragraph: int, lo: int, hi: int) -> None:
        text = self.text
        if mark in DOUBLE_OPENING:
            self._open(i, paragraph)
        elif mark in DOUBLE_CLOSING:
            if self.open_at is not None:
                self._close(i)
        elif mark == STRAIGHT_DOUBLE:
            self._straight(i, paragraph, lo, hi)
        elif _is_inside_word(text, i, lo, hi):
            return  # don't, o'clock
        elif mark == SINGLE_OPENING:
            if not _elision(text, i, hi):
                self._open(i, paragraph)
        elif _opens(text, i, lo, hi) and not _closes(text, i, lo, hi):
            if _elision(text, i, hi) or mark == SINGLE_CLOSING:
                return  # 'tis, ’em: a closing curly mark at a word's start is an apostrophe
            self._open(i, paragraph)
        elif (
            self.open_at is not None
            and _closes(text, i, lo, hi)
            and not _apostrophe_after(text, i, hi)
        ):
            self._close(i)

    def _straight(self, i: int, paragraph: int, lo: int, hi: int) -> None:
        opens = _opens(self.text, i, lo, hi)
        closes = _closes(self.text, i, lo, hi)
        if self.open_at is None:
            if opens:
                self._open(i, paragraph)
        elif opens and not closes:
            self.depth += 1  # "He said "hi" to me": a quote inside
        else:
            self._close(i)

    def finish(self, end: int) -> None:
        self._emit(end)


def _is_mention(text: str, span: QuoteSpan, lo: int) -> bool:
    """A short quote inside a sentence that is no speech: a word shown or named."""
    inner = text[span.start + 1 : span.end - 1].strip()
    if len(inner) > _MENTION_CHARS or len(_WORDISH.findall(inner)) > _MENTION_WORDS:
        return False
    if inner and inner[-1] in "!?.…":
        return False
    before = span.start
    while before > lo and text[before - 1] == " ":
        before -= 1
    if before == lo or not text[before - 1].isalpha():
        return False
    word_start = before
    while word_start > lo and text[word_start - 1].isalpha():
        word_start -= 1
    return text[word_start:before].lower() not in SPEECH_VERBS


def _sentence_end(text: str, pos: int, hi: int) -> int:
    """The index after the sentence that goes on at pos (hi when it runs to the end)."""
    for match in SPEECH_BREAK.finditer(text, pos, hi):
        mark = match.group()
        if mark in "!?…" or (mark == "." and not after_abbreviation(text, pos, match.start())):
            return match.end()
    return hi


def _dash_segments(text: str, index: int, lo: int, hi: int) -> list[QuoteSpan]:
    """A paragraph opened by a dialogue dash: the speech, cut where a tag ("he said") stands,
    and the speech that goes on after the tag's sentence."""
    found = []
    start, at = lo, lo + 1
    while at < hi:
        cut = tag = None
        for match in SPEECH_BREAK.finditer(text, at, hi):
            tag = tag_after(text, match.end(), hi)
            if tag is not None and tag.subject.kind != "voice":
                cut = match.end()
                break
        if cut is None or tag is None:
            break
        found.append(QuoteSpan(start, cut, index, dash=True))
        resume = _sentence_end(text, tag.end, hi)
        while resume < hi and text[resume].isspace():
            resume += 1
        while resume < hi and _narrates(text, resume, hi):
            resume = _sentence_end(text, resume, hi)  # "He turned abruptly": narration goes on
            while resume < hi and text[resume].isspace():
                resume += 1
        start = at = resume
    if start < hi:
        found.append(QuoteSpan(start, hi, index, dash=True))
    return found


_NARRATION = re.compile(r"(?:He|She|They) [a-z]+ed\b")


def _narrates(text: str, pos: int, hi: int) -> bool:
    """Whether the sentence at pos tells what someone did ("He turned abruptly"), where a line
    of dialogue goes on after its tag: a speaker seldom says of others what they did."""
    return _NARRATION.match(text, pos, min(hi, pos + 40)) is not None


def _dash_dialogue(text: str, paragraphs: list[tuple[int, int]]) -> bool:
    """Whether lines of dialogue open with dashes here, rather than quote marks."""
    dashes = sum(1 for lo, hi in paragraphs if text[lo] in DIALOGUE_DASHES)
    marks = sum(1 for lo, hi in paragraphs if text[lo] in QUOTE_MARKS)
    return dashes > marks


def find_quotes(text: str, paragraphs: list[tuple[int, int]]) -> list[QuoteSpan]:
    """Every quote of the text, in order."""
    if not paragraphs:
        return []
    scanner = _Scanner(text, quote_style(text))
    dashes = _dash_dialogue(text, paragraphs)
    previous_end = paragraphs[0][0]
    found: list[QuoteSpan] = []
    for index, (lo, hi) in enumerate(paragraphs):
        if dashes and text[lo] in DIALOGUE_DASHES:
            scanner.finish(previous_end)
            found.extend(_dash_segments(text, index, lo, hi))
        else:
            scanner.paragraph(index, lo, hi, previous_end)
        previous_end = hi
    scanner.finish(previous_end)
    found.extend(scanner.found)
    found.sort(key=lambda span: span.start)
    bounds = dict(enumerate(paragraphs))
    return [
        span
        for span in found
        if span.dash or not _is_mention(text, span, bounds[span.paragraph][0])
    ]
