"""Small real EPUB files for tests, built with ebooklib."""

import io

from ebooklib import epub

CHAPTERS = [
    ("The Harbour", "Boats rocked against the quay while the gulls argued over scraps."),
    ("The Market", "By noon the square was full of farmers and their carts."),
    ("The Night", "The last lantern went out and the town slept by the sea."),
]


def build_epub(chapters=CHAPTERS, *, with_toc: bool = True) -> bytes:
    book = epub.EpubBook()
    book.set_identifier("kq-test-book")
    book.set_title("A Harbour Town")
    book.set_language("en")
    book.add_author("Ada Example")
    copyright_page = epub.EpubHtml(title="Copyright", file_name="copyright.xhtml", lang="en")
    copyright_page.content = "<p>Copyright 2026 Ada Example. All rights reserved.</p>"
    book.add_item(copyright_page)
    items = []
    for number, (title, text) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=title, file_name=f"chap_{number}.xhtml", lang="en")
        item.content = f"<h1>{title}</h1><p>{text}</p><script>ignored()</script>"
        book.add_item(item)
        items.append(item)
    if with_toc:
        book.toc = [
            epub.Link(i.file_name, t, f"c{n}")
            for n, (i, (t, _)) in enumerate(zip(items, chapters, strict=True))
        ]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [copyright_page, *items]
    buffer = io.BytesIO()
    epub.write_epub(buffer, book)
    return buffer.getvalue()
