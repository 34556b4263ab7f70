"""Chapters found in plain-text and Markdown books."""

import io
import zipfile

import pytest

from core.text import epub
from core.text.books import BookError, Chapter, split_markdown, split_txt
from core.text.epub import read_epub
from tests.epub_factory import CHAPTERS, build_epub, raw_epub, xhtml

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
    monkeypatch.setattr(epub, "MAX_EPUB_UNPACKED_BYTES", 1000)
    with pytest.raises(BookError, match="unpacks to"):
        read_epub(build_epub())  # a zip bomb is refused on its declared sizes, before unpacking


def test_nested_ncx_titles_a_section_before_its_children_and_the_first_title_wins():
    point = '<navPoint><navLabel><text>{}</text></navLabel><content src="{}"/>{}</navPoint>'
    ncx_map = point.format(
        "Part\n  One", "text/part%201.xhtml", point.format("Chapter One", "text/one.xhtml#top", "")
    ) + point.format("Chapter One again", "text/one.xhtml", "")
    documents = {
        "text/part 1.xhtml": xhtml("<p>The first part.</p>"),
        "text/one.xhtml": xhtml("<p>The first chapter.</p>"),
        "text/cover.xhtml": xhtml("<p>Cover words.</p>"),
    }
    manifest = [("p1", "text/part%201.xhtml"), ("c1", "text/one.xhtml"), ("cv", "text/cover.xhtml")]
    book = read_epub(raw_epub(documents, ["cv", "p1", "c1"], manifest=manifest, ncx_map=ncx_map))
    assert book.chapters == [
        Chapter("Part One", "The first part."),
        Chapter("Chapter One", "The first chapter."),
    ]  # the cover is not in the table of contents


def test_an_epub3_nav_document_titles_chapters_when_there_is_no_ncx():
    documents = {"a.xhtml": xhtml("<p>Alpha.</p>"), "b.xhtml": xhtml("<p>Beta.</p>")}
    book = read_epub(raw_epub(documents, nav={"a.xhtml": "First", "b.xhtml#x": "Second"}))
    assert book.chapters == [Chapter("First", "Alpha."), Chapter("Second", "Beta.")]
    assert (book.title, book.language) == ("Raw Book", "en-us")


def test_epub_metadata_and_chapter_markup_read_as_text():
    chapter = (
        b"\xef\xbb\xbf"  # a byte order mark, not text
        + xhtml(
            '<script src="a.js"/><h2>One&nbsp;&mdash; Two</h2>'
            "<p>Caf&#233; &amp; <i>bar</i>\n   stools</p><p> </p><div>Last</div>"
        )
    )
    book = read_epub(
        raw_epub(
            {"c.xhtml": chapter},
            metadata="<dc:title>\n  A  Long\n Title </dc:title><dc:creator>Ada</dc:creator>"
            "<dc:creator>Bob</dc:creator><dc:language>fr</dc:language>",
        )
    )
    assert (book.title, book.author, book.language) == ("A Long Title", "Ada", "fr-fr")
    assert book.chapters == [Chapter("Chapter 1", "One — Two\n\nCafé & bar stools\n\nLast")]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"spine_missing": True}, "spine lists 'gone.xhtml', which it does not hold"),
        (
            {"opf_size": epub.MAX_EPUB_PACKAGE_FILE_BYTES + 1},
            "the most read of a package file .* is 2,097,152",
        ),
        ({"bad_crc": True}, "c.xhtml cannot be unpacked"),
        ({"no_opf": True}, "names no package document"),
    ],
)
def test_broken_epubs_say_what_is_wrong(change, reason):
    documents = {"c.xhtml": xhtml("<p>Words.</p>")}
    manifest = [("c", "c.xhtml")]
    if change.get("spine_missing"):
        manifest.append(("g", "gone.xhtml"))
    data = raw_epub(
        documents,
        manifest=manifest,
        metadata="<dc:title>T</dc:title>" + " " * change.get("opf_size", 0),
    )
    if change.get("bad_crc"):  # stored, not compressed, and then one letter changed
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out, zipfile.ZipFile(io.BytesIO(data)) as source:
            for info in source.infolist():
                out.writestr(info.filename, source.read(info))
        data = buffer.getvalue().replace(b"<p>Words.</p>", b"<p>Wards.</p>")
    if change.get("no_opf"):
        data = data.replace(b"OEBPS/content.opf", b"OEBPS/elsewhere.x")
    with pytest.raises(BookError, match=reason):
        read_epub(data)
