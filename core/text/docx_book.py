"""DOCX uploads (Word, LibreOffice, Google Docs) read as chapters: a chapter at each Heading 1
paragraph (at each Heading 2 when none is a Heading 1), its title and author from the core
properties. Tables, pictures, text boxes, tracked deletions, field codes, tables of contents and
footnotes are left out, and so are superscript digits (footnote marks typed by hand).

A DOCX is a zip that unpacks to more than was sent: its declared sizes are checked before
anything is unpacked, and word/document.xml is read a block at a time by a streaming parser
(no tree of the document is built), its bytes counted against the budgets it is read under.
"""

import posixpath
import zipfile
from collections.abc import Sequence

from lxml import etree

from core.speech.languages import language_for_tag
from core.text.book_blocks import Block, Paragraphs, chapters_at
from core.text.books import MAX_TITLE_CHARS, BookError
from core.text.epub import (
    UNPACKING_ERRORS,
    Book,
    BookTooLong,
    TextBudget,
    open_zip_book,
    xml_parser,
)

MAX_DOCX_UNPACKED_BYTES = 200 * 1024 * 1024  # what the zip declares, before anything is read
MAX_DOCX_FILES = 10_000
MAX_DOCX_PART_BYTES = 8 * 1024 * 1024  # styles, relationships, core properties
# The document's XML read for each character of text a book may hold: Word writes 10 to 30
# bytes of markup a character (runs, their properties, revision ids)
DOCX_MARKUP_BYTES_PER_CHAR = 40
DOCX_MARKUP_FLOOR_BYTES = 16 * 1024 * 1024
_READ_BLOCK_BYTES = 64 * 1024
_MAX_STYLE_DEPTH = 20  # how far a style's basedOn chain is followed
_BODY_LEVEL = 9  # w:outlineLvl 9 is body text

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_OFFICE_DOCUMENT = "/officeDocument"
_STYLES = "/styles"
# Elements whose text is not the book's: tables, pictures and what they hold (text boxes),
# tracked deletions, the choice that repeats another (mc:Fallback), comments' and notes'
_SKIPPED = frozenset(
    {f"{_W}{name}" for name in ("tbl", "drawing", "pict", "object", "del", "moveFrom")}
    | {f"{_MC}Fallback"}
)
_MARKS = frozenset("0123456789*\u2020\u2021")
_TOC_STYLES = ("toc ", "contents ", "toc heading", "contents heading", "table of contents")


class _Part:
    """What every part's target does with a DOCTYPE: a DOCX has none, and one that declares
    entities could make a few bytes into megabytes of text."""

    def doctype(self, name, public_id, system_url):
        raise BookError("the DOCX has a DOCTYPE, which no DOCX has: it cannot be read")


class _Relationships(_Part):
    """lxml target: a .rels part's targets by type (the first of each type)."""

    def __init__(self):
        self.targets: dict[str, str] = {}

    def start(self, tag, attrib):
        if tag == f"{_RELS}Relationship" and attrib.get("TargetMode") != "External":
            kind = attrib.get("Type", "").rsplit("/", 1)[-1]
            self.targets.setdefault(f"/{kind}", attrib.get("Target", ""))

    def end(self, tag):
        pass

    def data(self, data):
        pass

    def close(self):
        return self


class _Styles(_Part):
    """lxml target: each paragraph style's name, outline level and the style it is based on."""

    def __init__(self):
        self.names: dict[str, str] = {}
        self.based_on: dict[str, str] = {}
        self.levels: dict[str, int] = {}
        self.style: str | None = None

    def start(self, tag, attrib):
        if tag == f"{_W}style":
            paragraph = attrib.get(f"{_W}type", "paragraph") == "paragraph"
            self.style = attrib.get(f"{_W}styleId") if paragraph else None
        elif self.style is None:
            return
        elif tag == f"{_W}name":
            self.names[self.style] = attrib.get(f"{_W}val", "").strip().lower()
        elif tag == f"{_W}basedOn":
            self.based_on[self.style] = attrib.get(f"{_W}val", "")
        elif tag == f"{_W}outlineLvl":
            level = _int(attrib.get(f"{_W}val"))
            if level is not None:
                self.levels[self.style] = level + 1

    def end(self, tag):
        if tag == f"{_W}style":
            self.style = None

    def data(self, data):
        pass

    def close(self):
        return self

    def name(self, style: str) -> str:
        return self.names.get(style, style.lower())

    def heading_level(self, style: str) -> int:
        """1 for Heading 1 ...; 0 for a style that is no heading. A style's own outline level
        comes first, then its name's, then those of the style it is based on."""
        for _ in range(_MAX_STYLE_DEPTH):
            if style in self.levels:
                level = self.levels[style]
                return level if level <= _BODY_LEVEL else 0
            name = self.names.get(style, style.lower())
            words = name.replace("heading", "heading ").split()
            if len(words) == 2 and words[0] == "heading" and words[1].isdigit():
                return int(words[1])
            if style not in self.based_on:
                return 0
            style = self.based_on[style]
        return 0


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class _CoreProperties(_Part):
    """lxml target: docProps/core.xml's title, creator and language."""

    _FIELDS = {f"{_DC}title": "title", f"{_DC}creator": "author", f"{_DC}language": "language"}

    def __init__(self):
        self.fields: dict[str, str] = {}
        self.field: str | None = None
        self.text: list[str] = []

    def start(self, tag, attrib):
        self.field, self.text = self._FIELDS.get(tag), []

    def end(self, tag):
        if self.field:
            value = " ".join("".join(self.text).split())
            if value:
                self.fields.setdefault(self.field, value[:MAX_TITLE_CHARS])
        self.field = None

    def data(self, data):
        if self.field:
            self.text.append(data)

    def close(self):
        return self


class _Document(_Part):
    """lxml target: word/document.xml's paragraphs as blocks, each with its heading level."""

    def __init__(self, styles: _Styles, budgets: Sequence[TextBudget]):
        self.styles = styles
        self.paragraphs = Paragraphs(budgets)
        self.blocks: list[Block] = []
        self.title: str | None = None  # the first paragraph in the Title style
        self.skipping = 0
        self.in_paragraph = False
        self.in_text = False
        self.style = ""
        self.level: int | None = None  # the paragraph's own outline level
        self.run: list[str] = []
        self.superscript = False

    def start(self, tag, attrib):
        if tag in _SKIPPED:
            self.skipping += 1
        if self.skipping:
            return
        if tag == f"{_W}p":
            self.in_paragraph, self.style, self.level = True, "", None
        elif tag == f"{_W}pStyle":
            self.style = attrib.get(f"{_W}val", "")
        elif tag == f"{_W}outlineLvl":
            level = _int(attrib.get(f"{_W}val"))
            self.level = level + 1 if level is not None else None
        elif tag == f"{_W}r":
            self.run, self.superscript = [], False
        elif tag == f"{_W}vertAlign":
            self.superscript = attrib.get(f"{_W}val") == "superscript"
        elif tag == f"{_W}t":
            self.in_text = True
        elif tag in (f"{_W}tab", f"{_W}br", f"{_W}cr"):
            self.run.append(" ")
        elif tag == f"{_W}noBreakHyphen":
            self.run.append("-")

    def end(self, tag):
        if self.skipping:
            if tag in _SKIPPED:
                self.skipping -= 1
            return
        if tag == f"{_W}t":
            self.in_text = False
        elif tag == f"{_W}r":
            text = "".join(self.run)
            # A superscript number is a footnote mark typed by hand: not read
            if not (self.superscript and text.strip() and set(text.strip()) <= _MARKS):
                self.paragraphs.add(text)
            self.run = []
        elif tag == f"{_W}p":
            self._end_paragraph()

    def data(self, data):
        if self.in_text and not self.skipping:
            self.run.append(data)

    def _end_paragraph(self) -> None:
        self.in_paragraph = False
        name = self.styles.name(self.style)
        if name.startswith(_TOC_STYLES):
            self.paragraphs.pieces.clear()
            return
        text = self.paragraphs.take()
        if not text:
            return
        if name == "title" and self.title is None:
            self.title = text[:MAX_TITLE_CHARS]
        level = self.level if self.level is not None else self.styles.heading_level(self.style)
        self.blocks.append(Block(text, level if 0 < level < _BODY_LEVEL + 1 else 0))

    def close(self):
        return self


class _Docx:
    def __init__(self, archive: zipfile.ZipFile, budgets: Sequence[TextBudget]):
        self.archive = archive
        self.budgets = budgets
        self.files = {info.filename: info for info in archive.infolist() if not info.is_dir()}

    def book(self, title: str) -> Book:
        package = self._part("_rels/.rels", _Relationships(), required=False)
        main = _part_path("", (package.targets if package else {}).get(_OFFICE_DOCUMENT))
        main = main if main in self.files else "word/document.xml"
        if main not in self.files:
            raise BookError("not a DOCX: it holds no word/document.xml")
        directory = posixpath.dirname(main)
        rels_path = posixpath.join(directory, "_rels", posixpath.basename(main) + ".rels")
        relationships = self._part(rels_path, _Relationships(), required=False)
        styles_path = _part_path(
            directory, (relationships.targets if relationships else {}).get(_STYLES)
        )
        styles = self._part(styles_path or "word/styles.xml", _Styles(), required=False)
        document = self._document(main, styles or _Styles())
        core = self._part("docProps/core.xml", _CoreProperties(), required=False)
        fields = core.fields if core else {}
        levels = {block.level for block in document.blocks}
        level = 1 if 1 in levels else 2 if 2 in levels else None
        language = fields.get("language")
        return Book(
            fields.get("title") or document.title,
            fields.get("author"),
            chapters_at(document.blocks, level, title),
            language_for_tag(language) if language else None,
        )

    def _part(self, path: str, target, required: bool):
        info = self.files.get(path)
        if info is None:
            if required:
                raise BookError(f"not a DOCX: it holds no {path}")
            return None
        if info.file_size > MAX_DOCX_PART_BYTES:
            raise BookError(
                f"the DOCX's {path} has {info.file_size:,} bytes; the most read of it is "
                f"{MAX_DOCX_PART_BYTES:,}"
            )
        return self._parse(path, xml_parser(target), allowance=None)

    def _document(self, path: str, styles: _Styles) -> _Document:
        chars = min((b.chars for b in self.budgets), default=0)
        allowance = max(DOCX_MARKUP_FLOOR_BYTES, DOCX_MARKUP_BYTES_PER_CHAR * chars)
        return self._parse(path, xml_parser(_Document(styles, self.budgets)), allowance)

    def _parse(self, path: str, parser, allowance: int | None):
        read = 0
        try:
            parser.feed(b"")
            with self.archive.open(self.files[path]) as stream:
                while block := stream.read(_READ_BLOCK_BYTES):
                    read += len(block)
                    if allowance is not None and read > allowance:
                        smallest = min(self.budgets, key=lambda b: b.chars)
                        raise BookTooLong(
                            f"the DOCX's text passes {allowance:,} bytes of markup, "
                            f"{DOCX_MARKUP_BYTES_PER_CHAR} for each character of {smallest.limit}"
                        )
                    parser.feed(block)
            return parser.close()
        except BookError:
            raise
        except etree.LxmlError as error:
            raise BookError(f"the DOCX's {path} cannot be read: {error}") from error
        except UNPACKING_ERRORS as error:
            raise BookError(f"the DOCX's {path} cannot be unpacked: {error}") from error


def _part_path(directory: str, target: str | None) -> str | None:
    if not target:
        return None
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(directory, target))


def read_docx(data: bytes, *budgets: TextBudget, title: str = "Opening") -> Book:
    """Chapters at the Heading 1 paragraphs (Heading 2 when there is none; one chapter titled
    ``title`` when there is neither); text before the first is titled ``title``. Reading stops
    with BookTooLong once the text, or the markup read to find it, passes one of
    ``budgets``."""
    with open_zip_book(data, "DOCX", "a", MAX_DOCX_FILES, MAX_DOCX_UNPACKED_BYTES) as archive:
        return _Docx(archive, budgets).book(title)
