"""HTML uploads (one page, or a saved article) read as chapters.

What a page shows around its text is left out: scripts, styles, navigation, asides, headers,
footers, forms, dialogs and what is hidden. When the page has an <article> (else a <main>),
only what is in it is read. Chapters start at the headings of the highest level used: the
<h2>s of a page whose one <h1> is its title (text before the first <h2> is titled by it), else
the <h1>s, else the <h2>s; lower headings stay as paragraphs. The title is the page's
og:title, else its <title>; the author its <meta name="author">; the language its <html lang>.

The page is read by a streaming parser, its text counted against the budgets as it is found.
"""

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from core.speech.languages import language_for_tag
from core.text.book_blocks import Block, Paragraphs, chapters_at
from core.text.books import MAX_TITLE_CHARS, BookError
from core.text.epub import Book, TextBudget

_READ_BLOCK_CHARS = 64 * 1024
_CHARSET_SNIFF_BYTES = 4096  # where a page's <meta charset> must be, by the HTML standard
# <meta charset="x"> or content="text/html; charset=x": the name is a short run of name
# characters, and nothing before it repeats
_CHARSET = re.compile(rb"charset\s{0,8}=\s{0,8}[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)

_SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "nav", "aside", "header", "footer", "form"}
    | {"button", "select", "textarea", "iframe", "svg", "math", "dialog", "canvas", "object"}
    | {"head", "figure", "figcaption", "menu"}
)
# Landmarks and widgets by role, on whatever element
_SKIPPED_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "dialog"}
    | {"alertdialog", "menu", "menubar", "toolbar", "form"}
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "blockquote", "li", "br", "tr", "dt", "dd"}
    | {"pre", "hr", "table", "ul", "ol", "dl", "body", "td", "th", "caption", "address"}
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
# Elements that need no end tag: they never open a skipped region
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "source", "area"})


@dataclass(frozen=True)
class _Found:
    block: Block
    in_article: bool
    in_main: bool


class _Page:
    """lxml target: a page's blocks, each marked by whether it lies in an <article> or a
    <main>, and its metadata."""

    def __init__(self, budgets: Sequence[TextBudget]):
        self.paragraphs = Paragraphs(budgets)
        self.found: list[_Found] = []
        self.meta: dict[str, str] = {}
        self.title_text: list[str] | None = None
        self.skipping: list[str] = []  # the tags of the skipped regions open, innermost last
        self.heading: int = 0  # the level of the heading being read
        self.articles = 0
        self.mains = 0

    def start(self, tag, attrib):
        tag = tag.lower() if isinstance(tag, str) else ""
        if tag == "html" and attrib.get("lang"):
            self.meta.setdefault("language", attrib["lang"])
        elif tag == "meta":
            self._meta(attrib)
        elif tag == "title" and not self.skipping_body():
            self.title_text = []
        if self.skipping or (tag not in _VOID_TAGS and _skipped(tag, attrib)):
            if tag not in _VOID_TAGS:
                self.skipping.append(tag)
            return
        if tag in _HEADINGS or tag in _BLOCK_TAGS:
            self._end_block()
        if tag in _HEADINGS:
            self.heading = _HEADINGS[tag]
        elif tag == "article":
            self.articles += 1
        elif tag == "main":
            self.mains += 1

    def end(self, tag):
        tag = tag.lower() if isinstance(tag, str) else ""
        if tag == "title" and self.title_text is not None:
            self.meta.setdefault("title_tag", " ".join("".join(self.title_text).split()))
            self.title_text = None
        if self.skipping:
            if self.skipping[-1] == tag:
                self.skipping.pop()
            return
        if tag in _HEADINGS or tag in _BLOCK_TAGS:
            self._end_block()
        if tag in _HEADINGS:
            self.heading = 0
        elif tag == "article":
            self.articles = max(0, self.articles - 1)
        elif tag == "main":
            self.mains = max(0, self.mains - 1)

    def data(self, data):
        if self.title_text is not None:
            self.title_text.append(data)
        elif not self.skipping:
            self.paragraphs.add(data)

    def close(self):
        self._end_block()
        return self

    def skipping_body(self) -> bool:
        return bool(self.skipping) and self.skipping[0] != "head"

    def _meta(self, attrib) -> None:
        key = (attrib.get("property") or attrib.get("name") or "").strip().lower()
        content = " ".join((attrib.get("content") or "").split())
        if key in ("og:title", "author") and content:
            self.meta.setdefault(key, content[:MAX_TITLE_CHARS])

    def _end_block(self) -> None:
        text = self.paragraphs.take()
        if text:
            block = Block(text, self.heading)
            self.found.append(_Found(block, self.articles > 0, self.mains > 0))


def _skipped(tag: str, attrib) -> bool:
    return (
        tag in _SKIPPED_TAGS
        or (attrib.get("role") or "").strip().lower() in _SKIPPED_ROLES
        or "hidden" in attrib
        or (attrib.get("aria-hidden") or "").strip().lower() == "true"
    )


def _encoding(data: bytes) -> str:
    """The page's encoding: its byte order mark, else its <meta charset>, else UTF-8."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return name
    declared = _CHARSET.search(data, 0, _CHARSET_SNIFF_BYTES)
    if declared:
        try:
            return codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            pass
    return "utf-8"


def _chosen(found: list[_Found]) -> list[Block]:
    """The blocks of the page's <article>s when it has one, else of its <main>, else all."""
    for inside in (lambda f: f.in_article, lambda f: f.in_main):
        chosen = [f.block for f in found if inside(f)]
        if any(b.level == 0 for b in chosen):
            return chosen
    return [f.block for f in found]


def _chapter_level(blocks: list[Block]) -> int | None:
    counts = {level: sum(1 for b in blocks if b.level == level) for level in (1, 2)}
    if counts[1] > 1:
        return 1
    if counts[2]:
        return 2  # a page's one <h1> is its title
    return 1 if counts[1] else None


def read_html(data: bytes, *budgets: TextBudget, title: str = "Opening") -> Book:
    """Chapters of an HTML page (see the module's docstring); text before the first chapter
    is titled by the page's one <h1> when it has one, else ``title``. Reading stops with
    BookTooLong once the text passes one of ``budgets``."""
    text = data.decode(_encoding(data), "replace")
    if "\x00" in text:
        raise BookError("binary, not an HTML page")
    target = _Page(budgets)
    parser = etree.HTMLParser(target=target, no_network=True, remove_comments=True)
    try:
        parser.feed("")
        for start in range(0, len(text), _READ_BLOCK_CHARS):
            parser.feed(text[start : start + _READ_BLOCK_CHARS])
        page = parser.close()
    except BookError:
        raise
    except etree.LxmlError as error:
        raise BookError(f"the page cannot be read: {error}") from error
    blocks = _chosen(page.found)
    level = _chapter_level(blocks)
    h1s = [b for b in blocks if b.level == 1]
    preface = h1s[0].text[:MAX_TITLE_CHARS] if level == 2 and len(h1s) == 1 else title
    language = page.meta.get("language")
    return Book(
        page.meta.get("og:title") or page.meta.get("title_tag") or None,
        page.meta.get("author"),
        chapters_at(blocks, level, preface),
        language_for_tag(language) if language else None,
    )
