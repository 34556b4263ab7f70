"""PDF, DOCX, HTML and FB2 uploads through the in-process app (POST /v1/jobs and /v1/batches):
each becomes a job of its chapters, with the book's own title and author; a scan is a 422 that
says how to have it read. tests/fast/test_hostile_book_formats.py: files made to cost."""

from collections.abc import Iterator

import pytest

from api import book_readers
from tests.support.book_text import BOOK_AUTHOR, BOOKS, chapters_of, word_match
from tests.support.fast import FastApi, api_for, detail_text, fast_settings, without_shell_settings

UPLOADS = {
    "chromium.pdf": "application/pdf",
    "libreoffice.pdf": "application/pdf",
    "python-docx.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "libreoffice.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "article.html": "text/html",
    "book.fb2": "application/x-fictionbook+xml",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[FastApi]:
    with without_shell_settings():
        yield api_for(fast_settings(tmp_path_factory.mktemp("api"), pdf_ocr=False))


def upload(name: str) -> dict:
    return {"file": (name, (BOOKS / name).read_bytes(), UPLOADS.get(name, "application/pdf"))}


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_a_book_file_becomes_a_job_of_its_chapters(api, name):
    answer = api.http.post("/v1/jobs", files=upload(name))
    assert answer.status_code == 202, answer.text
    job = answer.json()
    source = api.http.get(f"/v1/jobs/{job['id']}/source").json()
    sources = chapters_of(name)
    chapters = source["chapters"][-len(sources) :]  # an article's first is its <h1>'s
    assert [c["title"] for c in chapters] == [c.title for c in sources]
    for chapter, expected in zip(chapters, sources, strict=True):
        assert word_match(chapter["text"], f"{expected.title}\n\n{expected.text}") >= 0.99
    assert job["title"].startswith("Moby-Dick; or, The Whale")
    # Chromium's PDF and LibreOffice's DOCX made of a page carry no author
    assert job["author"] == (None if name in ("chromium.pdf", "libreoffice.docx") else BOOK_AUTHOR)


def test_the_forms_title_and_author_come_first(api):
    answer = api.http.post(
        "/v1/jobs", files=upload("libreoffice.pdf"), data={"title": "Nightgown", "author": "H. M."}
    )
    assert answer.status_code == 202, answer.text
    assert (answer.json()["title"], answer.json()["author"]) == ("Nightgown", "H. M.")


def test_a_batch_of_book_files_of_every_kind(api):
    files = [("file", upload(name)["file"]) for name in sorted(UPLOADS)]
    answer = api.http.post("/v1/batches", files=files)
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["jobs"]) == len(UPLOADS)


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/batches", "/v1/text/preview"])
def test_a_scan_without_ocr_is_422_saying_how_to_have_it_read(api, unchanged, path):
    answer = api.http.post(path, files=upload("scan.pdf"))
    assert answer.status_code == 422, answer.text
    detail = detail_text(answer)
    assert detail.startswith("'scan.pdf': the PDF has no text layer (a scan?)")
    assert "apt-get install tesseract-ocr" in detail and "KQ_PDF_OCR" in detail


def test_ocr_is_off_when_its_setting_is_and_on_when_tesseract_is_found(monkeypatch):
    with without_shell_settings():
        off = fast_settings(BOOKS, pdf_ocr=False)
        on = fast_settings(BOOKS)
    assert book_readers.pdf_ocr(off) is None
    monkeypatch.setattr(book_readers, "find_tesseract", lambda: "tesseract")
    assert book_readers.pdf_ocr(on) == "tesseract"
    monkeypatch.setattr(book_readers, "find_tesseract", lambda: None)
    assert book_readers.pdf_ocr(on) is None


def test_an_unknown_kind_of_file_is_415_naming_those_read(api, unchanged):
    answer = api.http.post("/v1/jobs", files={"file": ("book.odt", b"PK\x03\x04", "x/y")})
    assert answer.status_code == 415
    assert detail_text(answer) == (
        "cannot read 'book.odt': send a .txt, .md, .epub, .pdf, .docx, .html or .fb2 file"
    )
