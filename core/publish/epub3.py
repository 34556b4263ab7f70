"""The documents of a read-along EPUB 3: each chapter's XHTML and its Media Overlay (SMIL), the
navigation document, the stylesheet, the package document and the container file. Pure: the
caller gives the chapters (core/publish/read_along.py) and names the audio and cover files;
core/publish/epub_zip.py packs the result.

Everything lies flat in one folder (``EPUB/``), so every reference is a bare file name. Every
id in a chapter's text is referred to once by its overlay: a sentence by a ``<par>`` that plays
its clip, or with words by a ``<seq>`` of its words' ``<par>``\\ s. A reading system adds the
package's ``media:active-class`` to the element being read; the stylesheet colours it.
"""

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from core.publish.read_along import Clip, ReadAlongChapter, Sentence

EPUB_MEDIA_TYPE = "application/epub+zip"
FOLDER = "EPUB"
PACKAGE_PATH = f"{FOLDER}/package.opf"
NAV_NAME = "nav.xhtml"
STYLESHEET_NAME = "read-along.css"
# The class a reading system puts on the element being read aloud
ACTIVE_CLASS = "read-along-active"
# The class it puts on the document while the audio plays
PLAYING_CLASS = "read-along-playing"

XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
SMIL_NS = "http://www.w3.org/ns/SMIL"
OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"

# Images that EPUB 3 reading systems must all show (core media types), by their first bytes
_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)
IMAGE_SIGNATURE_BYTES = max(len(signature) for signature, _, _ in _IMAGE_SIGNATURES)

STYLESHEET = f"""\
/* Read-along: the reading system marks the sentence (or word) being read with
   .{ACTIVE_CLASS}, and the document with .{PLAYING_CLASS} while it plays */
body {{ line-height: 1.6; }}
h1 {{ margin-bottom: 1.2em; }}
p {{ margin: 0 0 0.9em; text-indent: 0; }}
.{ACTIVE_CLASS} {{
  background-color: #ffe066;
  color: #1a1a1a;
  border-radius: 0.2em;
  box-shadow: 0 0 0 0.12em #ffe066;
}}
"""

# XML 1.0 allows neither these controls nor lone surrogates: dropped wherever text goes in
_NOT_XML = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0xD800, 0xE000), 0xFFFE, 0xFFFF]
)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def xml_text(text: str) -> str:
    """``text`` as XML character data or an attribute value (double-quoted)."""
    return text.translate(_NOT_XML).translate(_ESCAPES)


def clock(milliseconds: int) -> str:
    """A SMIL full clock value: ``H:MM:SS.mmm``."""
    seconds, millis = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def image_type(head: bytes) -> tuple[str, str] | None:
    """(media type, extension) of an image by its first bytes, if it is one every reading
    system shows (JPEG, PNG, GIF); else None."""
    for signature, media_type, extension in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return media_type, extension
    return None


@dataclass(frozen=True)
class BookInfo:
    """What the package document says of the book."""

    job_id: str  # 32 hex digits: a UUID, the book's identifier
    title: str
    author: str | None
    language: str  # BCP 47
    narrator: str
    modified: datetime


@dataclass(frozen=True)
class MediaFile:
    """A file of the book that is not a document: its name in the folder and media type."""

    name: str
    media_type: str


@dataclass(frozen=True)
class ChapterFiles:
    """A chapter's documents in the package, once written."""

    number: int
    title: str
    duration_ms: int  # of its overlay's clips; 0: it has no overlay

    @property
    def xhtml(self) -> str:
        return f"chapter-{self.number + 1:04d}.xhtml"

    @property
    def smil(self) -> str:
        return f"chapter-{self.number + 1:04d}.smil"

    @property
    def item_id(self) -> str:
        return f"chapter-{self.number + 1:04d}"

    @property
    def overlay_id(self) -> str:
        return f"overlay-{self.number + 1:04d}"


def container_xml() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
        f'  <rootfiles><rootfile full-path="{PACKAGE_PATH}" '
        f'media-type="application/oebps-package+xml"/></rootfiles>\n'
        "</container>\n"
    ).encode()


def _html_head(title: str, language: str) -> str:
    lang = xml_text(language)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="{XHTML_NS}" xmlns:epub="{OPS_NS}" lang="{lang}" xml:lang="{lang}">\n'
        f'<head>\n<meta charset="UTF-8"/>\n<title>{xml_text(title)}</title>\n'
        f'<link rel="stylesheet" type="text/css" href="{STYLESHEET_NAME}"/>\n</head>\n'
    )


def _sentence_html(sentence: Sentence) -> str:
    parts = []
    for token in sentence.tokens:
        parts.append(xml_text(token.space_before))
        if token.id is None:
            parts.append(xml_text(token.lead + token.word + token.trail))
        else:
            parts.append(
                f'{xml_text(token.lead)}<span id="{token.id}">{xml_text(token.word)}</span>'
                f"{xml_text(token.trail)}"
            )
    inner = "".join(parts)
    return inner if sentence.id is None else f'<span id="{sentence.id}">{inner}</span>'


def chapter_xhtml(chapter: ReadAlongChapter, language: str) -> bytes:
    """The chapter's text: its title, then its paragraphs, an id on each sentence (and word)
    that its overlay plays."""
    body = [
        f"<p>{chapter.separator.join(_sentence_html(s) for s in paragraph)}</p>\n"
        for paragraph in chapter.paragraphs
    ]
    return (
        _html_head(chapter.title, language)
        + '<body>\n<section epub:type="chapter">\n'
        + f"<h1>{xml_text(chapter.title)}</h1>\n"
        + "".join(body)
        + "</section>\n</body>\n</html>\n"
    ).encode()


def _par(text_src: str, audio: str, clip: Clip, indent: str) -> str:
    return (
        f'{indent}<par><text src="{text_src}"/><audio src="{audio}" '
        f'clipBegin="{clock(clip.begin_ms)}" clipEnd="{clock(clip.end_ms)}"/></par>\n'
    )


def chapter_smil(chapter: ReadAlongChapter, xhtml: str, audio: str) -> bytes:
    """The chapter's Media Overlay: in reading order, a ``<par>`` per timed sentence, or per
    timed word inside a ``<seq>`` per sentence."""
    lines = []
    for sentence in chapter.sentences:
        if sentence.clip is not None:
            lines.append(_par(f"{xhtml}#{sentence.id}", audio, sentence.clip, "    "))
        elif sentence.id is not None:
            lines.append(f'    <seq epub:textref="{xhtml}#{sentence.id}">\n')
            lines += [
                _par(f"{xhtml}#{token.id}", audio, token.clip, "      ")
                for token in sentence.tokens
                if token.clip is not None
            ]
            lines.append("    </seq>\n")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<smil xmlns="{SMIL_NS}" xmlns:epub="{OPS_NS}" version="3.0">\n'
        "  <body>\n" + "".join(lines) + "  </body>\n</smil>\n"
    ).encode()


def nav_xhtml(book: BookInfo, chapters: Sequence[ChapterFiles]) -> bytes:
    items = "".join(f'<li><a href="{c.xhtml}">{xml_text(c.title)}</a></li>\n' for c in chapters)
    return (
        _html_head(book.title, book.language)
        + f'<body>\n<nav epub:type="toc" id="toc">\n<h1>{xml_text(book.title)}</h1>\n'
        + f"<ol>\n{items}</ol>\n</nav>\n</body>\n</html>\n"
    ).encode()


def _meta(prop: str, value: str, refines: str | None = None) -> str:
    refined = f' refines="#{refines}"' if refines else ""
    return f'    <meta property="{prop}"{refined}>{xml_text(value)}</meta>\n'


def package_opf(
    book: BookInfo,
    chapters: Sequence[ChapterFiles],
    audio: MediaFile,
    cover: MediaFile | None = None,
) -> bytes:
    """The package document: metadata (the overlays' durations, each and in total, the
    narrator, the active class), the manifest and the spine."""
    identifier = uuid.UUID(hex=book.job_id).urn
    modified = book.modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    overlaid = [c for c in chapters if c.duration_ms > 0]
    metadata = [
        f'    <dc:identifier id="book-id">{identifier}</dc:identifier>\n',
        f"    <dc:title>{xml_text(book.title)}</dc:title>\n",
        f"    <dc:creator>{xml_text(book.author or 'Unknown')}</dc:creator>\n",
        f"    <dc:language>{xml_text(book.language)}</dc:language>\n",
        _meta("dcterms:modified", modified),
        *(_meta("media:duration", clock(c.duration_ms), c.overlay_id) for c in overlaid),
        _meta("media:duration", clock(sum(c.duration_ms for c in overlaid))),
        _meta("media:narrator", book.narrator),
        _meta("media:active-class", ACTIVE_CLASS),
        _meta("media:playback-active-class", PLAYING_CLASS),
    ]
    manifest = [
        f'    <item id="nav" href="{NAV_NAME}" media-type="application/xhtml+xml" '
        'properties="nav"/>\n',
        f'    <item id="style" href="{STYLESHEET_NAME}" media-type="text/css"/>\n',
    ]
    for c in chapters:
        overlay = f' media-overlay="{c.overlay_id}"' if c.duration_ms > 0 else ""
        manifest.append(
            f'    <item id="{c.item_id}" href="{c.xhtml}" media-type="application/xhtml+xml"'
            f"{overlay}/>\n"
        )
        if c.duration_ms > 0:
            manifest.append(
                f'    <item id="{c.overlay_id}" href="{c.smil}" '
                'media-type="application/smil+xml"/>\n'
            )
    manifest.append(f'    <item id="audio" href="{audio.name}" media-type="{audio.media_type}"/>\n')
    if cover is not None:
        manifest.append(
            f'    <item id="cover" href="{cover.name}" media-type="{cover.media_type}" '
            'properties="cover-image"/>\n'
        )
    spine = "".join(f'    <itemref idref="{c.item_id}"/>\n' for c in chapters)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<package xmlns="{OPF_NS}" version="3.0" unique-identifier="book-id" '
        f'xml:lang="{xml_text(book.language)}">\n'
        f'  <metadata xmlns:dc="{DC_NS}">\n' + "".join(metadata) + "  </metadata>\n"
        "  <manifest>\n" + "".join(manifest) + "  </manifest>\n"
        "  <spine>\n" + spine + "  </spine>\n</package>\n"
    ).encode()


def book_documents(
    book: BookInfo,
    chapters: Iterable[ReadAlongChapter],
    audio: MediaFile,
    cover: MediaFile | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Every document of the book as (path in the zip, bytes): a chapter's two as soon as it
    comes (``chapters`` may be read from storage one at a time), the package document last,
    once every overlay's duration is known."""
    yield "META-INF/container.xml", container_xml()
    written: list[ChapterFiles] = []
    for chapter in chapters:
        files = ChapterFiles(chapter.number, chapter.title, chapter.duration_ms)
        yield f"{FOLDER}/{files.xhtml}", chapter_xhtml(chapter, book.language)
        if files.duration_ms > 0:
            yield f"{FOLDER}/{files.smil}", chapter_smil(chapter, files.xhtml, audio.name)
        written.append(files)
    yield f"{FOLDER}/{STYLESHEET_NAME}", STYLESHEET.encode()
    yield f"{FOLDER}/{NAV_NAME}", nav_xhtml(book, written)
    yield PACKAGE_PATH, package_opf(book, written, audio, cover)
