"""How the book fixtures beside this file were made; the tests read the files and need none of
these tools. Run from the repository root to make them again:

    .venv/bin/python tests/data/books/make_books.py

It needs Debian's `chromium`, LibreOffice (`apt-get install libreoffice-writer-nogui
hyphen-en-us`) and python-docx (the dev extra). Every book is chapters of
benchmarks/data/moby_dick_4-15.md (tests/support/book_text.py names which), with
things a reader must leave out:

- chromium.pdf: Chromium's print to PDF of an HTML book: its own running header (date, title)
  and footer (file URL, "page/pages"), an outline from the <h1> chapters
  (--generate-pdf-document-outline), a narrow justified column whose words break at line ends
  with a hyphen (soft hyphens: this Chromium has no hyphenation dictionaries), paragraphs by
  first-line indent, and superscript footnote marks.
- chromium-headings.pdf: the same without an outline: chapters only by their headings' size.
- libreoffice.pdf: LibreOffice's export of a DOCX written here with python-docx: a running
  header (title and author), a footer "Page N of M" (PAGE and NUMPAGES fields), automatic
  hyphenation (en-US), paragraphs by the space between them, superscript footnote marks, and
  the outline LibreOffice makes of the Heading 1 paragraphs.
- python-docx.docx: python-docx: title and author in its core properties, Heading 1 chapters,
  a table and an image (both left out by the reader), superscript footnote marks.
- libreoffice.docx: LibreOffice's conversion of an HTML book (<h1> chapters) to DOCX.
- article.html: a saved web article: navigation, header, footer, aside, a form, scripts, styles
  and comments around one <h1> and a <h2> for each chapter; its title in og:title.
- book.fb2: FictionBook 2: title-info, a <section> for each chapter, a notes body.
- encrypted.pdf: LibreOffice's export of a chapter with a password to open it.
- scan.pdf: a page with no text layer: Chromium's print of a screenshot of a chapter's first
  paragraph.
"""

import base64
import html
import io
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.support.book_text import (  # noqa: E402
    BOOK_AUTHOR,
    BOOK_TITLE,
    BOOKS,
    SCAN_TEXT,
    SourceChapter,
    chapters_of,
)

CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
_VOWELS = frozenset("aeiouy")
_SENTENCE_END = re.compile(r"[.!?](?= )")


def soft_hyphens(text: str) -> str:
    """``text`` with a soft hyphen where a word of eight letters or more may break: between
    two consonants, three letters or more from either end."""

    def hyphenate(word: str) -> str:
        if len(word) < 8 or not word.isalpha():
            return word
        out = [word[:3]]
        for i in range(3, len(word) - 3):
            before, letter = word[i - 1].lower(), word[i].lower()
            if before not in _VOWELS and letter not in _VOWELS and letter != "h":
                out.append("\u00ad")
            out.append(word[i])
        out.append(word[len(word) - 3 :])
        return "".join(out)

    return " ".join(hyphenate(word) for word in text.split(" "))


def with_marks(paragraphs: list[str], mark) -> list[str]:
    """Every third paragraph with a footnote mark after its first sentence, made by ``mark``
    from the mark's number (HTML <sup>, or a DOCX run)."""
    marked, number = [], 0
    for index, paragraph in enumerate(paragraphs):
        end = _SENTENCE_END.search(paragraph)
        if index % 3 == 1 and end:
            number += 1
            marked.append((paragraph[: end.end()], mark(number), paragraph[end.end() :]))
        else:
            marked.append((paragraph, None, ""))
    return marked


def run(command: list[str], cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, check=True, timeout=180, capture_output=True)


# --- Chromium ---------------------------------------------------------------------------------

CHROMIUM_STYLE = """
@page { size: 148mm 210mm; }
body { font: 11pt/1.4 "Liberation Serif", serif; width: 95mm; margin: 0 auto;
       text-align: justify; hyphens: manual; }
h1 { font-size: 18pt; margin: 0 0 14pt; break-before: page; text-align: left; }
h1.first { break-before: auto; }
p { margin: 0; text-indent: 1.5em; }
h1 + p { text-indent: 0; }
"""


def html_book(chapters: list[SourceChapter], title: str) -> str:
    parts = [
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CHROMIUM_STYLE}</style></head><body>"
    ]
    for index, chapter in enumerate(chapters):
        first = ' class="first"' if index == 0 else ""
        parts.append(f"<h1{first}>{html.escape(chapter.title)}</h1>")
        for before, mark, after in with_marks(chapter.paragraphs, lambda n: f"<sup>{n}</sup>"):
            body = html.escape(soft_hyphens(before)) + (mark or "") + html.escape(after)
            parts.append(f"<p>{body.replace(chr(0xAD), '&shy;')}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def chromium_pdf(name: str, work: Path, outline: bool) -> None:
    page = work / f"{Path(name).stem}.html"
    page.write_text(html_book(chapters_of(name), BOOK_TITLE), encoding="utf-8")
    flags = ["--generate-pdf-document-outline"] if outline else []
    run(
        [*CHROMIUM, f"--user-data-dir={work / 'profile'}", *flags,
         f"--print-to-pdf={BOOKS / name}", page.as_uri()],
        work,
    )  # fmt: skip


# --- python-docx and LibreOffice ---------------------------------------------------------------


def tiny_png() -> bytes:
    """A 4 x 4 grey PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * 4 for _ in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _field(paragraph, instruction: str) -> None:
    """A field (PAGE, NUMPAGES) in ``paragraph``: python-docx has no call for one."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    paragraph._p.append(
        parse_xml(
            f'<w:fldSimple {nsdecls("w")} w:instr="{instruction}"><w:r><w:t>1</w:t></w:r>'
            "</w:fldSimple>"
        )
    )


def docx_book(chapters: list[SourceChapter], *, for_print: bool) -> bytes:
    """``for_print``: an A5 page with a running header, a "Page N of M" footer, automatic
    hyphenation and space between paragraphs (what libreoffice.pdf is made of); else a table
    and an image among the chapters."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Cm, Pt

    document = Document()
    document.core_properties.title = BOOK_TITLE
    document.core_properties.author = BOOK_AUTHOR
    normal = document.styles["Normal"]
    normal.font.name = "Liberation Serif"
    normal.font.size = Pt(11)
    normal.element.get_or_add_rPr().append(parse_xml(f'<w:lang {nsdecls("w")} w:val="en-US"/>'))
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if for_print:
        section = document.sections[0]
        section.page_width, section.page_height = Cm(14.8), Cm(21)
        section.left_margin = section.right_margin = Cm(2)
        section.top_margin = section.bottom_margin = Cm(2)
        header = section.header.paragraphs[0]
        header.text = f"{BOOK_TITLE} \u00b7 {BOOK_AUTHOR}"
        header.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer.add_run("Page ")
        _field(footer, "PAGE")
        footer.add_run(" of ")
        _field(footer, "NUMPAGES")
        settings = document.settings.element
        settings.append(parse_xml(f'<w:autoHyphenation {nsdecls("w")} w:val="true"/>'))
    for index, chapter in enumerate(chapters):
        heading = document.add_heading(chapter.title, level=1)
        heading.paragraph_format.page_break_before = index > 0
        for before, mark, after in with_marks(chapter.paragraphs, str):
            paragraph = document.add_paragraph(before)
            if mark:
                paragraph.add_run(mark).font.superscript = True
                paragraph.add_run(after)
        if not for_print and index == 0:
            table = document.add_table(rows=2, cols=2)
            for cell, text in zip(
                table._cells, ["Tonnage", "Crew", "Three hundred", "Thirty"], strict=True
            ):
                cell.text = text
            document.add_picture(io.BytesIO(tiny_png()), width=Cm(1))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def soffice(source: Path, target: str, work: Path, *flags: str) -> Path:
    run(
        ["soffice", f"-env:UserInstallation={(work / 'lo-profile').as_uri()}", "--headless",
         *flags, "--convert-to", target, "--outdir", str(work / "out"), str(source)],
        work,
    )  # fmt: skip
    return work / "out" / f"{source.stem}.{target.split(':')[0]}"


def libreoffice_pdf(work: Path) -> None:
    source = work / "libreoffice.docx"
    source.write_bytes(docx_book(chapters_of("libreoffice.pdf"), for_print=True))
    shutil.copy(soffice(source, "pdf", work), BOOKS / "libreoffice.pdf")


def encrypted_pdf(work: Path) -> None:
    """A chapter exported by LibreOffice with a password to open it (RC4/AES: LibreOffice's
    choice), to be refused with a 422 that says how to remove it."""
    source = work / "encrypted.docx"
    source.write_bytes(docx_book(chapters_of("encrypted.pdf"), for_print=True))
    options = (
        '{"EncryptFile":{"type":"boolean","value":"true"},'
        '"DocumentOpenPassword":{"type":"string","value":"harpoon"}}'
    )
    shutil.copy(soffice(source, f"pdf:writer_pdf_Export:{options}", work), BOOKS / "encrypted.pdf")


def libreoffice_docx(work: Path) -> None:
    page = work / "lo-source.html"
    chapters = chapters_of("libreoffice.docx")
    body = "".join(
        f"<h1>{html.escape(c.title)}</h1>"
        + "".join(f"<p>{html.escape(p)}</p>" for p in c.paragraphs)
        for c in chapters
    )
    page.write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{BOOK_TITLE}</title>'
        f"</head><body>{body}</body></html>",
        encoding="utf-8",
    )
    # Opened in Writer, not Writer/Web, which cannot save a DOCX
    made = soffice(page, "docx:MS Word 2007 XML", work, "--infilter=HTML (StarWriter)")
    shutil.copy(made, BOOKS / "libreoffice.docx")


# --- HTML, FB2 ---------------------------------------------------------------------------------

ARTICLE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Moby-Dick, chapters 14 and 15 | The Whaling Review</title>
  <meta property="og:title" content="{title}">
  <meta property="og:site_name" content="The Whaling Review">
  <meta name="author" content="{author}">
  <link rel="stylesheet" href="/assets/site.css">
  <style>body {{ font-family: Georgia, serif }} .promo::after {{ content: "Subscribe" }}</style>
  <script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments)}}
  gtag('config', 'UA-000000-1');</script>
</head>
<body>
  <!-- saved from the web: site chrome around the article -->
  <header class="site-header">
    <a href="/" class="logo">The Whaling Review</a>
    <nav aria-label="Main"><ul><li><a href="/">Home</a></li><li><a href="/ships">Ships</a></li>
      <li><a href="/harpoons">Harpoons</a></li><li><a href="/about">About us</a></li></ul></nav>
    <form action="/search"><input name="q" placeholder="Search the archive">
      <button>Search</button></form>
  </header>
  <div class="cookie-banner" role="dialog"><p>We use cookies.</p></div>
  <main>
    <article>
      <h1>{title}</h1>
      <p class="byline">By {author}</p>
{chapters}
    </article>
    <aside class="related"><h3>Related reading</h3><ul><li><a href="/a">Ahab's leg, a
      history</a></li><li><a href="/b">Ten knots</a></li></ul></aside>
  </main>
  <footer><p>Copyright 2024 The Whaling Review. All rights reserved.</p>
    <nav><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></nav></footer>
  <script src="/assets/analytics.js"></script>
  <noscript><img src="/pixel.gif" alt=""></noscript>
</body>
</html>
"""


def article_html() -> str:
    sections = []
    for chapter in chapters_of("article.html"):
        paragraphs = "\n".join(f"      <p>{html.escape(p)}</p>" for p in chapter.paragraphs)
        sections.append(
            f"      <section>\n      <h2>{html.escape(chapter.title)}</h2>\n"
            f'      <!-- ad slot --><div class="ad"><script>loadAd()</script></div>\n'
            f"{paragraphs}\n      </section>"
        )
    return ARTICLE.format(
        title=html.escape(f"{BOOK_TITLE}: Nantucket and Chowder"),
        author=BOOK_AUTHOR,
        chapters="\n".join(sections),
    )


def fb2_book() -> str:
    sections = []
    for chapter in chapters_of("book.fb2"):
        paragraphs = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in chapter.paragraphs)
        sections.append(f"<section><title><p>{html.escape(chapter.title)}</p></title>{paragraphs}")
        sections.append("</section>")
    first, last = BOOK_AUTHOR.split()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0" '
        'xmlns:l="http://www.w3.org/1999/xlink">'
        "<description><title-info><genre>adventure</genre>"
        f"<author><first-name>{first}</first-name><last-name>{last}</last-name></author>"
        f"<book-title>{html.escape(BOOK_TITLE)}</book-title><lang>en</lang></title-info>"
        "</description>"
        f"<body><title><p>{html.escape(BOOK_TITLE)}</p></title>{''.join(sections)}</body>"
        '<body name="notes"><section id="n1"><p>A note the reader leaves out.</p></section></body>'
        '<binary id="cover.png" content-type="image/png">'
        f"{base64.b64encode(tiny_png()).decode()}</binary>"
        "</FictionBook>\n"
    )


# --- A scan ------------------------------------------------------------------------------------


def scan_pdf(work: Path) -> None:
    text_page = work / "scan-text.html"
    text_page.write_text(
        '<!doctype html><html><body style="margin:40px;background:#fff">'
        "<p style=\"font:28px/1.5 'Liberation Serif',serif;width:900px\">"
        f"{html.escape(SCAN_TEXT)}</p></body></html>",
        encoding="utf-8",
    )
    shot = work / "scan.png"
    run(
        [*CHROMIUM, f"--user-data-dir={work / 'profile'}", "--window-size=1000,300",
         f"--screenshot={shot}", text_page.as_uri()],
        work,
    )  # fmt: skip
    image_page = work / "scan-image.html"
    image = base64.b64encode(shot.read_bytes()).decode()
    image_page.write_text(
        '<!doctype html><html><body style="margin:0">'
        f'<img style="width:100%" src="data:image/png;base64,{image}"></body></html>',
        encoding="utf-8",
    )
    run(
        [*CHROMIUM, f"--user-data-dir={work / 'profile'}", "--no-pdf-header-footer",
         f"--print-to-pdf={BOOKS / 'scan.pdf'}", image_page.as_uri()],
        work,
    )  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        chromium_pdf("chromium.pdf", work, outline=True)
        chromium_pdf("chromium-headings.pdf", work, outline=False)
        libreoffice_pdf(work)
        encrypted_pdf(work)
        libreoffice_docx(work)
        scan_pdf(work)
    (BOOKS / "python-docx.docx").write_bytes(
        docx_book(chapters_of("python-docx.docx"), for_print=False)
    )
    (BOOKS / "article.html").write_text(article_html(), encoding="utf-8")
    (BOOKS / "book.fb2").write_text(fb2_book(), encoding="utf-8")
    for path in sorted(BOOKS.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
