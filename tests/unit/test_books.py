"""Chapters found in plain-text and Markdown books."""

from core.books import Chapter, split_markdown, split_txt

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
