"""DOCX books read as chapters (core/text/docx_book.py), from fixtures made by python-docx and by
LibreOffice (tests/data/books/make_books.py): chapters at the Heading 1 paragraphs, the text
the source's word for word, tables, pictures and footnote marks left out."""

import io
import zipfile

import pytest

from core.text.books import BookError
from core.text.docx_book import read_docx
from tests.support.book_text import BOOK_AUTHOR, BOOK_TITLE, BOOKS, chapters_of, word_match

MADE_BY = ["python-docx.docx", "libreoffice.docx"]
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(body: str, styles: str = "", core: str = "") -> bytes:
    """A DOCX written by hand: ``body`` as word/document.xml's <w:body>."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "word/document.xml", f"<w:document {W}><w:body>{body}</w:body></w:document>"
        )
        if styles:
            archive.writestr("word/styles.xml", f"<w:styles {W}>{styles}</w:styles>")
        if core:
            archive.writestr("docProps/core.xml", core)
    return out.getvalue()


def paragraph(text: str, style: str = "") -> str:
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{props}<w:r><w:t>{text}</w:t></w:r></w:p>"


@pytest.mark.parametrize("name", MADE_BY)
def test_chapters_are_the_heading_1_paragraphs_and_match_the_source(name):
    book = read_docx((BOOKS / name).read_bytes())
    sources = chapters_of(name)
    assert [c.title for c in book.chapters] == [c.title for c in sources]
    for chapter, source in zip(book.chapters, sources, strict=True):
        expected = f"{source.title}\n\n{source.text}"
        assert word_match(chapter.text, expected) >= 0.99, chapter.title
        assert chapter.text.split("\n\n") == [source.title, *source.paragraphs]


def test_tables_pictures_and_footnote_marks_are_left_out_and_core_properties_read():
    book = read_docx((BOOKS / "python-docx.docx").read_bytes())
    text = "\n".join(c.text for c in book.chapters)
    assert "Tonnage" not in text and "Three hundred" not in text  # the table's cells
    # The first mark, a superscript 1 after this sentence, left out
    assert "My sensations were strange. Let me try" in text
    assert (book.title, book.author) == (BOOK_TITLE, BOOK_AUTHOR)


def test_heading_2_makes_chapters_when_there_is_no_heading_1():
    styles = (
        '<w:style w:type="paragraph" w:styleId="H2"><w:name w:val="heading 2"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="Sub"><w:name w:val="My sub"/>'
        '<w:basedOn w:val="H2"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="H3"><w:name w:val="heading 3"/></w:style>'
    )
    body = (
        paragraph("A word first.")
        + paragraph("One", "H2")
        + paragraph("Text one.")
        + paragraph("A section", "H3")
        + paragraph("More of one.")
        + paragraph("Two", "Sub")  # a style based on Heading 2
        + paragraph("Text two.")
    )
    book = read_docx(docx(body, styles), title="My book")
    assert [(c.title, c.text) for c in book.chapters] == [
        ("My book", "A word first."),
        ("One", "One\n\nText one.\n\nA section\n\nMore of one."),
        ("Two", "Two\n\nText two."),
    ]


def test_a_document_without_headings_is_one_chapter_and_its_title_style_titles_it():
    body = paragraph("The Voyage", "Title") + paragraph("It began.") + paragraph("It ended.")
    styles = '<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style>'
    book = read_docx(docx(body, styles), title="upload")
    assert book.title == "The Voyage"
    assert [(c.title, c.text) for c in book.chapters] == [
        ("upload", "The Voyage\n\nIt began.\n\nIt ended.")
    ]


def test_deleted_text_field_codes_text_boxes_and_tables_of_contents_are_not_read():
    styles = '<w:style w:type="paragraph" w:styleId="TOC1"><w:name w:val="toc 1"/></w:style>'
    body = (
        paragraph("Chapter One ....... 3", "TOC1")
        + "<w:p><w:r><w:t>Kept</w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del>"
        + '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText>'
        + '</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t> words</w:t></w:r>'
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        + "<w:r><w:drawing><w:p><w:r><w:t>box text</w:t></w:r></w:p></w:drawing></w:r>"
        + '<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:t>12</w:t></w:r>'
        + "<w:r><w:t>.</w:t></w:r></w:p>"
    )
    book = read_docx(docx(body, styles), title="t")
    assert [c.text for c in book.chapters] == ["Kept words."]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a zip at all", "not a DOCX: the file is not a zip archive"),
        (b"PK\x03\x04" + b"\x00" * 40, "not a DOCX"),
    ],
)
def test_files_that_are_not_docx_say_so(data, reason):
    with pytest.raises(BookError, match=reason):
        read_docx(data)


def test_a_zip_without_a_document_is_not_a_docx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    with pytest.raises(BookError, match="not a DOCX: it holds no word/document.xml"):
        read_docx(out.getvalue())
