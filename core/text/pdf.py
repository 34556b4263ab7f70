"""PDF uploads read as chapters, with pdfminer.six: the text layer in reading order, without
what a page prints around it.

- Lines are rebuilt from the glyphs' positions, top to bottom (the order a PDF draws them in
  need not be the reading order), and words from the gaps between glyphs.
- Running headers and footers go: a line among the first or last few of a page that another
  page repeats at the same height, digits aside ("Page 3 of 9", a date, a title), and a line
  there that is only a page number.
- Footnote marks go: digits and symbols raised above their line in a smaller size.
- A word broken at a line's end with a hyphen is joined ("recog-" "nize") when what follows is
  in lowercase, unless the book writes it elsewhere with its hyphen and never without.
- Paragraphs come from the lines' geometry: a gap larger than the line spacing, a first line
  indented, a short line that ends a sentence, a change of size.
- Chapters come from the outline (bookmarks) when the PDF has one, else from headings: lines
  clearly larger than the body text. A chapter keeps its heading as its first paragraph.
- A PDF without a text layer (a scan) is read by OCR when one is given (core/text/ocr.py),
  else refused with ``NoTextLayer``.

Reading is bounded by the budgets it is read under: the text found, and the bytes its streams
unpack to (core/text/pdf_streams.py).
"""

import io
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from statistics import median

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTFigure, LTImage, LTPage
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFObjRef, PDFStream, resolve1
from pdfminer.psparser import PSLiteral
from pdfminer.utils import decode_text

from core.speech.languages import language_for_tag
from core.text.books import MAX_TITLE_CHARS, BookError, Chapter, append_chapter, has_words
from core.text.epub import Book, BookTooLong, TextBudget
from core.text.ocr import TESSERACT_PACKAGE, OcrFailed, Tesseract
from core.text.pdf_streams import DecodedTooMuch, decoding_allowance

MAX_PDF_PAGES = 3_000  # a long novel set in large type has about 1,000
MAX_PDF_OUTLINE_ITEMS = 10_000
# What a PDF's streams (pages, fonts, images) may unpack to for each character of text a book
# may hold: a page of prose draws each character with 3 to 10 bytes of commands, and its
# fonts and pictures add a few hundred kilobytes to a book
PDF_DECODED_BYTES_PER_CHAR = 32
PDF_DECODED_BYTES_FLOOR = 64 * 1024 * 1024  # enough for the fonts and pictures of a short book
# The text found on the pages may pass the limit by this much before reading stops: it still
# holds the running headers and footers that are taken out when every page has been read
PDF_RAW_TEXT_SLACK = 1.25
# A scan: OCR of each page takes seconds of a core, while the client waits
MAX_OCR_PAGES = 60
MAX_OCR_IMAGE_PIXELS = 40_000_000  # an A4 page at 600 dpi is 35 million
MIN_OCR_IMAGE_SIDE = 100  # pixels: a smaller picture is an ornament, not a page of text
# What one scanned page's pictures may unpack to: an A4 page at 300 dpi in colour is 26 MB
MAX_OCR_PAGE_DECODED_BYTES = 64 * 1024 * 1024
OCR_SETTING = "KQ_PDF_OCR"

# Geometry, in ems of the font size unless said
_WORD_GAP = 0.12  # a wider gap between two glyphs is a space
_SAME_LINE = 0.3  # glyphs whose baselines are this close share a line
_SMALLER = 0.85  # a glyph this much smaller than its line's text may be a raised mark
_MARK_REACH = 0.7  # how far above its line's baseline a raised mark may sit
_RAISED = 0.12  # how far above it a glyph must sit to count as raised
_INDENT = 0.5  # a first line indented this much starts a paragraph
_SHORT_LINE = 3.0  # a line ending this far before the page's right edge is short
_PARAGRAPH_GAP = 1.3  # lines further apart than this many line pitches are two paragraphs
_HEADING = 1.15  # a heading's text is at least this much larger than the body's
_BOOKMARK_REACH = 4  # points: a bookmark's top may be this far below its heading's baseline
_EDGE_LINES = 3  # the lines at the top and at the bottom of a page that may be running ones
_MARKS = frozenset("0123456789*\u2020\u2021\u00a7\u00b6")  # †, ‡, §, ¶
_HYPHENS = frozenset("-\u2010")
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014")
_SENTENCE_ENDS = frozenset(".!?:;\"'\u201d\u2019)")
_WORD_EDGES = ".,;:!?\"'()[]{}\u201c\u201d\u2018\u2019\u00ab\u00bb"
_PAGE_WORDS = frozenset({"page", "p", "of"})
_PAGE_NUMBER_PUNCTUATION = str.maketrans("-\u2013\u2014/|.()[]", "          ")
_ROMAN = frozenset("ivxlc")
# Letters a PDF may draw as one glyph, and spaces and marks that are not text
_GLYPH_TEXT = str.maketrans(
    {
        "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
        "\ufb05": "st", "\ufb06": "st", "\u00a0": " ", "\u2002": " ", "\u2003": " ",
        "\u2009": " ", "\u200b": "",
    }
)  # fmt: skip

_NO_TEXT_LAYER = (
    "the PDF has no text layer (a scan?): its words are pictures. Send a PDF with text, or "
    f"have the server read scans: install Tesseract (Debian, Ubuntu: apt-get install "
    f"{TESSERACT_PACKAGE}) and leave {OCR_SETTING} on (the default)"
)


class NoTextLayer(BookError):
    """A PDF whose pages carry no text, only pictures, read without OCR."""

    def __init__(self):
        super().__init__(_NO_TEXT_LAYER)


@dataclass(slots=True)
class _Glyph:
    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    raised: bool = False


@dataclass(slots=True)
class _Line:
    page: int
    text: str
    x0: float
    x1: float
    baseline: float
    size: float


@dataclass(frozen=True)
class _Paragraph:
    text: str
    size: float
    first_line: int  # its first line's index in the book's lines


def _glyphs(items: Iterable) -> Iterator[_Glyph]:
    """The upright glyphs that have text, in the order the page draws them."""
    for item in items:
        if isinstance(item, LTChar):
            text = item.get_text()
            # A glyph without a Unicode mapping reads "(cid:N)": it has no known text
            if not item.upright or text.startswith("(cid:"):
                continue
            yield _Glyph(
                text.translate(_GLYPH_TEXT), item.x0, item.x1, item.matrix[5], round(item.size, 1)
            )
        elif isinstance(item, LTFigure):
            yield from _glyphs(item)


def _images(items: Iterable) -> Iterator[LTImage]:
    for item in items:
        if isinstance(item, LTImage):
            yield item
        elif isinstance(item, LTFigure):
            yield from _images(item)


def _main_size(glyphs: Sequence[_Glyph]) -> float:
    return Counter(g.size for g in glyphs if not g.text.isspace()).most_common(1)[0][0]


def _rows(glyphs: list[_Glyph]) -> list[list[_Glyph]]:
    """Glyphs grouped by baseline, top to bottom; a row of small glyphs just above a line's
    baseline is that line's raised marks, and joins it."""
    glyphs.sort(key=lambda g: -g.baseline)
    rows: list[list[_Glyph]] = []
    for glyph in glyphs:
        row = rows[-1] if rows else None
        if row and row[0].baseline - glyph.baseline <= _SAME_LINE * max(row[0].size, glyph.size):
            row.append(glyph)
        else:
            rows.append([glyph])
    merged: list[list[_Glyph]] = []
    for row in rows:
        above = merged[-1] if merged else None
        if above and _are_raised_marks(above, row):
            for glyph in above:
                glyph.raised = True
            merged[-1] = above + row
        else:
            merged.append(row)
    return merged


def _are_raised_marks(above: list[_Glyph], row: list[_Glyph]) -> bool:
    if all(g.text.isspace() for g in row):
        return False
    size = _main_size(row)
    rise = above[0].baseline - row[0].baseline
    return (
        len(above) <= len(row)
        and max(g.size for g in above) < _SMALLER * size
        and _RAISED * size <= rise <= _MARK_REACH * size
        and min(g.x0 for g in above) >= min(g.x0 for g in row) - size
        and max(g.x1 for g in above) <= max(g.x1 for g in row) + size
    )


def _line(page: int, row: list[_Glyph]) -> _Line | None:
    """A row's text: words apart where the glyphs are, raised digits and symbols left out."""
    row.sort(key=lambda g: g.x0)
    size = _main_size(row) if any(not g.text.isspace() for g in row) else row[0].size
    baseline = Counter(round(g.baseline, 1) for g in row if g.size == size).most_common(1)
    base = baseline[0][0] if baseline else row[0].baseline
    parts: list[str] = []
    previous: _Glyph | None = None
    for glyph in row:
        if glyph.text.isspace():
            continue  # spaces come from the gaps: a PDF may draw one that takes no room
        raised = glyph.raised or (
            glyph.size < _SMALLER * size and glyph.baseline > base + _RAISED * glyph.size
        )
        if raised and glyph.text in _MARKS:
            continue
        if previous is not None:
            if glyph.text == previous.text and abs(glyph.x0 - previous.x0) < 0.1 * size:
                continue  # drawn twice, a little apart, to look bold
            if glyph.x0 - previous.x1 > _WORD_GAP * min(size, glyph.size):
                parts.append(" ")
        parts.append(glyph.text)
        previous = glyph
    text = " ".join("".join(parts).split())
    if not text or previous is None:
        return None
    # A soft hyphen is a place a word may break: drawn, it is one only at the line's end
    text = text[:-1].replace("\u00ad", "") + text[-1]
    first = next(g for g in row if not g.text.isspace())
    return _Line(page, text, first.x0, previous.x1, base, size)


def page_lines(page: int, layout: LTPage) -> list[_Line]:
    glyphs = list(_glyphs(layout))
    lines = (_line(page, row) for row in _rows(glyphs))
    return [line for line in lines if line is not None]


# --- What every page repeats -----------------------------------------------------------------


def _running_key(line: _Line) -> tuple[str, int]:
    """A line's text with its digits as #, and its height: what a running header keeps."""
    text = "".join("#" if c.isdigit() else c for c in line.text.lower())
    return " ".join(text.replace("##", "#").split()), round(line.baseline)


def _is_page_number(text: str) -> bool:
    """ "12", "- 12 -", "Page 3 of 9", "3/9", "xii": what a page prints as its number."""
    words = text.lower().translate(_PAGE_NUMBER_PUNCTUATION).split()
    numbers = [w for w in words if w not in _PAGE_WORDS]
    return 0 < len(numbers) <= 2 and all(
        w.isdigit() or (len(w) <= 6 and set(w) <= _ROMAN) for w in numbers
    )


def _edges(lines: list[_Line]) -> list[_Line]:
    if len(lines) <= 2 * _EDGE_LINES:
        return lines
    return lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]


def _without_running_lines(pages: list[list[_Line]]) -> list[_Line]:
    """Every page's lines, in order, less its running headers, footers and page numbers."""
    seen = Counter(key for lines in pages for key in {_running_key(line) for line in _edges(lines)})
    repeated = {key for key, count in seen.items() if count > 1}
    kept = []
    for lines in pages:
        edges = {id(line) for line in _edges(lines)}
        for line in lines:
            if id(line) in edges and (_running_key(line) in repeated or _is_page_number(line.text)):
                continue
            kept.append(line)
    return kept


# --- Paragraphs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    """What the book's pages have in common: its body text's size and line pitch, and each
    page's left margin and right edge."""

    body_size: float
    pitch: float
    left: dict[int, float]
    right: dict[int, float]

    @classmethod
    def of(cls, lines: list[_Line]) -> "_Geometry":
        sizes = Counter()
        for line in lines:
            sizes[line.size] += len(line.text)
        body = sizes.most_common(1)[0][0]
        body_lines = [line for line in lines if abs(line.size - body) < 0.5]
        steps = [
            a.baseline - b.baseline
            for a, b in zip(body_lines, body_lines[1:], strict=False)
            if a.page == b.page and 0.8 * body < a.baseline - b.baseline < 2.5 * body
        ]
        left: dict[int, Counter] = {}
        right: dict[int, float] = {}
        for line in body_lines:
            left.setdefault(line.page, Counter())[round(line.x0)] += 1
            right[line.page] = max(right.get(line.page, line.x1), line.x1)
        return cls(
            body,
            median(steps) if steps else 1.2 * body,
            {page: counts.most_common(1)[0][0] for page, counts in left.items()},
            right,
        )

    def indent(self, line: _Line) -> float:
        return line.x0 - self.left.get(line.page, line.x0)

    def starts_paragraph(self, line: _Line, before: _Line) -> bool:
        size = max(line.size, before.size)
        if abs(line.size - before.size) > 0.1 * size:
            return True
        if line.page == before.page and (
            before.baseline - line.baseline
            > _PARAGRAPH_GAP * self.pitch * line.size / self.body_size
        ):
            return True
        indent = self.indent(line)
        if indent > _INDENT * line.size and indent > self.indent(before) + _INDENT * line.size:
            return True
        right = self.right.get(before.page, before.x1)
        return before.x1 < right - _SHORT_LINE * before.size and before.text[-1] in _SENTENCE_ENDS


def _vocabulary(lines: list[_Line]) -> set[str]:
    """Every word the book writes within a line, lowercased: how it spells compounds."""
    words = set()
    for line in lines:
        words.update(word.strip(_WORD_EDGES).lower() for word in line.text.split())
    return words


def _joined(before: str, after: str, vocabulary: set[str]) -> str:
    """Two lines of a paragraph as one text."""
    end = before[-1]
    if end == "\u00ad":  # a soft hyphen: a break the typesetter chose
        return before[:-1] + after
    if end in _HYPHENS and len(before) > 1 and before[-2].isalpha() and after[0].islower():
        head = before[:-1].rsplit(" ", 1)[-1].strip(_WORD_EDGES).lower()
        tail = after.split(" ", 1)[0].strip(_WORD_EDGES).lower()
        if f"{head}-{tail}" in vocabulary and f"{head}{tail}" not in vocabulary:
            return before + after  # a compound that keeps its hyphen: "well-known"
        return before[:-1] + after
    if end in _DASHES and len(before) > 1 and not before[-2].isspace():
        return before + after  # "shade—" "owing": a dash between words
    return f"{before} {after}"


def _paragraphs(
    lines: list[_Line], geometry: _Geometry, starts: set[int], vocabulary: set[str]
) -> list[_Paragraph]:
    paragraphs: list[_Paragraph] = []
    text, first = "", 0
    for index, line in enumerate(lines):
        if index and (index in starts or geometry.starts_paragraph(line, lines[index - 1])):
            paragraphs.append(_Paragraph(text, lines[first].size, first))
            text, first = "", index
        text = _joined(text, line.text, vocabulary) if text else line.text
    if text:
        paragraphs.append(_Paragraph(text, lines[first].size, first))
    return paragraphs


# --- Chapters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bookmark:
    level: int
    title: str
    page: int
    top: float | None


def _name(value) -> str | None:
    return value.name if isinstance(value, PSLiteral) else None


def _text(value) -> str:
    value = resolve1(value)
    if isinstance(value, bytes):
        return " ".join(decode_text(value).split())
    return " ".join(str(value).split()) if isinstance(value, str) else ""


def _destination(document: PDFDocument, entry: dict):
    target = resolve1(entry.get("Dest"))
    if target is None:
        action = resolve1(entry.get("A"))
        if isinstance(action, dict) and _name(resolve1(action.get("S"))) == "GoTo":
            target = resolve1(action.get("D"))
    if isinstance(target, bytes | str | PSLiteral):
        name = target.name if isinstance(target, PSLiteral) else target
        try:
            target = resolve1(document.get_dest(name))
        except Exception:  # an unknown name, or a broken name tree: no destination
            return None
    if isinstance(target, dict):
        target = resolve1(target.get("D"))
    return target if isinstance(target, list) and target else None


def _bookmarks(document: PDFDocument, page_numbers: dict[int, int]) -> list[_Bookmark]:
    """The outline's entries that point into the book, in outline order (depth first). Read
    without recursion, each entry once: an outline may be deep, long, or go round in a
    circle."""
    outlines = resolve1(document.catalog.get("Outlines"))
    if not isinstance(outlines, dict):
        return []
    marks: list[_Bookmark] = []
    seen: set[int] = set()
    stack = [(outlines.get("First"), 1)]
    visited = 0
    while stack and visited < MAX_PDF_OUTLINE_ITEMS:
        reference, level = stack.pop()
        if isinstance(reference, PDFObjRef):
            if reference.objid in seen:
                continue
            seen.add(reference.objid)
        entry = resolve1(reference)
        if not isinstance(entry, dict):
            continue
        visited += 1
        stack.append((entry.get("Next"), level))
        stack.append((entry.get("First"), level + 1))
        target = _destination(document, entry)
        if target is None:
            continue
        page_reference = target[0]
        if isinstance(page_reference, PDFObjRef):
            page = page_numbers.get(page_reference.objid)
        else:
            page = page_reference if isinstance(page_reference, int) else None
        if page is None:
            continue
        kind = _name(resolve1(target[1])) if len(target) > 1 else None
        position = {"XYZ": 3, "FitH": 2, "FitBH": 2}.get(kind or "")
        top = resolve1(target[position]) if position and len(target) > position else None
        title = _text(entry.get("Title"))[:MAX_TITLE_CHARS]
        marks.append(_Bookmark(level, title, page, top if isinstance(top, int | float) else None))
    return marks


def _chapter_marks(marks: list[_Bookmark]) -> list[_Bookmark]:
    """The outline's chapters: its first level, or the second under a single first entry
    (a book's title)."""
    top = [mark for mark in marks if mark.level == 1]
    second = [mark for mark in marks if mark.level == 2]
    return second if len(top) == 1 and len(second) > 1 else top


def _outline_starts(lines: list[_Line], marks: list[_Bookmark]) -> dict[int, str]:
    """The index of the first line at each bookmark's place or after it (a line whose baseline
    is below its top, or a little above), with the bookmark's title."""
    places = [(line.page, -line.baseline) for line in lines]  # in reading order: ascending
    starts: dict[int, str] = {}
    for mark in marks:
        top = math.inf if mark.top is None else mark.top + _BOOKMARK_REACH
        index = bisect_left(places, (mark.page, -top))
        if index < len(lines):
            starts.setdefault(index, mark.title)
    return starts


def _heading_starts(paragraphs: list[_Paragraph], body_size: float) -> dict[int, str]:
    """Chapters by headings: paragraphs clearly larger than the body, of the largest size that
    more than one has (a title page's one larger title is not a level of its own)."""
    headings = [
        p
        for p in paragraphs
        if p.size >= _HEADING * body_size and has_words(p.text) and len(p.text) <= MAX_TITLE_CHARS
    ]
    if not headings:
        return {}
    sizes = Counter(round(p.size * 2) / 2 for p in headings)
    repeated = [size for size, count in sizes.items() if count > 1]
    level = max(repeated) if repeated else max(sizes)
    return {p.first_line: p.text for p in headings if round(p.size * 2) / 2 == level}


def _chapters(
    paragraphs: list[_Paragraph], starts: dict[int, str], preface: str, budgets
) -> list[Chapter]:
    chapters: list[Chapter] = []
    title, body = preface, []

    def close():
        text = "\n\n".join(body)
        if has_words(text):
            for budget in budgets:
                budget.spend_text(len(text))
            append_chapter(chapters, title or f"Chapter {len(chapters) + 1}", text)

    for paragraph in paragraphs:
        if paragraph.first_line in starts:
            close()
            title, body = starts[paragraph.first_line], []
        body.append(paragraph.text)
    close()
    return chapters


# --- Reading -------------------------------------------------------------------------------------


def _open(data: bytes) -> PDFDocument:
    if b"%PDF-" not in data[:1024]:
        raise BookError("not a PDF: the file does not start with %PDF-")
    try:
        return PDFDocument(PDFParser(io.BytesIO(data)))
    except PDFEncryptionError as error:
        raise BookError(
            "the PDF is encrypted with a password: save a copy without one (e.g. qpdf "
            "--decrypt in.pdf out.pdf, or print it to PDF) and send that"
        ) from error


def _metadata(document: PDFDocument) -> dict[str, str]:
    info = resolve1(document.info[0]) if document.info else {}
    fields = {}
    for key, name in (("Title", "title"), ("Author", "author")):
        value = _text(info.get(key)) if isinstance(info, dict) else ""
        if value:
            fields[name] = value[:MAX_TITLE_CHARS]
    language = _text(document.catalog.get("Lang"))
    if language:
        fields["language"] = language
    return fields


def _pages(document: PDFDocument) -> list[PDFPage]:
    pages = list(islice(PDFPage.create_pages(document), MAX_PDF_PAGES + 1))
    if len(pages) > MAX_PDF_PAGES:
        raise BookError(
            f"the PDF has more than {MAX_PDF_PAGES:,} pages, the most a book may have: "
            "split it into several books"
        )
    return pages


class _TextCap:
    """The text found on the pages, against the smallest budget with PDF_RAW_TEXT_SLACK."""

    def __init__(self, budgets: Sequence[TextBudget]):
        self.budget = min(budgets, key=lambda b: b.chars) if budgets else None
        self.left = int(self.budget.chars * PDF_RAW_TEXT_SLACK) if self.budget else None

    def spend(self, lines: Iterable[_Line]) -> None:
        if self.left is None:
            return
        self.left -= sum(len(line.text) + 1 for line in lines)
        if self.left < 0:
            raise BookTooLong(
                f"the text passes {self.budget.chars:,} characters, {self.budget.limit}"
            )


def _layouts(document: PDFDocument, pages: list[PDFPage]) -> Iterator[LTPage]:
    resources = PDFResourceManager(caching=True)
    device = PDFPageAggregator(resources, laparams=None)
    interpreter = PDFPageInterpreter(resources, device)
    for page in pages:
        interpreter.process_page(page)
        yield device.get_result()


def _scanned_lines(layouts: list[LTPage], ocr: Tesseract, cap: _TextCap) -> list[list[_Line]]:
    """Each page's lines as OCR reads its pictures, laid out as lines of one size, a blank
    line of Tesseract's a gap between paragraphs."""
    if len(layouts) > MAX_OCR_PAGES:
        raise BookError(
            f"the PDF is a scan of {len(layouts):,} pages; OCR reads at most {MAX_OCR_PAGES} "
            "in one upload: split it, or send a PDF with a text layer"
        )
    pages = []
    for number, layout in enumerate(layouts):
        lines: list[_Line] = []
        baseline = 1000.0
        for image in _images(layout):
            # A page's pictures have an allowance of their own: a scan is mostly pictures
            with decoding_allowance(MAX_OCR_PAGE_DECODED_BYTES):
                picture = _picture(image)
            if picture is None:
                continue
            try:
                text = ocr.read(picture)
            except OcrFailed as error:
                raise BookError(f"OCR of page {number + 1} failed: {error}") from error
            for row in text.splitlines():
                baseline -= 12
                row = " ".join(row.translate(_GLYPH_TEXT).split())
                if row:
                    lines.append(_Line(number, row, 0, 6 * len(row), baseline, 10))
            baseline -= 24
        cap.spend(lines)
        pages.append(lines)
    return pages


def _picture(image: LTImage) -> bytes | None:
    """An image file Tesseract reads: a JPEG or JPEG 2000 as the PDF holds it, else the
    pixels as a PNM file; None for what it cannot read (JBIG2, CMYK, indexed colours...)."""
    stream = image.stream
    if not isinstance(stream, PDFStream):
        return None
    filters = [_name(f) for f, _ in stream.get_filters()]
    if filters and filters[-1] in ("DCTDecode", "DCT", "JPXDecode"):
        return stream.get_data()
    if filters and filters[-1] in ("JBIG2Decode", "CCITTFaxDecode", "CCF"):
        return None
    width, height = (resolve1(v) for v in image.srcsize)
    bits = resolve1(image.bits)
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        return None
    if width * height > MAX_OCR_IMAGE_PIXELS or min(width, height) < MIN_OCR_IMAGE_SIDE:
        return None
    space_name = _colour_space(image.colorspace)
    data = stream.get_data()
    if image.imagemask or (bits == 1 and space_name in ("DeviceGray", "CalGray", "G")):
        row = (width + 7) // 8
        if len(data) < row * height:
            return None
        # PBM's 1 is black, a PDF's is white (or paint, for a mask: black on white)
        pixels = data[: row * height]
        if not image.imagemask:
            pixels = bytes(255 - byte for byte in pixels)
        return b"P4\n%d %d\n" % (width, height) + pixels
    if bits != 8:
        return None
    channels = {"DeviceGray": 1, "CalGray": 1, "G": 1, "DeviceRGB": 3, "CalRGB": 3, "RGB": 3}
    count = channels.get(space_name or "")
    if count is None or len(data) < width * height * count:
        return None
    kind = b"P5" if count == 1 else b"P6"
    return kind + b"\n%d %d\n255\n" % (width, height) + data[: width * height * count]


def _colour_space(value: list) -> str | None:
    """An image's colour space by name: /DeviceRGB, or [/ICCBased profile] as the device space
    of as many components as the profile has."""
    space = [resolve1(part) for part in value or []]
    if len(space) == 1 and isinstance(space[0], list):
        space = [resolve1(part) for part in space[0]]
    name = _name(space[0]) if space else None
    if name == "ICCBased" and len(space) > 1 and isinstance(space[1], PDFStream):
        return {1: "DeviceGray", 3: "DeviceRGB"}.get(resolve1(space[1].get("N")))
    return name


def _decoded_allowance(budgets: Sequence[TextBudget]) -> int:
    chars = min((b.chars for b in budgets), default=0)
    return max(PDF_DECODED_BYTES_FLOOR, PDF_DECODED_BYTES_PER_CHAR * chars)


def read_pdf(
    data: bytes, *budgets: TextBudget, title: str = "Opening", ocr: Tesseract | None = None
) -> Book:
    """Chapters of a PDF: from its outline, else its headings; text before the first is a
    chapter titled ``title``. ``ocr`` reads a PDF without a text layer; without it such a PDF
    is a NoTextLayer. Reading stops with BookTooLong once the text passes one of
    ``budgets``, or the PDF's streams unpack to more than they allow."""
    allowance = _decoded_allowance(budgets)
    try:
        with decoding_allowance(allowance):
            return _read(data, budgets, title, ocr)
    except DecodedTooMuch as error:
        budget = min(budgets, key=lambda b: b.chars) if budgets else None
        limit = (
            f", {PDF_DECODED_BYTES_PER_CHAR} for each character of {budget.limit}" if budget else ""
        )
        raise BookTooLong(
            f"the PDF's pages unpack to more than {allowance:,} bytes{limit}"
        ) from error
    except BookError:
        raise
    except RecursionError as error:
        raise BookError("the PDF cannot be read: its objects nest too deeply") from error
    except Exception as error:  # pdfminer's many ways to meet a broken file
        raise BookError(
            f"the PDF cannot be read ({type(error).__name__}: {error})"[:300]
        ) from error


def _read(data: bytes, budgets: Sequence[TextBudget], title: str, ocr: Tesseract | None) -> Book:
    document = _open(data)
    pages = _pages(document)
    page_numbers = {page.pageid: number for number, page in enumerate(pages)}
    cap = _TextCap(budgets)
    wordless: list[LTPage] = []  # the pages while none has had words: a scan's, for OCR
    lines_by_page: list[list[_Line]] = []
    for number, layout in enumerate(_layouts(document, pages)):
        lines = page_lines(number, layout)
        cap.spend(lines)
        lines_by_page.append(lines)
        if len(wordless) == number and not any(has_words(line.text) for line in lines):
            wordless.append(layout)
    if len(wordless) == len(pages):
        if ocr is None:
            raise NoTextLayer()
        lines_by_page = _scanned_lines(wordless, ocr, cap)
    lines = _without_running_lines(lines_by_page)
    metadata = _metadata(document)
    language = metadata.get("language")
    if not lines:
        return Book(metadata.get("title"), metadata.get("author"), [])
    geometry = _Geometry.of(lines)
    marks = _chapter_marks(_bookmarks(document, page_numbers))
    outline = _outline_starts(lines, marks)
    paragraphs = _paragraphs(lines, geometry, set(outline), _vocabulary(lines))
    starts = outline or _heading_starts(paragraphs, geometry.body_size)
    return Book(
        metadata.get("title"),
        metadata.get("author"),
        _chapters(paragraphs, starts, title, budgets),
        language_for_tag(language) if language else None,
    )
