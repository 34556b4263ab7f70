"""PDF, DOCX, HTML and FB2 uploads made to cost the API, or broken: each gets a 4xx that says
what is wrong, never a 500, and is read no further than its limits. Through the in-process app
with small limits."""

import io
import time
import zipfile

import pytest

from core.text import docx_book, pdf
from tests.epub_factory import UnpackedBytes
from tests.support.book_text import BOOKS
from tests.support.fast import FastApi, api_for, detail_text, fast_settings, without_shell_settings
from tests.support.pdf_builder import pdf_file, text_page

MAX_TEXT_CHARS = 50_000
SENTENCE = "Boats rocked against the quay while the gulls argued over scraps."
JOB_LIMIT = (
    "the text passes 50,000 characters, one job's limit (KQ_MAX_TEXT_CHARS, or the API key's "
    "own): split the book into several jobs"
)


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> FastApi:
    with without_shell_settings():
        settings = fast_settings(
            tmp_path_factory.mktemp("api"),
            max_text_chars=MAX_TEXT_CHARS,
            max_request_bytes=2_000_000,
            pdf_ocr=False,
        )
        return api_for(settings)


def post(api: FastApi, name: str, data: bytes, path: str = "/v1/jobs"):
    return api.http.post(path, files={"file": (name, data, "application/octet-stream")})


def docx_of(document: bytes, **extra: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", document)
        for name, data in extra.items():
            archive.writestr(name, data)
    return out.getvalue()


W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


# --- PDF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"Call me Ishmael.", "'fake.pdf': not a PDF: the file does not start with %PDF-"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 100, "'fake.pdf': the PDF cannot be read"),
        ((BOOKS / "chromium.pdf").read_bytes()[:5000], "'fake.pdf': "),
        ((BOOKS / "encrypted.pdf").read_bytes(), "'fake.pdf': the PDF is encrypted with a pass"),
    ],
)
def test_a_broken_or_encrypted_pdf_is_422_saying_why(api, unchanged, data, reason):
    answer = post(api, "fake.pdf", data)
    assert answer.status_code == 422, answer.text
    assert detail_text(answer).startswith(reason)


def test_a_pdf_of_too_many_pages_is_refused_before_they_are_read(api, unchanged, monkeypatch):
    read = []
    monkeypatch.setattr(pdf, "page_lines", lambda n, layout: read.append(n) or [])
    started = time.monotonic()
    answer = post(api, "long.pdf", pdf_file([text_page(["p"])] * (pdf.MAX_PDF_PAGES + 1)))
    assert answer.status_code == 422, answer.text
    assert detail_text(answer) == (
        "'long.pdf': the PDF has more than 3,000 pages, the most a book may have: split it "
        "into several books"
    )
    assert read == []
    assert time.monotonic() - started < 20


def test_a_pdf_past_the_text_limit_is_413_before_it_is_read_whole(api, unchanged, monkeypatch):
    pages_read = []
    page_lines = pdf.page_lines
    monkeypatch.setattr(
        pdf, "page_lines", lambda n, layout: pages_read.append(n) or page_lines(n, layout)
    )
    page = text_page([SENTENCE] * 50)  # 3,300 characters a page
    answer = post(api, "long.pdf", pdf_file([page] * 100, flate=True))
    assert answer.status_code == 413, answer.text
    assert detail_text(answer) == f"'long.pdf': {JOB_LIMIT}"
    assert len(pages_read) < 25  # of 100: the limit and its quarter for running lines


def test_a_pdf_stream_that_unpacks_past_its_allowance_is_413(api, unchanged, monkeypatch):
    monkeypatch.setattr(pdf, "PDF_DECODED_BYTES_FLOOR", 4_000_000)
    # 200 MB of spaces in 200 kB: pdfminer alone would unpack it whole
    bomb = text_page([SENTENCE]) + b" " * 200_000_000
    started = time.monotonic()
    answer = post(api, "bomb.pdf", pdf_file([bomb], flate=True))
    assert answer.status_code == 413, answer.text
    assert detail_text(answer) == (
        "'bomb.pdf': the PDF's pages unpack to more than 4,000,000 bytes, 32 for each character "
        "of one job's limit (KQ_MAX_TEXT_CHARS, or the API key's own): split the book into "
        "several jobs"
    )
    assert time.monotonic() - started < 10


def test_an_outline_that_goes_round_in_a_circle_is_read_once(api):
    outline = [
        b"<< /Title (One) /Parent {root} 0 R /Dest [{page} 0 R /XYZ 0 800 0] /Next {first} 0 R "
        b"/First {first} 0 R /Last {first} 0 R >>"
    ]
    pages = [text_page([SENTENCE] * 3), text_page(["The harbour slept that night."] * 3)]
    answer = post(api, "circle.pdf", pdf_file(pages, outline=outline))
    assert answer.status_code == 202, answer.text
    chapters = api.http.get(f"/v1/jobs/{answer.json()['id']}/source").json()["chapters"]
    assert [c["title"] for c in chapters] == ["One"]


def test_a_pdf_without_text_is_422_without_ocr(api, unchanged):
    answer = post(api, "blank.pdf", pdf_file([b""] * 3))
    assert answer.status_code == 422, answer.text
    assert "the PDF has no text layer (a scan?)" in detail_text(answer)


# --- DOCX ---------------------------------------------------------------------------------------


def test_a_docx_zip_bomb_is_refused_on_its_declared_size(api, unchanged, monkeypatch):
    monkeypatch.setattr(docx_book, "MAX_DOCX_UNPACKED_BYTES", 1_000_000)
    unpacked = UnpackedBytes(monkeypatch)
    bomb = docx_of(b"<w:document " + W + b"/>", **{"word/media/big.bin": b"\x00" * 5_000_000})
    declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bomb)).infolist())
    answer = post(api, "bomb.docx", bomb)
    assert answer.status_code == 422, answer.text
    assert detail_text(answer) == (
        f"'bomb.docx': the DOCX unpacks to {declared:,} bytes; the limit is 1,000,000"
    )
    assert unpacked.total == 0


def test_a_docx_past_the_text_limit_is_413_before_it_is_read_whole(api, unchanged, monkeypatch):
    unpacked = UnpackedBytes(monkeypatch)
    paragraph = b"<w:p><w:r><w:t>" + SENTENCE.encode() + b"</w:t></w:r></w:p>"
    document = b"<w:document " + W + b"><w:body>" + paragraph * 100_000 + b"</w:body></w:document>"
    answer = post(api, "long.docx", docx_of(document))
    assert answer.status_code == 413, answer.text
    assert detail_text(answer) == f"'long.docx': {JOB_LIMIT}"
    assert unpacked.total < 500_000  # of 9 MB


def test_docx_markup_past_its_allowance_is_413(api, unchanged, monkeypatch):
    monkeypatch.setattr(docx_book, "DOCX_MARKUP_FLOOR_BYTES", 0)
    empty_runs = b"<w:r><w:rPr><w:b/></w:rPr></w:r>" * 200_000  # 6.6 MB of no text
    document = (
        b"<w:document " + W + b"><w:body><w:p>" + empty_runs + b"</w:p></w:body></w:document>"
    )
    answer = post(api, "runs.docx", docx_of(document))
    assert answer.status_code == 413, answer.text
    assert detail_text(answer).startswith(
        "'runs.docx': the DOCX's text passes 2,000,000 bytes of markup, 40 for each character "
        "of one job's limit"
    )


def test_docx_entities_are_not_expanded(api, unchanged):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        b'<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<w:document " + W + b"><w:body><w:p><w:r><w:t>&c;&x;</w:t></w:r></w:p></w:body>"
        b"</w:document>"
    )
    answer = post(api, "laughs.docx", docx_of(laughs))
    assert answer.status_code == 422, answer.text
    assert detail_text(answer) == (
        "'laughs.docx': the DOCX has a DOCTYPE, which no DOCX has: it cannot be read"
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"plain text", "'x.docx': not a DOCX: the file is not a zip archive it can read"),
        (docx_of(b"<w:document"), "'x.docx' has nothing speakable"),
    ],
)
def test_a_broken_docx_is_422(api, unchanged, data, reason):
    answer = post(api, "x.docx", data)
    assert answer.status_code == 422, answer.text
    assert detail_text(answer).startswith(reason)


# --- HTML and FB2 -------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["div", "aside", "b"])
def test_deeply_nested_html_is_answered_quickly(api, tag):
    page = f"<{tag}>" * 200_000 + SENTENCE + f"</{tag}>" * 200_000  # 2 MB
    started = time.monotonic()
    answer = post(api, "deep.html", page.encode()[:1_900_000])
    assert answer.status_code in (202, 422), answer.text
    assert time.monotonic() - started < 20


def test_html_past_the_text_limit_is_413(api, unchanged):
    page = ("<p>" + SENTENCE + "</p>") * 20_000
    answer = post(api, "long.html", page.encode())
    assert answer.status_code == 413, answer.text
    assert detail_text(answer) == f"'long.html': {JOB_LIMIT}"


def test_fb2_entities_are_not_expanded_and_a_broken_one_is_422(api, unchanged):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><FictionBook><body><section>'
        b"<p>&b;&b;&b;</p></section></body></FictionBook>"
    )
    answer = post(api, "laughs.fb2", laughs)
    assert answer.status_code == 422, answer.text
    assert detail_text(answer) == (
        "'laughs.fb2': the book has a DOCTYPE, which no FictionBook has: it cannot be read"
    )
    answer = post(api, "broken.fb2", b"\x00\x01 not xml")
    assert answer.status_code == 422, answer.text
    assert detail_text(answer).startswith("'broken.fb2': not a FictionBook")
