"""Uploads and JSON bodies read in the API's reading processes (KQ_API_READER_PROCESSES): the
same answers as when they are read in threads, the refusals carried back as 4xx, a batch's
shared budget spent across books, and a reading process that dies answered with a 503 and
replaced. The in-process app (its start-up run, so the processes are real) on a SQLite file,
with a broker stand-in."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.epub_factory import raw_epub, xhtml
from tests.support.fast import FastApi, api_for, detail_text, fast_settings, without_shell_settings

MAX_TEXT_CHARS = 50_000
ROOT = Path(__file__).resolve().parents[2]
SENTENCE = "The ferry left at dawn with the mail and three sleepy passengers. "


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with without_shell_settings():
        settings = fast_settings(
            tmp_path_factory.mktemp("readers"),
            max_text_chars=MAX_TEXT_CHARS,
            api_reader_processes=1,
        )
        api = api_for(settings)
    with api.http:  # the app's start-up: its reading process starts
        yield api


def _reading_processes() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children()
        if "spawn_main" in " ".join(child.cmdline())  # not its resource tracker
    ]


def test_an_uploaded_book_is_read_in_a_process_of_its_own(api: FastApi):
    book = f"# The Crossing\n\n{SENTENCE * 3}\n\n# The Island\n\n{SENTENCE * 2}\n".encode()
    response = api.http.post(
        "/v1/jobs", files={"file": ("ferry.md", book)}, data={"title": "Ferry"}
    )
    assert response.status_code == 202, response.text
    job = api.http.get(f"/v1/jobs/{response.json()['id']}").json()
    assert job["chapters"] == ["The Crossing", "The Island"]
    assert job["title"] == "Ferry"
    assert _reading_processes(), "no reading process runs beside the API"


def test_a_refusal_in_the_reading_process_is_the_clients_4xx(api: FastApi):
    response = api.http.post("/v1/jobs", files={"file": ("blank.md", b"# \n\n[]()\n")})
    assert response.status_code == 422
    assert "'blank.md' has nothing speakable" in detail_text(response)
    response = api.http.post("/v1/jobs", files={"file": ("bad.txt", b"\xff\xfe\x00text")})
    assert response.status_code == 422
    assert "not UTF-8" in detail_text(response)


def test_an_invalid_json_body_is_a_422_with_its_field(api: FastApi):
    response = api.http.post("/v1/jobs", json={"text": SENTENCE, "speed": 9})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "speed"
    response = api.http.post(
        "/v1/jobs", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


def test_a_batch_spends_one_budget_across_its_books(api: FastApi):
    # Each EPUB is within one job's limit; the two together pass the batch's
    text = SENTENCE * (MAX_TEXT_CHARS * 6 // 10 // len(SENTENCE))
    books = [("file", (f"{n}.epub", raw_epub({"c.xhtml": xhtml(f"<p>{text}</p>")}))) for n in "ab"]
    before = api.stored()
    response = api.http.post("/v1/batches", files=books)
    assert response.status_code == 413, response.text
    assert "one batch together" in detail_text(response)
    assert api.stored() == before
    response = api.http.post("/v1/batches", files=books[:1])
    assert response.status_code == 202, response.text


def test_a_reading_process_that_dies_is_a_503_and_is_replaced(api: FastApi):
    book = ("ferry.txt", SENTENCE.encode())
    for process in _reading_processes():
        os.kill(process.pid, signal.SIGKILL)
    time.sleep(0.5)  # the pool sees its process gone
    before = api.stored()
    response = api.http.post("/v1/jobs", files={"file": book})
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert "send it again" in detail_text(response)
    assert api.stored() == before
    response = api.http.post("/v1/jobs", files={"file": book})
    assert response.status_code == 202, response.text


API_KILLED = """
import asyncio, os, sys
sys.path.insert(0, {root!r})
import psutil
from api.reader_processes import ReaderProcesses
readers = ReaderProcesses(1)
asyncio.run(readers.read(len, "warm"))
print(" ".join(str(c.pid) for c in psutil.Process().children(recursive=True)), flush=True)
os._exit(0)  # as a killed API: its pool never stopped
"""


def test_reading_processes_end_when_the_api_process_is_killed():
    ran = subprocess.run(
        [sys.executable, "-c", API_KILLED.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    orphans = [int(pid) for pid in ran.stdout.split()]
    assert orphans, ran.stderr
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(psutil.pid_exists(pid) for pid in orphans):
        time.sleep(0.2)
    assert not [pid for pid in orphans if psutil.pid_exists(pid)]
