"""Books as chapters: plain text, Markdown and EPUB files split where their chapters begin.

``.txt``: a chapter starts at a line such as "Chapter 3", "CHAPTER III", "Chapter Three: The
Storm", "Part 2", "Prologue" or "Epilogue" standing on its own, or at a form feed. ``.md``: at
each heading of the highest level used (``#`` if present, else ``##``...). Text before the first
chapter becomes a chapter of its own when it has something to say (a preface), titled by the
book's title when there is one.
"""

import io
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

from core.languages import language_for_tag

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


# --- EPUB ---------------------------------------------------------------------------------------

MAX_EPUB_UNPACKED_BYTES = 200 * 1024 * 1024  # far above any novel; refuses zip bombs
_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "blockquote", "li", "br", "tr", "dt", "dd", "pre", "hr"}
    | {f"h{level}" for level in range(1, 7)}
)
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "nav"})


class BookError(ValueError):
    """A book file that cannot be read; the message says why, for the client."""


@dataclass(frozen=True)
class Book:
    title: str | None
    author: str | None
    chapters: list[Chapter]
    language: str | None = None  # our code for its dc:language, when a supported one


class _TextExtractor(HTMLParser):
    """Readable text of an XHTML chapter: blocks become paragraphs, markup disappears."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        paragraphs = ("".join(self.parts)).split("\n\n")
        return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def html_text(markup: bytes | str) -> str:
    parser = _TextExtractor()
    parser.feed(markup.decode("utf-8", "replace") if isinstance(markup, bytes) else markup)
    return parser.text()


def _toc_titles(entries) -> dict[str, str]:
    """href (without #fragment) -> title, for every entry of a nested EPUB table of contents."""
    titles: dict[str, str] = {}
    if not isinstance(entries, list | tuple):  # ebooklib reads a one-entry TOC as the entry
        entries = [entries]
    for entry in entries:
        if isinstance(entry, tuple):  # (Section, [children])
            section, children = entry
            if getattr(section, "href", None):
                titles.setdefault(section.href.split("#")[0], section.title)
            titles.update({k: v for k, v in _toc_titles(children).items() if k not in titles})
        elif getattr(entry, "href", None):
            titles.setdefault(entry.href.split("#")[0], entry.title)
    return titles


def _metadata(book, name: str) -> str | None:
    values = book.get_metadata("DC", name)
    return str(values[0][0]).strip() if values and values[0][0] else None


def read_epub(data: bytes) -> Book:
    """Chapters in spine order, titled from the table of contents. When the book has a table of
    contents, documents it does not list (cover, copyright and title pages) are left out."""
    from ebooklib import ITEM_DOCUMENT, epub

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise BookError("not an EPUB: the file is not a zip archive") from error
    with archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_EPUB_UNPACKED_BYTES:
            raise BookError(
                f"the EPUB unpacks to {unpacked:,} bytes; the limit is {MAX_EPUB_UNPACKED_BYTES:,}"
            )
        if "META-INF/container.xml" not in archive.namelist():
            raise BookError("not an EPUB: META-INF/container.xml is missing")
    try:
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    except Exception as error:  # ebooklib and lxml raise many kinds for broken files
        raise BookError(f"the EPUB cannot be read: {error}") from error

    toc = _toc_titles(book.toc)
    chapters = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ITEM_DOCUMENT:
            continue
        name = item.get_name()
        if toc and name not in toc:
            continue
        text = html_text(item.get_content())
        if _has_words(text):
            chapters.append(Chapter(toc.get(name) or f"Chapter {len(chapters) + 1}", text))
    tag = _metadata(book, "language")
    return Book(
        _metadata(book, "title"),
        _metadata(book, "creator"),
        chapters,
        language_for_tag(tag) if tag else None,
    )
