"""Book uploads made to cost the API (issue 21): each is read in a worker thread while the event
loop answers other requests, stops at the limit it is read under, and gets a 4xx that names
that limit. Through the in-process app on a SQLite file, with a broker stand-in."""

import asyncio
import threading

import httpx
import pytest

from api import job_request
from core.text.books import split_markdown
from tests.epub_factory import UnpackedBytes, raw_epub, xhtml
from tests.support.fast import (
    LOOPBACK,
    FastApi,
    api_for,
    detail_text,
    fast_settings,
    without_shell_settings,
)

MAX_TEXT_CHARS = 50_000
MAX_REQUEST_BYTES = 200_000
# Each route and its answer to a good body: a preview is answered, a job or batch accepted
ACCEPTED = {"/v1/text/preview": 200, "/v1/jobs": 202, "/v1/batches": 202}
PATHS = list(ACCEPTED)
SENTENCE = "Boats rocked against the quay while the gulls argued over scraps. "


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> FastApi:
    with without_shell_settings():
        settings = fast_settings(
            tmp_path_factory.mktemp("api"),
            max_text_chars=MAX_TEXT_CHARS,
            max_request_bytes=MAX_REQUEST_BYTES,
        )
        api = api_for(settings)
    # Without keys the API answers only requests addressed to a loopback name
    api.http.base_url = "http://localhost"
    return api


def epub_of(text: str) -> bytes:
    return raw_epub({"chapter.xhtml": xhtml(f"<p>{text}</p>")})


class HealthDuringReading:
    """A reader made slow: it waits until /healthz has been answered, in vain when it runs on
    the event loop (which cannot answer /healthz meanwhile)."""

    def __init__(self, read):
        self.read = read
        self.reading = threading.Event()
        self.health_answered = threading.Event()
        self.waits: list[bool] = []

    def __call__(self, *args):
        self.reading.set()
        self.waits.append(self.health_answered.wait(timeout=5))
        return self.read(*args)

    def post(self, app, path: str, **body) -> tuple[httpx.Response, httpx.Response]:
        """(health, answer to ``body`` posted to ``path``), /healthz asked while it is read."""

        async def post_then_ask_health():
            transport = httpx.ASGITransport(app=app, client=LOOPBACK)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
                answer = asyncio.create_task(http.post(path, **body))
                await asyncio.to_thread(self.reading.wait, 5)
                health = await http.get("/healthz")
                self.health_answered.set()
                return health, await answer

        return asyncio.run(post_then_ask_health())


@pytest.mark.parametrize("path", PATHS)
def test_a_book_is_read_off_the_event_loop(api, monkeypatch, path):
    reader = HealthDuringReading(split_markdown)
    monkeypatch.setitem(job_request.TEXT_READERS, ".md", reader)
    book = ("book.md", b"# One\nHello there.", "text/markdown")
    health, answer = reader.post(api.http.app, path, files={"file": book})
    assert health.status_code == 200
    assert answer.status_code == ACCEPTED[path], answer.text
    assert reader.waits == [True]


@pytest.mark.parametrize("path", PATHS)
def test_a_json_body_is_validated_off_the_event_loop(api, monkeypatch, path):
    name = "_validated_batch" if path == "/v1/batches" else "_validated"
    reader = HealthDuringReading(getattr(job_request, name))
    monkeypatch.setattr(job_request, name, reader)
    job = {"text": "Hello there."}
    body = {"jobs": [job]} if path == "/v1/batches" else job
    health, answer = reader.post(api.http.app, path, json=body)
    assert health.status_code == 200
    assert answer.status_code == ACCEPTED[path], answer.text
    assert reader.waits == [True]


@pytest.mark.parametrize("path", PATHS)
def test_a_markdown_heading_of_many_spaces_is_answered(api, unchanged, path):
    # 1,517 bytes that took 3.3 s to read before (cubic in the spaces)
    book = b"# a" + b" " * 1_512 + b"b\n"
    response = api.http.post(path, files={"file": ("book.md", book, "text/markdown")})
    assert response.status_code == 422
    assert "'book.md' has nothing speakable" in detail_text(response)


@pytest.mark.parametrize("path", PATHS)
def test_an_epub_past_the_text_limit_is_413_before_it_is_read_whole(
    api, unchanged, monkeypatch, path
):
    book = epub_of(SENTENCE * 100_000)  # 6.6 million characters in about 10 kB
    unpacked = UnpackedBytes(monkeypatch)
    response = api.http.post(path, files={"file": ("long.epub", book, "application/epub+zip")})
    assert response.status_code == 413, response.text
    assert detail_text(response).startswith(
        "'long.epub': the text passes 50,000 characters, one job's limit (KQ_MAX_TEXT_CHARS, "
        "or the API key's own): split the book into several jobs"
    )
    assert unpacked.total < 300_000  # the chapter is 6.6 MB


def test_an_epub_chapter_of_one_ten_megabyte_text_node_is_read(api, unchanged):
    # It gave no text at all before, and so "nothing speakable"
    book = epub_of("word " * 2_100_000)
    response = api.http.post("/v1/jobs", files={"file": ("one.epub", book, "application/epub+zip")})
    assert response.status_code == 413, response.text
    assert "the text passes 50,000 characters" in detail_text(response)


def books_of(count: int, chars: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    text = ("word " * chars)[: chars - 1]
    return [("file", (f"b{n}.epub", epub_of(text), "application/epub+zip")) for n in range(count)]


def test_the_epubs_of_a_batch_hold_no_more_text_together_than_one_job(api, unchanged):
    # Each book is within one job's limit; together they pass it
    response = api.http.post("/v1/batches", files=books_of(3, 20_000))
    assert response.status_code == 413, response.text
    assert detail_text(response) == (
        "'b2.epub': the text passes 50,000 characters, the limit for the EPUB, PDF and DOCX "
        "files of one batch together (KQ_MAX_TEXT_CHARS, or the API key's own): send them in "
        "smaller batches"
    )


def test_a_batch_of_books_within_the_limit_is_accepted(api):
    text_file = ("file", ("c.txt", b"A text file. " * 3_000, "text/plain"))  # not counted
    response = api.http.post("/v1/batches", files=[*books_of(2, 20_000), text_file])
    assert response.status_code == 202, response.text
    assert len(response.json()["jobs"]) == 3
