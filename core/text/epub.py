"""EPUB uploads read as chapters: a chapter for each document of the spine, titled by the table
of contents, without ebooklib (which reads a file again for every manifest item naming it and
looks spine ids up by scanning the manifest).

An EPUB unpacks to more than was sent, so it is read file by file, each file at most once, its
text counted as it is found (``TextBudget``): reading stops as soon as a book passes the limit
it is read under.
"""

import codecs
import io
import lzma
import posixpath
import unicodedata
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from core.books.covers import MAX_COVER_BYTES, image_type
from core.books.details import (
    MAX_DESCRIPTION_CHARS,
    MAX_SERIES_CHARS,
    isbn_of,
    series_index_of,
    year_of,
)
from core.speech.languages import language_for_tag
from core.text.books import BookError, Chapter, append_chapter, has_words

# What the zip declares is checked before anything is unpacked
MAX_EPUB_UNPACKED_BYTES = 200 * 1024 * 1024  # far above any novel; refuses zip bombs
MAX_EPUB_FILES = 10_000  # a long illustrated book has a few thousand
# What the package document (OPF) lists
MAX_EPUB_MANIFEST_ITEMS = 10_000
MAX_EPUB_SPINE_ITEMS = 10_000
# Each of container.xml, the OPF, the NCX and the nav document: the OPF of a book of 10,000
# files has about a megabyte
MAX_EPUB_PACKAGE_FILE_BYTES = 2 * 1024 * 1024
# Chapter markup read for each character of text a book may hold: XHTML prose takes about 1.2
# bytes a character, Chinese or Japanese about 3.5 (three bytes of UTF-8, and the tags). Past
# that a book is mostly markup, and reading it would cost more than its text is worth.
EPUB_MARKUP_BYTES_PER_CHAR = 4
_READ_BLOCK_BYTES = 64 * 1024
# Every file of a zip has a header in its central directory, which zipfile reads whole
_ZIP_DIRECTORY_HEADER = b"PK\x01\x02"

_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
_PACKAGE_MEDIA_TYPE = "application/oebps-package+xml"
_NCX_MEDIA_TYPE = "application/x-dtbncx+xml"
_DOCUMENT_MEDIA_TYPES = frozenset({"application/xhtml+xml", "text/html"})
_METADATA_FIELDS = {
    f"{_DC}title": "title",
    f"{_DC}creator": "creator",
    f"{_DC}language": "language",
    f"{_DC}description": "description",
    f"{_DC}date": "date",
    f"{_DC}identifier": "identifier",
    f"{_OPF}meta": "meta",
}
_SCHEME = f"{_OPF}scheme"  # EPUB 2's opf:scheme="ISBN" on a dc:identifier

_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "blockquote", "li", "br", "tr", "dt", "dd", "pre", "hr"}
    | {f"h{level}" for level in range(1, 7)}
)
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "nav"})
# A paragraph's text is cut into words and counted in pieces of about this many characters, so
# that one enormous paragraph is counted as it is read, not after
_WORDS_PIECE_CHARS = 64 * 1024


class BookTooLong(BookError):
    """A book whose text, or the markup read to find it, passes the budget it is read under."""


class TextBudget:
    """What reading books may still cost: characters of text, and bytes of chapter markup
    read to find them (EPUB_MARKUP_BYTES_PER_CHAR for each character). The spending that
    passes either raises BookTooLong naming ``limit``, e.g. "one job's limit (KQ_...): do
    this". The books of one request may share a budget."""

    def __init__(self, chars: int, limit: str):
        self.chars = chars
        self.markup_bytes = EPUB_MARKUP_BYTES_PER_CHAR * chars
        self.limit = limit
        self._chars_left = self.chars
        self._markup_bytes_left = self.markup_bytes

    def spend_text(self, chars: int) -> None:
        self._chars_left -= chars
        if self._chars_left < 0:
            raise BookTooLong(f"the text passes {self.chars:,} characters, {self.limit}")

    def spend_markup(self, size: int) -> None:
        self._markup_bytes_left -= size
        if self._markup_bytes_left < 0:
            raise BookTooLong(
                f"the chapters pass {self.markup_bytes:,} bytes of markup, "
                f"{EPUB_MARKUP_BYTES_PER_CHAR} for each character of {self.limit}"
            )


@dataclass(frozen=True)
class Book:
    title: str | None
    author: str | None
    chapters: list[Chapter]
    language: str | None = None  # our code for its dc:language, when a supported one
    # Its details where the package document gives them (core/books/details.py), and its
    # cover image where it is a JPEG or PNG of at most MAX_COVER_BYTES
    description: str | None = None
    year: int | None = None
    isbn: str | None = None
    series: str | None = None
    series_index: float | None = None
    cover: bytes | None = None


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _ChapterText:
    """lxml parser target: the readable text of an (X)HTML document. Blocks become paragraphs,
    markup and white space runs disappear, and every character kept is spent from the budgets
    as it is found."""

    def __init__(self, budgets: Sequence[TextBudget] = ()):
        self.budgets = budgets
        self.paragraphs: list[str] = []
        self.pieces: list[str] = []  # the open paragraph's words, a space-joined piece each
        self.written: list[str] = []  # its text since, as written
        self.written_chars = 0
        self.skipping = 0

    def start(self, tag, attrib):
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self._end_paragraph()

    def end(self, tag):
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._end_paragraph()

    def data(self, data):
        if not self.skipping:
            self.written.append(data)
            self.written_chars += len(data)
            if self.written_chars > _WORDS_PIECE_CHARS:
                self._take_words(paragraph_ends=False)

    def close(self) -> str:
        self._end_paragraph()
        return "\n\n".join(self.paragraphs)

    def _take_words(self, paragraph_ends: bool) -> None:
        written = "".join(self.written)
        words = written.split()
        self.written.clear()
        self.written_chars = 0
        # The last word may go on in the next text (one too long to be a word is cut here)
        last_may_go_on = words and not written[-1].isspace() and not paragraph_ends
        if last_may_go_on and len(words[-1]) < _WORDS_PIECE_CHARS:
            self.written.append(words.pop())
            self.written_chars = len(self.written[0])
        if words:
            piece = " ".join(words)
            # Spent as the joined text will count it: a space before a piece, a blank line
            # before a paragraph
            separator = 1 if self.pieces else 2 if self.paragraphs else 0
            for budget in self.budgets:
                budget.spend_text(separator + len(piece))
            self.pieces.append(piece)

    def _end_paragraph(self) -> None:
        self._take_words(paragraph_ends=True)
        if self.pieces:
            self.paragraphs.append(" ".join(self.pieces))
            self.pieces.clear()


def _html_parser(target) -> etree.HTMLParser:
    # libxml2's forgiving HTML parser: XHTML chapters are often not well-formed, and use HTML
    # entities (&nbsp;) that an XML parser without their DTD drops. It feeds a target, never
    # builds a tree: text reaches the target in pieces, however long its node (a tree drops a
    # node of more than 10,000,000 characters, and with it a whole chapter)
    return etree.HTMLParser(target=target, encoding="utf-8", no_network=True)


def xml_parser(target) -> etree.XMLParser:
    """A parser for a book's XML that never fetches or expands what the file points to
    (no DTD, no entities, no network) and reads past small faults."""
    return etree.XMLParser(
        target=target, recover=True, resolve_entities=False, no_network=True, load_dtd=False
    )


def html_text(markup: bytes | str) -> str:
    """The readable text of an (X)HTML document: blocks as paragraphs, no markup."""
    target = _ChapterText()
    parser = _html_parser(target)
    parser.feed(b"")  # nothing at all is an empty document, not a parser error
    parser.feed(markup.encode("utf-8", "replace") if isinstance(markup, str) else markup)
    return parser.close()


def _path_in(directory: str, href: str) -> str | None:
    """The zip path a relative URL in a file of ``directory`` points to, without #fragment."""
    path = unquote(href.split("#", 1)[0])
    return posixpath.normpath(posixpath.join(directory, path)) if path else None


class _Container:
    """lxml target: META-INF/container.xml's first package document (OPF) path."""

    def __init__(self):
        self.package_path: str | None = None

    def start(self, tag, attrib):
        if (
            self.package_path is None
            and tag == f"{_CONTAINER}rootfile"
            and attrib.get("media-type") == _PACKAGE_MEDIA_TYPE
            and attrib.get("full-path")
        ):
            self.package_path = posixpath.normpath(attrib["full-path"])

    def end(self, tag):
        pass

    def data(self, data):
        pass

    def close(self):
        return self


@dataclass(frozen=True)
class _Item:
    href: str
    media_type: str
    properties: tuple[str, ...]


class _Package:
    """lxml target: what the package document (OPF) says: the book's title, author, language,
    description and date (the first of each), its identifiers, the <meta>s that name its cover
    and series, its manifest by id (the first item of an id) and its spine."""

    def __init__(self):
        self.metadata: dict[str, str] = {}
        self.identifiers: list[tuple[str, bool]] = []  # (text, whether its scheme says ISBN)
        self.metas: list[tuple[dict[str, str], str]] = []  # (attributes, text) of those read
        self.field_attributes: dict[str, str] = {}
        self.manifest: dict[str, _Item] = {}
        self.manifest_items = 0
        self.spine: list[str] = []
        self.ncx_id: str | None = None
        self.field: str | None = None  # the metadata field whose text is being read
        self.field_text: list[str] = []

    def start(self, tag, attrib):
        if tag == f"{_OPF}item":
            self.manifest_items += 1
            if self.manifest_items > MAX_EPUB_MANIFEST_ITEMS:
                raise BookError(
                    f"the EPUB's manifest lists more than {MAX_EPUB_MANIFEST_ITEMS:,} files, "
                    "the most a book may have"
                )
            item = _Item(
                attrib.get("href", ""),
                attrib.get("media-type", "").strip().lower(),
                tuple(attrib.get("properties", "").split()),
            )
            self.manifest.setdefault(attrib.get("id", ""), item)
        elif tag == f"{_OPF}itemref":
            if len(self.spine) == MAX_EPUB_SPINE_ITEMS:
                raise BookError(
                    f"the EPUB's spine lists more than {MAX_EPUB_SPINE_ITEMS:,} documents, "
                    "the most a book may have"
                )
            self.spine.append(attrib.get("idref", ""))
        elif tag == f"{_OPF}spine":
            self.ncx_id = attrib.get("toc")
        elif tag in _METADATA_FIELDS and self.field is None:
            self.field = _METADATA_FIELDS[tag]
            self.field_attributes = dict(attrib)
            self.field_text = []

    def end(self, tag):
        if self.field is not None and _METADATA_FIELDS.get(tag) == self.field:
            # A description keeps its lines (it may be HTML): Book reads it as a document
            text = "".join(self.field_text)
            value = text.strip() if self.field == "description" else _one_line(text)
            attributes = self.field_attributes
            if self.field == "meta":
                if _wanted_meta(attributes):
                    self.metas.append((attributes, value))
            elif self.field == "identifier":
                if value:
                    self.identifiers.append((value, attributes.get(_SCHEME, "").upper() == "ISBN"))
            elif value:
                self.metadata.setdefault(self.field, value)
            self.field = None

    def data(self, data):
        if self.field is not None:
            self.field_text.append(data)

    def close(self):
        return self


# The <meta>s that say where the cover is and which series the book belongs to: EPUB 2's (and
# calibre's) name/content pairs, EPUB 3's properties (a collection, refined by its position)
_META_NAMES = frozenset({"cover", "calibre:series", "calibre:series_index"})
_META_PROPERTIES = frozenset({"belongs-to-collection", "group-position", "collection-type"})


def _wanted_meta(attributes: dict[str, str]) -> bool:
    return attributes.get("name") in _META_NAMES or attributes.get("property") in _META_PROPERTIES


def _series(metas: list[tuple[dict[str, str], str]]) -> tuple[str | None, float | None]:
    """The series and place in it: calibre's, else the first EPUB 3 collection of type series
    or of no type (not a "set"), with its group-position."""
    named: dict[str, str] = {}
    collections: list[tuple[str, str]] = []  # (id, title)
    refined: dict[tuple[str, str], str] = {}  # (collection id, property) -> value
    for attributes, text in metas:
        name, prop = attributes.get("name"), attributes.get("property")
        if name in ("calibre:series", "calibre:series_index"):
            named.setdefault(name, _one_line(attributes.get("content", "")))
        elif prop == "belongs-to-collection" and text:
            collections.append((attributes.get("id", ""), text))
        elif prop and attributes.get("refines", "").startswith("#"):
            refined.setdefault((attributes["refines"][1:], prop), text)
    if named.get("calibre:series"):
        index = series_index_of(named.get("calibre:series_index", ""))
        return _printable(named["calibre:series"])[:MAX_SERIES_CHARS] or None, index
    typed = [c for c in collections if refined.get((c[0], "collection-type"), "series") == "series"]
    for collection_id, title in typed[:1]:
        index = series_index_of(refined.get((collection_id, "group-position"), ""))
        return _printable(title)[:MAX_SERIES_CHARS] or None, index
    return None, None


def _printable(text: str) -> str:
    """Without control characters (a job's fields refuse them), but for line breaks."""
    return "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")


def _cover_item(package: "_Package") -> "_Item | None":
    """The cover image's manifest item: EPUB 3's cover-image property, else the item EPUB 2's
    <meta name="cover" content="..."> names (by id; some books give its href)."""
    items = package.manifest.values()
    item = next((item for item in items if "cover-image" in item.properties), None)
    if item is not None:
        return item
    named = next((a.get("content") for a, _ in package.metas if a.get("name") == "cover"), None)
    if not named:
        return None
    return package.manifest.get(named) or next((i for i in items if i.href == named), None)


class _NavPoint:
    # Slots: a table of contents may nest an entry in another as deep as its file allows
    __slots__ = ("label", "label_text", "recorded", "src")

    def __init__(self):
        self.label: str | None = None
        self.label_text: list[str] | None = None  # while its <text> is being read
        self.src: str | None = None
        self.recorded = False


class _NcxTitles:
    """lxml target: the title an NCX table of contents gives each document (the first entry
    for a document wins, a section's before its children's)."""

    def __init__(self, directory: str):
        self.directory = directory
        self.titles: dict[str, str] = {}
        self.open: list[_NavPoint] = []

    def start(self, tag, attrib):
        if tag == f"{_NCX}navPoint":
            self.open.append(_NavPoint())
        elif not self.open:
            return
        elif tag == f"{_NCX}content":
            self.open[-1].src = attrib.get("src")
            self._record(self.open[-1], complete=False)
        elif tag == f"{_NCX}text" and self.open[-1].label is None:
            self.open[-1].label_text = []

    def end(self, tag):
        if not self.open:
            return
        point = self.open[-1]
        if tag == f"{_NCX}text" and point.label_text is not None:
            point.label = _one_line("".join(point.label_text))
            point.label_text = None
            self._record(point, complete=False)
        elif tag == f"{_NCX}navPoint":
            self._record(self.open.pop(), complete=True)

    def data(self, data):
        if self.open and self.open[-1].label_text is not None:
            self.open[-1].label_text.append(data)

    def _record(self, point: _NavPoint, complete: bool) -> None:
        if point.recorded or point.src is None or (point.label is None and not complete):
            return
        point.recorded = True
        path = _path_in(self.directory, point.src)
        if path is not None:
            self.titles.setdefault(path, point.label or "")

    def close(self):
        return self


class _NavTitles:
    """lxml target: the title an EPUB 3 navigation document's table of contents (its first
    <nav epub:type="toc">) gives each document: the text of its first link there."""

    def __init__(self, directory: str):
        self.directory = directory
        self.titles: dict[str, str] = {}
        self.toc_depth = 0  # the <nav>s open from the table of contents' own
        self.toc_read = False
        self.href: str | None = None  # of the link whose text is being read
        self.link_text: list[str] = []

    def start(self, tag, attrib):
        if self.toc_read:
            return
        if tag == "nav":
            if self.toc_depth or any("toc" in value.split() for value in attrib.values()):
                self.toc_depth += 1
        elif tag == "a" and self.toc_depth and attrib.get("href"):
            self.href = attrib["href"]
            self.link_text = []

    def end(self, tag):
        if tag == "a" and self.href is not None:
            path = _path_in(self.directory, self.href)
            if path is not None:
                self.titles.setdefault(path, _one_line("".join(self.link_text)))
            self.href = None
        elif tag == "nav" and self.toc_depth:
            self.toc_depth -= 1
            self.toc_read = self.toc_depth == 0

    def data(self, data):
        if self.href is not None:
            self.link_text.append(data)

    def close(self):
        return self


# What zipfile, zlib, bz2 and lzma raise for a zip or a file in it they cannot read (a bad
# CRC, an encrypted file, an unknown compression or zip version, a cut stream)
UNPACKING_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
    RuntimeError, NotImplementedError, ValueError,
)  # fmt: skip


class _Epub:
    """One EPUB's zip, each file of it read once, through a streaming parser."""

    def __init__(self, archive: zipfile.ZipFile, budgets: Sequence[TextBudget]):
        self.archive = archive
        self.budgets = budgets
        self.files = {
            posixpath.normpath(info.filename): info
            for info in archive.infolist()
            if not info.is_dir()
        }

    def book(self) -> Book:
        if "META-INF/container.xml" not in self.files:
            raise BookError("not an EPUB: META-INF/container.xml is missing")
        container = self._package_file("META-INF/container.xml", xml_parser(_Container()))
        opf = container.package_path
        if opf is None or opf not in self.files:
            raise BookError(
                "not an EPUB: META-INF/container.xml names no package document (.opf) it holds"
            )
        package = self._package_file(opf, xml_parser(_Package()))
        directory = posixpath.dirname(opf)
        toc = self._toc_titles(package, directory)
        chapters: list[Chapter] = []
        read: set[str] = set()
        for idref in package.spine:
            item = package.manifest.get(idref)
            if item is None or item.media_type not in _DOCUMENT_MEDIA_TYPES:
                continue
            path = _path_in(directory, item.href)
            # A document listed twice is read once; the nav document is the table of contents
            if path is None or path in read or "nav" in item.properties:
                continue
            if toc and path not in toc:
                continue
            if path not in self.files:
                raise BookError(f"the EPUB's spine lists {item.href!r}, which it does not hold")
            read.add(path)
            text = self._chapter_text(path)
            if not has_words(text):
                continue
            append_chapter(chapters, toc.get(path) or f"Chapter {len(chapters) + 1}", text)
        language = package.metadata.get("language")
        description = _printable(html_text(package.metadata.get("description", "")))
        series, series_index = _series(package.metas)
        isbns = (isbn_of(text, declared=scheme) for text, scheme in package.identifiers)
        return Book(
            package.metadata.get("title"),
            package.metadata.get("creator"),
            chapters,
            language_for_tag(language) if language else None,
            description=description[:MAX_DESCRIPTION_CHARS].rstrip() or None,
            year=year_of(package.metadata.get("date", "")),
            isbn=next((isbn for isbn in isbns if isbn), None),
            series=series,
            series_index=series_index,
            cover=self._cover(_cover_item(package), directory),
        )

    def _cover(self, item: _Item | None, directory: str) -> bytes | None:
        """The cover image's bytes where it is a JPEG or PNG of at most MAX_COVER_BYTES; else
        None, and the book is read without it (a cover is never a reason to refuse a book)."""
        path = _path_in(directory, item.href) if item is not None else None
        info = self.files.get(path) if path is not None else None
        if info is None or info.file_size > MAX_COVER_BYTES:
            return None
        try:
            with self.archive.open(info) as stream:
                data = stream.read(MAX_COVER_BYTES + 1)
        except UNPACKING_ERRORS:
            return None
        return data if len(data) <= MAX_COVER_BYTES and image_type(data) else None

    def _toc_titles(self, package: _Package, directory: str) -> dict[str, str]:
        """Document path -> title from the NCX (the one the spine names, else the first in the
        manifest), else from the EPUB 3 nav document; {} when the book has neither."""
        items = package.manifest.values()
        ncx = package.manifest.get(package.ncx_id or "") or next(
            (item for item in items if item.media_type == _NCX_MEDIA_TYPE), None
        )
        path = _path_in(directory, ncx.href) if ncx else None
        if path in self.files:
            titles = self._package_file(path, xml_parser(_NcxTitles(posixpath.dirname(path))))
            if titles.titles:
                return titles.titles
        nav = next((item for item in items if "nav" in item.properties), None)
        path = _path_in(directory, nav.href) if nav else None
        if path in self.files:
            return self._package_file(
                path, _html_parser(_NavTitles(posixpath.dirname(path)))
            ).titles
        return {}

    def _package_file(self, path: str, parser):
        size = self.files[path].file_size
        if size > MAX_EPUB_PACKAGE_FILE_BYTES:
            raise BookError(
                f"the EPUB's {path} has {size:,} bytes; the most read of a package file "
                f"(container, OPF, NCX, nav) is {MAX_EPUB_PACKAGE_FILE_BYTES:,}"
            )
        return self._parse(path, parser, spend=None)

    def _chapter_text(self, path: str) -> str:
        return self._parse(path, _html_parser(_ChapterText(self.budgets)), spend=self._spend)

    def _spend(self, size: int) -> None:
        for budget in self.budgets:
            budget.spend_markup(size)

    def _parse(self, path: str, parser, spend):
        """What ``parser``'s target makes of the file at ``path``, fed as it is unpacked, one
        block at a time (zipfile never unpacks more than a file's declared size)."""
        try:
            parser.feed(b"")  # an empty file is an empty document, not a parser error
            with self.archive.open(self.files[path]) as stream:
                first = True
                while block := stream.read(_READ_BLOCK_BYTES):
                    if spend is not None:
                        spend(len(block))
                    if first and block.startswith(codecs.BOM_UTF8):
                        block = block[len(codecs.BOM_UTF8) :]
                    first = False
                    parser.feed(block)
            return parser.close()
        except BookError:
            raise
        except etree.LxmlError as error:
            raise BookError(f"the EPUB's {path} cannot be read: {error}") from error
        except UNPACKING_ERRORS as error:
            raise BookError(f"the EPUB's {path} cannot be unpacked: {error}") from error


def open_zip_book(
    data: bytes, kind: str, article: str, max_files: int, max_unpacked_bytes: int
) -> zipfile.ZipFile:
    """The zip of a book file (an EPUB, a DOCX), refused before anything is unpacked when it
    holds more than ``max_files`` files or declares more than ``max_unpacked_bytes``; the
    caller closes it."""
    files = data.count(_ZIP_DIRECTORY_HEADER)
    if files > max_files:
        raise BookError(
            f"the {kind} holds {files:,} files; the most a book may hold is {max_files:,}"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except UNPACKING_ERRORS as error:
        raise BookError(
            f"not {article} {kind}: the file is not a zip archive it can read ({error})"
        ) from error
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > max_unpacked_bytes:
        archive.close()
        raise BookError(
            f"the {kind} unpacks to {unpacked:,} bytes; the limit is {max_unpacked_bytes:,}"
        )
    return archive


def read_epub(data: bytes, *budgets: TextBudget) -> Book:
    """Chapters in spine order, titled from the table of contents. When the book has a table of
    contents, documents it does not list (cover, copyright and title pages) are left out.

    Reading stops with BookTooLong as soon as the text found, or the chapter markup read,
    passes one of ``budgets``."""
    with open_zip_book(data, "EPUB", "an", MAX_EPUB_FILES, MAX_EPUB_UNPACKED_BYTES) as archive:
        return _Epub(archive, budgets).book()
