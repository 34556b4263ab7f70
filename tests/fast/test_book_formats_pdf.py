"""PDF books read as chapters (core/text/pdf.py), from fixtures made by two producers, Chromium and
LibreOffice (tests/data/books/make_books.py says how): the text matches the source word for
word, without the running headers, footers, page numbers and footnote marks the pages carry."""

import os
import re
import shutil

import pytest

from core.text import pdf
from core.text.books import BookError
from core.text.ocr import find_tesseract
from core.text.pdf import NoTextLayer, read_pdf
from tests.support.book_text import (
    BOOK_AUTHOR,
    BOOK_TITLE,
    BOOKS,
    SCAN_TEXT,
    chapters_of,
    word_match,
    words,
)

PRODUCED = ["chromium.pdf", "libreoffice.pdf"]
# What the producers printed around the text: Chromium's date, time, file URL and "page/pages";
# LibreOffice's "title · author" and "Page N of M"
RUNNING = re.compile(r"\d+/\d+/\d+|\d:\d\d|file:|\bPage \d|\b\d+/\d+\b|Melville|Moby-Dick")
# A footnote mark left behind: a digit right after a word or its punctuation ("manner.1")
MARK = re.compile(r"[^\W\d_][.,;:!?\"'\u201d]?\d")


def book_of(name: str, **options):
    return read_pdf((BOOKS / name).read_bytes(), **options)


@pytest.mark.parametrize("name", PRODUCED)
def test_chapters_come_from_the_outline_with_the_sources_titles(name):
    book = book_of(name)
    assert [c.title for c in book.chapters] == [c.title for c in chapters_of(name)]


@pytest.mark.parametrize("name", PRODUCED)
def test_the_text_matches_the_source_word_for_word(name):
    for chapter, source in zip(book_of(name).chapters, chapters_of(name), strict=True):
        # A chapter starts with its heading, as the page shows it
        expected = f"{source.title}\n\n{source.text}"
        assert word_match(chapter.text, expected) >= 0.99, chapter.title
        assert chapter.text.startswith(source.title)


@pytest.mark.parametrize("name", PRODUCED)
def test_no_running_header_footer_page_number_or_footnote_mark_is_read(name):
    book = book_of(name)
    for chapter in book.chapters:
        for paragraph in chapter.text.split("\n\n"):
            assert not RUNNING.search(paragraph), paragraph[:200]
            assert not paragraph.strip().isdigit()
        assert not MARK.search(chapter.text), MARK.search(chapter.text)


@pytest.mark.parametrize("name", PRODUCED)
def test_paragraphs_are_rebuilt_from_the_lines_geometry(name):
    # Chromium's by first-line indents, LibreOffice's by the space between them
    for chapter, source in zip(book_of(name).chapters, chapters_of(name), strict=True):
        assert chapter.text.split("\n\n")[1:] != []
        assert len(chapter.text.split("\n\n")) == 1 + len(source.paragraphs), chapter.title


@pytest.mark.parametrize("name", PRODUCED)
def test_words_broken_at_line_ends_are_joined(name):
    document = pdf._open((BOOKS / name).read_bytes())
    layouts = pdf._layouts(document, pdf._pages(document))
    lines = [line for n, layout in enumerate(layouts) for line in pdf.page_lines(n, layout)]
    broken = [
        (a.text.rsplit(" ", 1)[-1], b.text.split(" ", 1)[0])
        for a, b in zip(lines, lines[1:], strict=False)
        if a.text[-1] in "-\u2010\u00ad" and a.text[-2:-1].isalpha() and b.text[:1].islower()
    ]
    assert len(broken) >= 5  # the fixture does break words
    read = {word for chapter in book_of(name).chapters for word in words(chapter.text)}
    source = set(words(" ".join(c.text for c in chapters_of(name))))
    for head, tail in broken:
        whole = (head[:-1] + tail).lower()
        joined = re.sub(r"\W", "", whole)
        if joined in source:  # a word the typesetter broke (not a compound with its hyphen)
            assert joined in read, (head, tail)


def test_chapters_come_from_headings_by_size_when_there_is_no_outline():
    book = book_of("chromium-headings.pdf")
    sources = chapters_of("chromium-headings.pdf")
    assert [c.title for c in book.chapters] == [c.title for c in sources]
    for chapter, source in zip(book.chapters, sources, strict=True):
        assert word_match(chapter.text, f"{source.title}\n\n{source.text}") >= 0.99


def test_title_author_and_language_come_from_the_pdf():
    book = book_of("libreoffice.pdf")
    assert (book.title, book.author, book.language) == (BOOK_TITLE, BOOK_AUTHOR, "en-us")


def test_text_before_the_first_chapter_is_titled_by_the_given_title(monkeypatch):
    # The first chapter's outline entry dropped: its text comes before the first chapter left
    book = read_pdf((BOOKS / "chromium.pdf").read_bytes(), title="The Inn")
    assert book.chapters[0].title == "Chapter 5. Breakfast"
    marks = pdf._chapter_marks
    monkeypatch.setattr(pdf, "_chapter_marks", lambda found: marks(found)[1:])
    book = read_pdf((BOOKS / "chromium.pdf").read_bytes(), title="The Inn")
    assert [c.title for c in book.chapters] == [
        "The Inn", "Chapter 6. The Street", "Chapter 7. The Chapel",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "vocabulary", "joined"),
    [
        ("the recog-", "nize it", set(), "the recognize it"),
        ("a well-", "known man", {"well-known"}, "a well-known man"),
        ("a well-", "known man", {"well-known", "wellknown"}, "a wellknown man"),
        ("the Anglo-", "Saxon", set(), "the Anglo-Saxon"),
        ("one precise shade\u2014", "owing to", set(), "one precise shade\u2014owing to"),
        ("a soft\u00ad", "ly spoken", set(), "a softly spoken"),
        ("ten -", "five", set(), "ten - five"),
        ("the end.", "Then", set(), "the end. Then"),
    ],
)
def test_how_two_lines_of_a_paragraph_join(before, after, vocabulary, joined):
    assert pdf._joined(before, after, vocabulary) == joined


@pytest.mark.parametrize(
    ("text", "is_number"),
    [
        ("12", True), ("- 12 -", True), ("Page 3 of 9", True), ("3/9", True), ("xii", True),
        ("p. 4", True), ("Chapter 12", False), ("I went", False), ("1851 and 1852 and 3", False),
    ],
)  # fmt: skip
def test_page_number_lines(text, is_number):
    assert pdf._is_page_number(text) is is_number


def test_a_scan_without_ocr_is_refused_with_how_to_read_it():
    with pytest.raises(NoTextLayer) as refused:
        book_of("scan.pdf", ocr=None)
    message = str(refused.value)
    assert "no text layer" in message
    assert "apt-get install tesseract-ocr" in message
    assert "KQ_PDF_OCR" in message


def test_a_scan_is_read_by_ocr_when_tesseract_is_installed():
    if shutil.which("tesseract") is None:
        if os.environ.get("CI"):
            pytest.fail("tesseract-ocr is not installed: `make tesseract` installs it")
        pytest.skip("tesseract-ocr is not installed (make tesseract)")
    book = book_of("scan.pdf", ocr=find_tesseract(), title="A Scan")
    assert [c.title for c in book.chapters] == ["A Scan"]
    assert word_match(book.chapters[0].text, SCAN_TEXT) >= 0.95


def test_an_encrypted_pdf_is_refused_with_how_to_remove_the_password():
    with pytest.raises(BookError, match="encrypted with a password: save a copy without one"):
        book_of("encrypted.pdf")


def test_something_that_is_not_a_pdf_is_refused():
    with pytest.raises(BookError, match="not a PDF"):
        read_pdf(b"Call me Ishmael. Some years ago, never mind how long precisely.")
    truncated = (BOOKS / "chromium.pdf").read_bytes()[:2000]
    with pytest.raises(BookError):
        read_pdf(truncated)
