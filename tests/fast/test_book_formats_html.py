"""HTML pages and FictionBook 2 books read as chapters (core/text/html_book.py, core/text/fb2.py):
a saved article's text without the site around it, chapters at its headings, the source's
text word for word."""

import pytest

from core.text.books import BookError
from core.text.fb2 import read_fb2
from core.text.html_book import read_html
from tests.support.book_text import BOOK_AUTHOR, BOOK_TITLE, BOOKS, chapters_of, word_match

# What the saved page shows around the article: none of it is read
SITE_TEXT = [
    "The Whaling Review", "Home", "Ships", "Harpoons", "About us", "Search", "cookies",
    "Related reading", "Ten knots", "Copyright", "Privacy", "Terms", "dataLayer", "loadAd",
    "Subscribe", "saved from the web", "ad slot", "Georgia",
]  # fmt: skip


def test_a_saved_article_is_its_h2_chapters_titled_by_its_h1():
    book = read_html((BOOKS / "article.html").read_bytes(), title="upload")
    sources = chapters_of("article.html")
    h1 = f"{BOOK_TITLE}: Nantucket and Chowder"
    assert [c.title for c in book.chapters] == [h1, *(c.title for c in sources)]
    assert book.chapters[0].text == f"{h1}\n\nBy {BOOK_AUTHOR}"
    for chapter, source in zip(book.chapters[1:], sources, strict=True):
        expected = f"{source.title}\n\n{source.text}"
        assert word_match(chapter.text, expected) >= 0.99
        assert chapter.text.split("\n\n") == [source.title, *source.paragraphs]
    text = "\n".join(c.text for c in book.chapters)
    for shown in SITE_TEXT:
        assert shown not in text


def test_a_pages_title_author_and_language_come_from_its_head():
    book = read_html((BOOKS / "article.html").read_bytes())
    assert (book.title, book.author, book.language) == (
        f"{BOOK_TITLE}: Nantucket and Chowder", BOOK_AUTHOR, "en-us",
    )  # fmt: skip
    page = b"<html><head><title>Plain title</title></head><body><p>Words.</p></body></html>"
    assert read_html(page).title == "Plain title"


def test_h1s_make_the_chapters_when_a_page_has_several():
    page = (
        "<html><body><p>Before.</p><h1>One</h1><p>Text one.</p><h2>Part</h2><p>More.</p>"
        "<h1>Two</h1><p>Text two.</p></body></html>"
    )
    book = read_html(page.encode(), title="Page")
    assert [(c.title, c.text) for c in book.chapters] == [
        ("Page", "Before."),
        ("One", "One\n\nText one.\n\nPart\n\nMore."),
        ("Two", "Two\n\nText two."),
    ]


def test_a_page_without_article_or_headings_is_one_chapter_of_its_text():
    page = (
        "<body><header>Site</header><div>First <b>bold</b> words.<br>Next line.</div>"
        "<div hidden>Hidden.</div><div aria-hidden=true>Also hidden.</div>"
        "<div role=navigation>Menu</div><p>Last.</p></body>"
    )
    book = read_html(page.encode(), title="Notes")
    assert [(c.title, c.text) for c in book.chapters] == [
        ("Notes", "First bold words.\n\nNext line.\n\nLast.")
    ]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ('<meta charset="windows-1252"><p>caf\xe9</p>'.encode("cp1252"), "café"),
        ("<p>caf\xe9</p>".encode(), "café"),
        ("\ufeff<p>caf\xe9</p>".encode("utf-16"), "café"),
    ],
)
def test_a_pages_encoding_is_its_byte_order_mark_or_meta_charset_else_utf8(data, text):
    assert read_html(data).chapters[0].text == text


def test_a_binary_file_named_html_is_refused():
    with pytest.raises(BookError, match="binary, not an HTML page"):
        read_html(b"\x00\x01\x02PK")


def test_fb2_chapters_are_its_sections_with_title_info():
    book = read_fb2((BOOKS / "book.fb2").read_bytes())
    sources = chapters_of("book.fb2")
    assert (book.title, book.author, book.language) == (BOOK_TITLE, BOOK_AUTHOR, "en-us")
    assert [c.title for c in book.chapters] == [c.title for c in sources]
    for chapter, source in zip(book.chapters, sources, strict=True):
        assert chapter.text.split("\n\n") == [source.title, *source.paragraphs]
    text = "\n".join(c.text for c in book.chapters)
    assert "A note the reader leaves out" not in text
    assert "iVBOR" not in text  # the cover picture's base64


def test_fb2_nested_sections_and_note_references():
    book = (
        '<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0" '
        'xmlns:l="http://www.w3.org/1999/xlink"><description><title-info>'
        "<book-title>Tales</book-title></title-info></description><body>"
        "<section><title><p>Part One</p></title>"
        "<section><title><p>Chapter 1</p><p>The Sea</p></title>"
        '<p>Waves<a l:href="#n1" type="note">[1]</a> rolled.</p></section>'
        "<section><title><p>Chapter 2</p></title><poem><stanza><v>A line,</v><v>another.</v>"
        "</stanza></poem></section></section></body></FictionBook>"
    )
    chapters = read_fb2(book.encode(), title="x").chapters
    assert [(c.title, c.text) for c in chapters] == [
        ("Part One", "Part One"),
        ("Chapter 1 The Sea", "Chapter 1 The Sea\n\nWaves rolled."),
        ("Chapter 2", "Chapter 2\n\nA line,\n\nanother."),
    ]


def test_a_file_that_is_not_fictionbook_is_refused():
    with pytest.raises(BookError, match="FictionBook"):
        read_fb2(b"just some text, no XML")
