"""Chapters found in plain-text and Markdown books."""

import io
import zipfile

import pytest

from core import books
from core.books import BookError, Chapter, read_epub, split_markdown, split_txt
from tests.epub_factory import CHAPTERS, build_epub

NOVEL = """The Lighthouse

A note before the story begins.

CHAPTER I

The keeper climbed the stairs.

Chapter Two: The Storm
The wind rose in the night. He wrote in chapter 4 of his log.

Chapter 3
Morning came.

Epilogue

The light still burns.
"""


def test_txt_chapters_start_at_chapter_lines():
    chapters = split_txt(NOVEL, "The Lighthouse")
    assert [c.title for c in chapters] == [
        "The Lighthouse",
        "CHAPTER I",
        "Chapter Two: The Storm",
        "Chapter 3",
        "Epilogue",
    ]
    assert chapters[0].text == "The Lighthouse\n\nA note before the story begins."
    assert chapters[2].text == "The wind rose in the night. He wrote in chapter 4 of his log."
    assert chapters[-1].text == "The light still burns."


def test_txt_form_feeds_break_parts_and_plain_text_is_one_chapter():
    assert split_txt("First page.\fSecond page.\f\f") == [
        Chapter("Part 1", "First page."),
        Chapter("Part 2", "Second page."),
    ]
    assert split_txt("Just a letter.\n\nTwo paragraphs.", "Letter") == [
        Chapter("Letter", "Just a letter.\n\nTwo paragraphs.")
    ]
    assert split_txt(" \n\n ") == []


def test_markdown_chapters_at_the_top_heading_level_with_markup_removed():
    book = (
        "Front matter.\n\n## One\nHello **world**, see [the map](http://x/map.png).\n\n"
        "### Aside\n- first\n- second\n\n## Two `code`\n> Quoted words.\n"
    )
    chapters = split_markdown(book, "Book")
    assert [c.title for c in chapters] == ["Book", "One", "Two code"]
    assert chapters[0].text == "Front matter."
    assert chapters[1].text == "Hello world, see the map.\n\nAside.\nfirst\nsecond"
    assert chapters[2].text == "Quoted words."


def test_epub_chapters_follow_the_spine_titled_by_the_toc_without_front_matter():
    book = read_epub(build_epub())
    assert (book.title, book.author) == ("A Harbour Town", "Ada Example")
    assert [c.title for c in book.chapters] == [title for title, _ in CHAPTERS]
    assert book.chapters[0].text == f"{CHAPTERS[0][0]}\n\n{CHAPTERS[0][1]}"  # no script text
    assert all("Copyright" not in c.text for c in book.chapters)


def test_epub_without_toc_keeps_every_document():
    book = read_epub(build_epub(with_toc=False))
    assert len(book.chapters) >= 4  # the copyright page cannot be told apart without a TOC
    assert book.chapters[0].text.startswith("Copyright")


def test_bad_epubs_say_what_is_wrong(monkeypatch):
    with pytest.raises(BookError, match="not a zip"):
        read_epub(b"plain text, not a zip")
    junk = io.BytesIO()
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("hello.txt", "no container here")
    with pytest.raises(BookError, match="container.xml"):
        read_epub(junk.getvalue())
    monkeypatch.setattr(books, "MAX_EPUB_UNPACKED_BYTES", 1000)
    with pytest.raises(BookError, match="unpacks to"):
        read_epub(build_epub())  # a zip bomb is refused on its declared sizes, before unpacking
