"""Books as chapters: plain text and Markdown files split where their chapters begin.

``.txt``: a chapter starts at a line such as "Chapter 3", "CHAPTER III", "Chapter Three: The
Storm", "Part 2", "Prologue" or "Epilogue" standing on its own, or at a form feed. ``.md``: at
each heading of the highest level used (``#`` if present, else ``##``...). Text before the first
chapter becomes a chapter of its own when it has something to say (a preface), titled by the
book's title when there is one.
"""

import re
from dataclasses import dataclass

MAX_TITLE_CHARS = 120
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty"
)
_NUMBER = rf"\d+|[ivxlcdm]+|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?"
_TXT_HEADING = re.compile(
    rf"^[ \t]*((?:chapter|part|book)[ \t]+(?:{_NUMBER})"
    rf"\b[^\n]{{0,{MAX_TITLE_CHARS}}}|prologue|epilogue|introduction|preface)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_MD_MARKUP = re.compile(r"(\*\*|__|\*|_|`|~~)")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Chapter:
    title: str
    text: str


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _split(text: str, headings: list[tuple[int, int, str]], preface_title: str) -> list[Chapter]:
    """Cut ``text`` at (start, end, title) heading spans; each chapter runs to the next one."""
    chapters = []
    if headings and _has_words(text[: headings[0][0]]):
        chapters.append(Chapter(preface_title, text[: headings[0][0]].strip()))
    for i, (_, end, title) in enumerate(headings):
        stop = headings[i + 1][0] if i + 1 < len(headings) else len(text)
        body = text[end:stop].strip()
        if _has_words(body):
            chapters.append(Chapter(title, body))
    if not headings and _has_words(text):
        chapters.append(Chapter(preface_title, text.strip()))
    return chapters


def split_txt(text: str, title: str = "Opening") -> list[Chapter]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A form feed is a page break that starts a chapter; it carries no title of its own
    pieces = text.split("\f")
    if len(pieces) > 1 and not _TXT_HEADING.search(text):
        parts = [p.strip() for p in pieces if _has_words(p)]
        return [Chapter(f"Part {i + 1}", p) for i, p in enumerate(parts)]
    text = text.replace("\f", "\n\n")
    headings = [
        (m.start(), m.end(), " ".join(m.group(1).split())) for m in _TXT_HEADING.finditer(text)
    ]
    return _split(text, headings, title)


def _plain_markdown(text: str) -> str:
    """Markdown read aloud: link text without the URL, no emphasis marks or code fences."""
    text = re.sub(r"^```.*$", "", text, flags=re.MULTILINE)
    text = _MD_LINK.sub(r"\1", text)
    text = re.sub(r"^[ \t]*(?:[-*+]|\d+\.)[ \t]+", "", text, flags=re.MULTILINE)  # list markers
    text = re.sub(r"^[ \t]*>[ \t]?", "", text, flags=re.MULTILINE)  # quotes
    return _MD_MARKUP.sub("", text)


def split_markdown(text: str, title: str = "Opening") -> list[Chapter]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found = list(_MD_HEADING.finditer(text))
    if not found:
        return _split(_plain_markdown(text), [], title)
    top = min(len(m.group(1)) for m in found)
    headings = [
        (m.start(), m.end(), _plain_markdown(m.group(2)).strip())
        for m in found
        if len(m.group(1)) == top
    ]
    chapters = _split(text, headings, title)
    # Lower-level headings stay in the text, read as lines of their own
    return [
        Chapter(c.title, _plain_markdown(_MD_HEADING.sub(r"\2.", c.text)).strip()) for c in chapters
    ]
