"""Book files made to cost the API: what reading them costs grows with what was sent, and no
more, and what an EPUB unpacks to stops at the limit it is read under (issue 21)."""

import tracemalloc
import zipfile

import pytest

from core.jobs.limits import MAX_JOB_CHAPTERS
from core.text import books, epub
from core.text.books import split_markdown, split_txt
from core.text.epub import read_epub
from tests.epub_factory import UnpackedBytes, raw_epub, xhtml
from tests.support.growth import MAX_GROWTH, growth

# --- Finding 1: Markdown and plain text -----------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "# a" + " " * n + "b\n\nText.",  # cubic before
        lambda n: "# a" + "\t" * n + "b #\n\nText.",
        lambda n: "## " + "#" * n + " x\n\nText.",
        lambda n: "Text " + "[" * n,  # quadratic before
        lambda n: "Text " + "[a](" * n,
        lambda n: "Text " + "![" * n + "]",
        lambda n: "# One\n" + "- " * n + "x",
    ],
    ids=["heading spaces", "heading tabs", "heading hashes", "run of [", "[a]( runs", "![ runs",
         "list markers"],
)  # fmt: skip
def test_markdown_costs_linear_time(make):
    assert growth(split_markdown, make, 500) < MAX_GROWTH


@pytest.mark.parametrize(
    "make",
    [
        lambda n: ("chapter 1" + " " * 119 + "x" + "y" * 10 + "\n") * n,
        lambda n: "chapter " + "i" * n + "z",
        lambda n: " " * n + "chapter 1",
    ],
    ids=["title lines", "roman numerals", "indent"],
)
def test_plain_text_costs_linear_time(make):
    assert growth(split_txt, make, 50) < MAX_GROWTH


def test_markdown_headings_and_links_read_as_before():
    chapters = split_markdown(
        "# C# for [everyone](http://x/a) ##\nSee ![the map](m.png) and [a [b] c](u).\n"
        "## Aside ###\nMore.\n"
    )
    assert chapters[0].title == "C# for everyone"
    assert chapters[0].text == "See the map and [a [b] c](u).\nAside.\nMore."


@pytest.mark.parametrize(
    ("split", "chapter"),
    [(split_txt, "Chapter 1\nx\n"), (split_txt, "x\f"), (split_markdown, "# 1\nx\n")],
    ids=["chapter lines", "form feeds", "headings"],
)
def test_more_chapters_than_a_job_may_have_are_refused_as_they_are_read(split, chapter):
    # 10 MiB of one-line Markdown chapters cost 12 s and 880 MB before the 422
    tracemalloc.start()
    try:
        with pytest.raises(books.BookError, match=f"more than {MAX_JOB_CHAPTERS} chapters"):
            split(chapter * 100_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"{peak:,} bytes"


# --- Finding 3: EPUB ------------------------------------------------------------------------

CHAPTER = "Boats rocked against the quay while the gulls argued over scraps. "


def spine_of_one_file(items: int, text: str = CHAPTER) -> bytes:
    """One chapter file listed ``items`` times, each time as an item of its own in the
    manifest and in the spine."""
    return raw_epub(
        {"chapter.xhtml": xhtml(f"<p>{text}</p>")},
        manifest=[(f"c{i}", "chapter.xhtml") for i in range(items)],
    )


def test_a_file_listed_many_times_is_read_once():
    # 3a: a 2 MB chapter listed 100 times became 200 million characters
    book = read_epub(spine_of_one_file(100, CHAPTER * 300))
    assert len(book.chapters) == 1
    assert book.chapters[0].text == (CHAPTER * 300).strip()


def test_reading_a_file_listed_many_times_keeps_memory_to_one_copy():
    data = spine_of_one_file(50, "x" * 1_000_000)  # a 1 MB chapter, 50 times: about 2 kB sent
    tracemalloc.start()
    try:
        read_epub(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"{peak:,} bytes"  # 50 copies were 100 MB and more


def test_a_long_spine_costs_linear_time():
    # 3b: ebooklib looked each spine id up in a list of every manifest item
    most = epub.MAX_EPUB_MANIFEST_ITEMS
    assert growth(read_epub, spine_of_one_file, most // 4, most=most) < MAX_GROWTH


@pytest.mark.parametrize("listing", ["manifest", "spine"])
def test_manifest_and_spine_are_capped(listing):
    if listing == "manifest":
        items, spine, limit = epub.MAX_EPUB_MANIFEST_ITEMS + 1, 1, "more than 10,000 files"
    else:
        items, spine, limit = 1, epub.MAX_EPUB_SPINE_ITEMS + 1, "more than 10,000 documents"
    data = raw_epub(
        {"chapter.xhtml": xhtml(f"<p>{CHAPTER}</p>")},
        manifest=[(f"c{i}", "chapter.xhtml") for i in range(items)],
        spine=["c0"] * spine,
    )
    with pytest.raises(books.BookError, match=f"the EPUB's {listing} lists {limit}"):
        read_epub(data)


def test_a_zip_of_too_many_files_is_refused_before_it_is_opened(monkeypatch):
    extra = {f"img/{i}.png": b"" for i in range(epub.MAX_EPUB_FILES)}
    data = raw_epub({"chapter.xhtml": xhtml(f"<p>{CHAPTER}</p>")}, extra_files=extra)
    opened = []
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: opened.append(a))
    with pytest.raises(books.BookError, match=f"the most a book may hold is {10_000:,}"):
        read_epub(data)
    assert not opened


def test_reading_stops_once_the_text_passes_the_budget(monkeypatch):
    # 3c: one 60 MB chapter was read whole (16 s, 1.4 GB) before its 413
    data = raw_epub({"long.xhtml": xhtml("<p>" + CHAPTER * 100_000 + "</p>")})  # 6.6 MB
    unpacked = UnpackedBytes(monkeypatch)
    with pytest.raises(epub.BookTooLong, match="the text passes 50,000 characters, one job's"):
        read_epub(data, epub.TextBudget(50_000, "one job's limit"))
    assert unpacked.total < 200_000


def test_reading_stops_once_the_markup_passes_the_budget(monkeypatch):
    data = raw_epub({"markup.xhtml": xhtml("<b></b>" * 1_000_000 + "<p>Words.</p>")})
    unpacked = UnpackedBytes(monkeypatch)
    with pytest.raises(
        epub.BookTooLong,
        match="the chapters pass 200,000 bytes of markup, 4 for each character of one job's limit",
    ):
        read_epub(data, epub.TextBudget(50_000, "one job's limit"))
    assert unpacked.total < 400_000


def test_books_sharing_a_budget_stop_when_together_they_pass_it():
    shared = epub.TextBudget(100_000, "the batch's limit")
    book = raw_epub({"c.xhtml": xhtml("<p>" + "word " * 8_000 + "</p>")})  # 40,000 characters
    for _ in range(2):
        read_epub(book, epub.TextBudget(50_000, "one job's limit"), shared)
    with pytest.raises(epub.BookTooLong, match="passes 100,000 characters, the batch's limit"):
        read_epub(book, epub.TextBudget(50_000, "one job's limit"), shared)


def test_the_text_counted_is_the_text_kept():
    text = "<p>" + "  one\n\ttwo " * 10 + "</p><div>three</div>"
    book = read_epub(raw_epub({"a.xhtml": xhtml(text), "b.xhtml": xhtml(text)}))
    kept = sum(len(chapter.text) for chapter in book.chapters)
    read_epub(raw_epub({"a.xhtml": xhtml(text), "b.xhtml": xhtml(text)}), epub.TextBudget(kept, ""))
    with pytest.raises(epub.BookTooLong):
        read_epub(
            raw_epub({"a.xhtml": xhtml(text), "b.xhtml": xhtml(text)}),
            epub.TextBudget(kept - 1, ""),
        )


def test_a_chapter_of_one_ten_megabyte_text_node_is_read():
    # 3d: lxml's default limit on one text node (10,000,000) dropped the chapter without a word
    words = "word " * 2_100_000
    book = read_epub(raw_epub({"one.xhtml": xhtml(f"<p>{words}</p>")}))
    assert [len(chapter.text) for chapter in book.chapters] == [len(words) - 1]
