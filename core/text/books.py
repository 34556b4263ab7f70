"""Books as chapters: plain text, Markdown and EPUB files split where their chapters begin.

``.txt``: a chapter starts at a line such as "Chapter 3", "CHAPTER III", "Chapter Three: The
Storm", "Part 2", "Prologue" or "Epilogue" standing on its own, or at a form feed. ``.md``: at
each heading of the highest level used (``#`` if present, else ``##``...; a ``#`` line inside a
``` code block is code, not a heading). Text pasted as a job's whole text is read so too when it
has such a heading (``pasted_chapters``). Text before the first chapter becomes a chapter of
its own when it has something to say (a preface), titled by the book's title when there is one.
``.epub``: see core/text/epub.py.

A book comes from a client, so reading one costs time linear in its size: no pattern here can
backtrack over what it has already read.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain

from core.jobs.limits import MAX_JOB_CHAPTERS

MAX_TITLE_CHARS = 120
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty"
)
_NUMBER = rf"\d+|[ivxlcdm]+|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?"
# The title's characters are taken at once and never given back ({0,120}+): giving them back
# to the spaces after it could not end the line anywhere else, only cost 120 x 120 steps a line
_TXT_HEADING = re.compile(
    rf"^[ \t]*((?:chapter|part|book)[ \t]+(?:{_NUMBER})"
    rf"\b[^\n]{{0,{MAX_TITLE_CHARS}}}+|prologue|epilogue|introduction|preface)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# A heading's text runs to the end of its line; its closing #s are cut in Python
# (_heading_title): a pattern that told them apart from the text could try every split of the
# line between the two
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S[^\n]*)$", re.MULTILINE)
# The headings of one level: the highest level used is found by a search for each in turn,
# and its headings without a look at the others
_MD_HEADINGS_AT = {
    level: re.compile(rf"^(#{{{level}}})[ \t]+(\S[^\n]*)$", re.MULTILINE) for level in range(1, 7)
}
_MD_FENCE = re.compile(r"^```[^\n]*$", re.MULTILINE)
# Link text and URL stop at a bracket, so a match tried from each "[" of a run reads only up to
# the next one
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^\[\])]*\)")
_MD_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d+\.)[ \t]+", re.MULTILINE)
_MD_QUOTE = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)
# Emphasis and code marks: every *, _ and ` and each ~~, taken out by str.translate and
# str.replace, which make one new string where a pattern's sub makes a piece for every match
_MD_MARKS = str.maketrans("", "", "*_`")
_SLICE_CHARS = 256 * 1024  # see _in_slices
_LETTER = re.compile(r"[^\W\d_]")  # where _in_slices may cut a line: no Markdown mark is one
_PAGE = re.compile(r"[^\f]+")  # a page of text between form feeds


@dataclass(frozen=True)
class Chapter:
    title: str
    text: str


class BookError(ValueError):
    """A book file that cannot be read; the message says why, for the client."""


# Chapters are counted as they are found: a book of a million one-line chapters is refused
# after MAX_JOB_CHAPTERS of them, not after a million are made
_TOO_MANY_CHAPTERS = (
    f"the book has more than {MAX_JOB_CHAPTERS} chapters, the most a job may have: join short "
    "chapters, or split the book into several jobs"
)


_WORD_CHARACTER = re.compile(r"[^\W_]")  # what str.isalnum() accepts


def has_words(text: str, start: int = 0, end: int | None = None) -> bool:
    return _WORD_CHARACTER.search(text, start, len(text) if end is None else end) is not None


def append_chapter(chapters: list[Chapter], title: str, body: str) -> None:
    """``body``, which has words, as the next chapter: past MAX_JOB_CHAPTERS, a BookError."""
    if len(chapters) == MAX_JOB_CHAPTERS:
        raise BookError(_TOO_MANY_CHAPTERS)
    chapters.append(Chapter(title, body.strip()))


def _split(
    text: str, headings: Iterable[re.Match], title_of: Callable[[re.Match], str], preface: str
) -> list[Chapter]:
    """Cut ``text`` at the heading matches, each chapter running to the next heading (the text
    before the first is titled ``preface``). The headings are read as they are found, and a
    body is copied out only when it has words."""
    chapters: list[Chapter] = []
    body_start, heading = 0, None
    for following in chain(headings, [None]):
        body_end = len(text) if following is None else following.start()
        if has_words(text, body_start, body_end):
            title = preface if heading is None else title_of(heading)
            append_chapter(chapters, title, text[body_start:body_end])
        if following is not None:
            body_start, heading = following.end(), following
    return chapters


def _txt_title(heading: re.Match) -> str:
    return " ".join(heading.group(1).split())


def split_txt(text: str, title: str = "Opening") -> list[Chapter]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A form feed is a page break that starts a chapter; it carries no title of its own
    if "\f" in text and not _TXT_HEADING.search(text):
        parts: list[Chapter] = []
        for page in _PAGE.finditer(text):
            if has_words(text, page.start(), page.end()):
                append_chapter(parts, f"Part {len(parts) + 1}", page.group())
        return parts
    text = text.replace("\f", "\n\n")
    return _split(text, _TXT_HEADING.finditer(text), _txt_title, title)


def _in_slices(text: str, rewrite: Callable[[str], str]) -> str:
    """``rewrite`` applied to ``text`` a slice at a time, each _SLICE_CHARS to twice that long
    and cut at a blank line, else at a line end, else before a letter. A pattern's sub keeps a
    piece of text for every match until it is done: ten megabytes of short list items would
    hold some 150 MB of pieces at once, a slice's hold a few."""
    if len(text) <= 2 * _SLICE_CHARS:
        return rewrite(text)
    done = []
    start = 0
    while len(text) - start > 2 * _SLICE_CHARS:
        low, high = start + _SLICE_CHARS, start + 2 * _SLICE_CHARS
        cut = text.find("\n\n", low, high)
        if cut < 0:
            cut = text.find("\n", low, high)
        if cut >= 0:
            cut += 1  # the next slice starts a line, as it did in the text
        else:
            letter = _LETTER.search(text, low, high)
            cut = letter.start() if letter else high
        done.append(rewrite(text[start:cut]))
        start = cut
    done.append(rewrite(text[start:]))
    return "".join(done)


def _plain_markdown(text: str) -> str:
    """Markdown read aloud: link text without the URL, no emphasis marks or code fences."""
    return _in_slices(text, _plain_markdown_slice)


def _plain_markdown_slice(text: str) -> str:
    text = _MD_FENCE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_LIST_MARKER.sub("", text)
    text = _MD_QUOTE.sub("", text)
    return text.translate(_MD_MARKS).replace("~~", "")


def _heading_title(text: str) -> str:
    """A heading's text without its closing #s, which CommonMark counts as such only after a
    space ("# C#" is about C#); a heading of #s alone keeps them."""
    title = text.rstrip(" \t")
    unclosed = title.rstrip("#")
    if unclosed != title and unclosed[-1:] in (" ", "\t"):
        title = unclosed.rstrip(" \t")
    return title


def _heading_line(match: re.Match) -> str:
    return _heading_title(match.group(2)) + "."


def _md_title(heading: re.Match) -> str:
    return _plain_markdown(_heading_title(heading.group(2))).strip()


def _unfenced(text: str, headings: Iterable[re.Match]) -> Iterator[re.Match]:
    """The heading matches of ``text`` that lie outside code blocks: a ``` line opens one and
    the next closes it (one left open runs to the end, as CommonMark reads it). The fences are
    read as the headings are, never held in a list: a text of fence lines costs no memory."""
    fences = _MD_FENCE.finditer(text)
    block = (-1, -1)  # the code block at or after the last heading: its fences' starts
    for heading in headings:
        while block[1] < heading.start():
            opening = next(fences, None)
            if opening is None:
                block = (len(text) + 1, len(text) + 1)  # no more blocks
                break
            closing = next(fences, None)
            block = (opening.start(), len(text) if closing is None else closing.start())
        if not block[0] < heading.start() < block[1]:
            yield heading


def _top_heading_level(text: str) -> int | None:
    """The highest level of heading ``text`` uses outside code blocks; None when it has none."""
    return next(
        (
            level
            for level, at in _MD_HEADINGS_AT.items()
            if next(_unfenced(text, at.finditer(text)), None) is not None
        ),
        None,
    )


def split_markdown(text: str, title: str = "Opening") -> list[Chapter]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    top = _top_heading_level(text)
    if top is None:
        return _split(_plain_markdown(text), (), _md_title, title)
    headings = _unfenced(text, _MD_HEADINGS_AT[top].finditer(text))
    chapters = _split(text, headings, _md_title, title)
    # Lower-level headings stay in the text, read as lines of their own
    return [Chapter(c.title, _in_slices(c.text, _plain_markdown_body).strip()) for c in chapters]


def _plain_markdown_body(text: str) -> str:
    return _plain_markdown_slice(_MD_HEADING.sub(_heading_line, text))


# The markups in which a pasted text's Markdown headings are its chapters; in SSML a # is text
HEADING_MARKUPS = ("none", "tags")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def pasted_chapters(text: str, markup: str, title: str = "Opening") -> list[Chapter] | None:
    """A job's whole ``text`` read as an uploaded .md file is, when it has a Markdown heading:
    a line that starts with 1 to 6 #s, a space or tab and words ("#1 in sales" is none), outside
    ``` code blocks. Its chapters start at the headings of the highest level used, titled by
    them (their #s are never said); None when it has no heading, or for a markup that is not
    one of HEADING_MARKUPS. Markup "tags" keeps the text between headings as written, but for
    lower headings read as lines: [word](/ipa/) is a tag there, not a link to drop. Titles fit a
    chapter's label: one line without control characters, at most MAX_TITLE_CHARS."""
    if markup not in HEADING_MARKUPS:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    top = _top_heading_level(text)
    if top is None:
        return None
    if markup == "none":
        chapters = split_markdown(text, title)
    else:
        headings = _unfenced(text, _MD_HEADINGS_AT[top].finditer(text))
        chapters = [
            Chapter(c.title, _in_slices(c.text, _spoken_headings).strip())
            for c in _split(text, headings, _md_title, title)
        ]
    # A body whose words were all Markdown (a link's URL) has nothing left to say
    return [Chapter(_label(c.title), c.text) for c in chapters if has_words(c.text)]


def _spoken_headings(text: str) -> str:
    return _MD_HEADING.sub(_heading_line, text)


def _label(title: str) -> str:
    title = _CONTROL.sub("", " ".join(title.split()))
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"
