"""Small real EPUB files for tests: built with ebooklib, or written by hand (``raw_epub``) in
shapes ebooklib would not write."""

import io
import zipfile

from ebooklib import epub

CHAPTERS = [
    ("The Harbour", "Boats rocked against the quay while the gulls argued over scraps."),
    ("The Market", "By noon the square was full of farmers and their carts."),
    ("The Night", "The last lantern went out and the town slept by the sea."),
]


def build_epub(
    chapters=CHAPTERS,
    *,
    with_toc: bool = True,
    cover: bytes | None = None,
    details: dict[str, str] | None = None,
) -> bytes:
    """``cover``: an image, as EPUB 3's cover-image item (with EPUB 2's <meta name="cover">);
    ``details``: dc elements by name (description, date, identifier for an ISBN, ...), and
    "series"/"series_index" as calibre's metas."""
    book = epub.EpubBook()
    book.set_identifier("kq-test-book")
    book.set_title("A Harbour Town")
    book.set_language("en")
    book.add_author("Ada Example")
    details = dict(details or {})
    for name, content in (
        ("calibre:series", details.pop("series", None)),
        ("calibre:series_index", details.pop("series_index", None)),
    ):
        if content is not None:
            book.add_metadata(None, "meta", "", {"name": name, "content": content})
    for name, value in details.items():
        book.add_metadata("DC", name, value)
    if cover is not None:
        extension = "png" if cover.startswith(b"\x89PNG") else "jpg"
        book.set_cover(f"cover.{extension}", cover, create_page=False)
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


def xhtml(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>'
        f"<body>{body}</body></html>"
    ).encode()


def raw_epub(
    documents: dict[str, bytes],
    spine: list[str] | None = None,
    *,
    manifest: list[tuple[str, str]] | None = None,
    toc: dict[str, str] | None = None,
    ncx_map: str | None = None,
    nav: dict[str, str] | None = None,
    metadata: str = "<dc:title>Raw Book</dc:title><dc:language>en</dc:language>",
    extra_files: dict[str, bytes] | None = None,
    extra_items: str = "",
) -> bytes:
    """An EPUB written by hand, for shapes ebooklib would not write: ``documents`` by their
    path under OEBPS/, a manifest item for each (or ``manifest``'s (id, href) pairs), the spine
    (ids, default every item in order), an NCX with ``toc``'s {href: title} (or ``ncx_map``,
    its navMap written out) and an EPUB 3 nav document with ``nav``'s, if given. Compressed
    hard: a run of one character shrinks to almost nothing. ``extra_items``: more manifest
    items, written out (an image's)."""
    manifest = manifest if manifest is not None else [(f"d{i}", p) for i, p in enumerate(documents)]
    spine = spine if spine is not None else [item_id for item_id, _ in manifest]
    items = extra_items + "".join(
        f'<item id="{item_id}" href="{href}" media-type="application/xhtml+xml"/>'
        for item_id, href in manifest
    )
    files = dict(documents)
    if toc is not None:
        ncx_map = "".join(
            f'<navPoint id="p{n}"><navLabel><text>{title}</text></navLabel>'
            f'<content src="{href}"/></navPoint>'
            for n, (href, title) in enumerate(toc.items())
        )
    if ncx_map is not None:
        items += '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
        files["toc.ncx"] = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
            f"<navMap>{ncx_map}</navMap></ncx>"
        ).encode()
    if nav is not None:
        items += (
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        )
        links = "".join(f'<li><a href="{href}">{title}</a></li>' for href, title in nav.items())
        files["nav.xhtml"] = xhtml(
            f'<nav xmlns:epub="http://www.idpf.org/2007/ops" epub:type="toc"><ol>{links}</ol></nav>'
        )
    itemrefs = "".join(f'<itemref idref="{item_id}"/>' for item_id in spine)
    spine_toc = ' toc="ncx"' if ncx_map is not None else ""
    opf = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">kq-raw</dc:identifier>{metadata}</metadata>'
        f"<manifest>{items}</manifest><spine{spine_toc}>{itemrefs}</spine>"
        "</package>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        book.writestr("OEBPS/content.opf", opf)
        for path, data in {**files, **(extra_files or {})}.items():
            book.writestr(f"OEBPS/{path}", data)
    return buffer.getvalue()


class UnpackedBytes:
    """Counts the bytes unpacked from every zip entry while ``monkeypatch`` lasts."""

    def __init__(self, monkeypatch):
        self.total = 0
        read = zipfile.ZipExtFile.read

        def counting_read(stream, n=-1):
            data = read(stream, n)
            self.total += len(data)
            return data

        monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
