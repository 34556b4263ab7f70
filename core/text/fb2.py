"""FictionBook 2 (.fb2) uploads read as chapters: a chapter at each <section> of the book's
main <body> (at each of its sections' when the body holds a single one), titled by the
section's <title>; the title, author and language from <description><title-info>. Notes
bodies, pictures and tables are left out, and so are note references in the text.

The book is read by a streaming XML parser, its text counted as it is found.
"""

from collections import Counter
from collections.abc import Sequence

from lxml import etree

from core.speech.languages import language_for_tag
from core.text.book_blocks import Block, Paragraphs, chapters_at
from core.text.books import MAX_TITLE_CHARS, BookError
from core.text.epub import Book, TextBudget, xml_parser

_READ_BLOCK_BYTES = 64 * 1024
_FB2 = "{http://www.gribuser.ru/xml/fictionbook/2.0}"
_XLINK_TYPE = "type"
# Block elements: each is a paragraph of its own
_BLOCKS = frozenset({"p", "v", "subtitle", "text-author", "empty-line", "stanza", "title"})
_SKIPPED = frozenset({"binary", "image", "table", "annotation", "history", "coverpage"})
_AUTHOR_PARTS = ("first-name", "middle-name", "last-name")
_NOTE_BODIES = frozenset({"notes", "comments", "footnotes"})


def _local(tag) -> str:
    """An element's name without its namespace: FB2 files do not all declare theirs."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


class _FictionBook:
    """lxml target: the main body's blocks, a section's title as a heading of its depth, and
    title-info's fields."""

    def __init__(self, budgets: Sequence[TextBudget]):
        self.paragraphs = Paragraphs(budgets)
        self.blocks: list[Block] = []
        self.sections: list[int] = []  # how many sections each depth has, the top first
        self.path: list[str] = []  # the open elements' names
        self.open: Counter[str] = Counter()  # how many of each name are open
        self.skipping = 0
        self.bodies = 0
        self.in_main_body = False
        self.depth = 0  # the sections open
        self.title_depth: int | None = None  # the depth of the section whose title is read
        self.info: dict[str, str] = {}
        self.author: dict[str, str] = {}
        self.field: str | None = None
        self.field_text: list[str] = []

    def doctype(self, name, public_id, system_url):
        # A FictionBook has none, and one that declares entities could make a few bytes into
        # megabytes of text
        raise BookError("the book has a DOCTYPE, which no FictionBook has: it cannot be read")

    def start(self, tag, attrib):
        name = _local(tag)
        self.path.append(name)
        self.open[name] += 1
        if self.skipping or name in _SKIPPED or (name == "a" and _is_note(attrib)):
            self.skipping += 1
            return
        if name == "body":
            self.bodies += 1
            self.in_main_body = (attrib.get("name") or "").lower() not in _NOTE_BODIES and (
                self.bodies == 1
            )
        elif (
            self.open["title-info"]
            and name in ("book-title", "lang", *_AUTHOR_PARTS)
            and (name not in _AUTHOR_PARTS or self.open["author"])
        ):
            self.field, self.field_text = name, []
        if not self.in_main_body:
            return
        if name == "section":
            self._end_block()
            self.depth += 1
            while len(self.sections) < self.depth:
                self.sections.append(0)
            self.sections[self.depth - 1] += 1
        elif name == "title":
            self._end_block()
            # A section's title is a heading of its depth; the body's own (the book's title
            # again) is not read
            self.title_depth = self.depth
        elif name in _BLOCKS:
            self._end_block()

    def end(self, tag):
        name = _local(tag)
        if self.path:
            self.open[self.path.pop()] -= 1
        if self.skipping:
            self.skipping -= 1
            return
        if self.field == name:
            value = " ".join("".join(self.field_text).split())
            if value and name in _AUTHOR_PARTS:
                self.author[name] = value
            elif value:
                self.info.setdefault(name, value[:MAX_TITLE_CHARS])
            self.field = None
        if name == "author" and self.open["title-info"] and self.author:
            full = " ".join(self.author[p] for p in _AUTHOR_PARTS if self.author.get(p))
            if full:
                self.info.setdefault("author", full[:MAX_TITLE_CHARS])
            self.author = {}
        if name == "body":
            self._end_block()
            self.in_main_body = False
            return
        if not self.in_main_body:
            return
        if name == "title" and self.title_depth is not None:
            text = self.paragraphs.take()
            if text and self.title_depth > 0:
                self.blocks.append(Block(text, self.title_depth))
            self.title_depth = None
        elif name == "section":
            self._end_block()
            self.depth = max(0, self.depth - 1)
        elif name in _BLOCKS and self.title_depth is None:
            self._end_block()
        elif name in _BLOCKS:
            self.paragraphs.add(" ")  # a title's lines (<p>s) are one heading

    def data(self, data):
        if self.skipping:
            return
        if self.field is not None:
            self.field_text.append(data)
        elif self.in_main_body:
            self.paragraphs.add(data)

    def close(self):
        self._end_block()
        return self

    def _end_block(self) -> None:
        if self.title_depth is not None:
            return  # a title's paragraphs end with it
        text = self.paragraphs.take()
        if text:
            self.blocks.append(Block(text))


def _is_note(attrib) -> bool:
    return any(
        key.rsplit("}", 1)[-1] == _XLINK_TYPE and value == "note" for key, value in attrib.items()
    )


def read_fb2(data: bytes, *budgets: TextBudget, title: str = "Opening") -> Book:
    """Chapters at the main body's top sections (their subsections' when it has one section,
    which titles the text before them); else text before the first is titled ``title``.
    Reading stops with BookTooLong once the text passes one of ``budgets``."""
    target = _FictionBook(budgets)
    parser = xml_parser(target)
    try:
        parser.feed(b"")
        for start in range(0, len(data), _READ_BLOCK_BYTES):
            parser.feed(data[start : start + _READ_BLOCK_BYTES])
        book = parser.close()
    except BookError:
        raise
    except etree.LxmlError as error:
        raise BookError(f"not a FictionBook (.fb2) it can read: {error}") from error
    if not book.blocks and "book-title" not in book.info:
        raise BookError("not a FictionBook (.fb2): it has no <body> with text")
    level, preface = 1, title
    if len(book.sections) > 1 and book.sections[0] == 1:
        # One section holds the book: its sections are the chapters, and what comes before
        # the first is titled by it
        level = 2
        preface = next((b.text for b in book.blocks if b.level == 1), title)[:MAX_TITLE_CHARS]
    language = book.info.get("lang")
    return Book(
        book.info.get("book-title"),
        book.info.get("author"),
        chapters_at(book.blocks, level, preface),
        language_for_tag(language) if language else None,
    )
