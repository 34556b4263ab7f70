"""Finished books where people listen, on the real stack: each is uploaded once to an
Audiobookshelf stand-in (a real HTTP server on loopback with Audiobookshelf's upload API) with
its details, audio and cover, retried through a server's 500s; and listed in a podcast feed
that parses cleanly, whose enclosures are the files themselves, whose chapters are valid, and
which closes when its token is revoked."""

import base64
import struct
import zlib
from collections.abc import Iterator

import feedparser
import httpx
import pytest

from tests.support.audiobookshelf import Audiobookshelf
from tests.support.published import assert_valid_chapters
from tests.support.stack import running_stack, wait_for

# What is delivered and listed does not depend on the database
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TOKEN = "abs-integration-token-0123456789abcdef"
# A key of its own: the session's database is shared with other stacks, whose finished books
# (the keyless owner's) this stack's storage does not hold
API_KEY = "kq-delivery-test-key-0123456789"
CHAPTERS = [
    {"title": "The Harbour", "text": "Boats rocked against the quay while the gulls argued."},
    {"title": "The Market", "text": "By noon the square was full of farmers and their carts."},
]


def png(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


COVER = png()


@pytest.fixture(scope="module")
def shelf() -> Iterator[Audiobookshelf]:
    running = Audiobookshelf(token=TOKEN).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def flaky_shelf() -> Iterator[Audiobookshelf]:
    running = Audiobookshelf(token=TOKEN, fail_next=2).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shelf_stack(tmp_path_factory, redis_url, database_url):
    # The stand-ins listen on loopback, which only the operator's say-so allows
    with running_stack(
        tmp_path_factory.mktemp("deliveries"),
        redis_url,
        database_url,
        KQ_DELIVER_ALLOW_PRIVATE="true",
        KQ_API_KEYS=f"deliveries={API_KEY}",
    ) as running:
        yield running


def delivered(http, job_id: str) -> dict:
    """The job once its delivery has ended (delivered or failed)."""
    return wait_for(
        lambda: (
            (job := http.get(f"/v1/jobs/{job_id}").json())["deliveries"]
            and job["deliveries"][0]["status"] != "pending"
            and job
        ),
        120,
        f"the delivery of job {job_id}",
    )


def test_each_finished_book_is_uploaded_once_with_its_details_and_files(shelf_stack, shelf):
    with shelf_stack.client(api_key=API_KEY) as http:
        books = [
            {
                "chapters": CHAPTERS,
                "title": "Harbour Tales",
                "author": "A. Writer",
                "series": "Coast Stories",
                "series_index": 2,
                "format": "mp3",
                "cover": "data:image/png;base64," + base64.b64encode(COVER).decode(),
                "deliver": {"audiobookshelf": shelf.settings()},
            },
            {
                "text": "A short note, read aloud and put on the shelf.",
                "title": "A Note",
                "deliver": {"audiobookshelf": shelf.settings()},
            },
        ]
        created = []
        for body in books:
            answer = http.post("/v1/jobs", json=body)
            assert answer.status_code == 202, answer.text
            assert TOKEN not in answer.text
            created.append(answer.json()["id"])
        jobs = [shelf_stack.wait_for_job(job_id, api_key=API_KEY) for job_id in created]
        assert [job["status"] for job in jobs] == ["succeeded", "succeeded"], jobs
        ended = [delivered(http, job_id) for job_id in created]
        audio = [http.get(f"/v1/jobs/{job_id}/audio").content for job_id in created]

    for job in ended:
        (delivery,) = job["deliveries"]
        assert delivery["status"] == "delivered", delivery
        assert delivery["attempts"] == 1 and delivery["last_error"] is None
        assert job["status"] == "succeeded"
        assert TOKEN not in str(job)
    uploads = {upload.fields["title"]: upload for upload in shelf.uploads}
    assert sorted(uploads) == ["A Note", "Harbour Tales"] and len(shelf.uploads) == 2

    tales = uploads["Harbour Tales"]
    assert tales.fields == {
        "title": "Harbour Tales",
        "author": "A. Writer",
        "series": "Coast Stories",
        "library": shelf.library,
        "folder": shelf.folder,
    }
    sound, cover = tales.files
    assert (sound.filename, sound.content_type) == ("Harbour Tales.mp3", "audio/mpeg")
    assert sound.data == audio[0]  # the finished file, byte for byte
    assert (cover.filename, cover.content_type, cover.data) == ("cover.png", "image/png", COVER)

    note = uploads["A Note"]
    assert note.fields == {"title": "A Note", "library": shelf.library, "folder": shelf.folder}
    (sound,) = note.files  # no cover: the audio alone
    assert (sound.filename, sound.data) == ("A Note.wav", audio[1])


def test_a_server_that_answers_500_twice_gets_the_book_on_the_third_attempt(
    shelf_stack, flaky_shelf
):
    with shelf_stack.client(api_key=API_KEY) as http:
        body = {
            "text": "Third time lucky, said the shelf.",
            "title": "Third Time",
            "deliver": {"audiobookshelf": flaky_shelf.settings()},
        }
        answer = http.post("/v1/jobs", json=body)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        assert shelf_stack.wait_for_job(job_id, api_key=API_KEY)["status"] == "succeeded"
        job = delivered(http, job_id)

    (delivery,) = job["deliveries"]
    assert delivery["status"] == "delivered", delivery
    assert delivery["attempts"] == 3 and delivery["last_error"] is None
    assert flaky_shelf.answers == [500, 500, 200]
    (upload,) = flaky_shelf.uploads
    assert upload.fields["title"] == "Third Time"
    assert job["status"] == "succeeded"


def test_the_feed_of_finished_books_parses_links_to_the_files_and_closes_when_revoked(
    shelf_stack,
):
    with shelf_stack.client(api_key=API_KEY) as http:
        body = {"chapters": CHAPTERS, "title": "Feed Tales", "format": "m4b"}
        answer = http.post("/v1/jobs", json=body)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        assert shelf_stack.wait_for_job(job_id, api_key=API_KEY)["status"] == "succeeded"

        created = http.post("/v1/feeds")
        assert created.status_code == 201, created.text
        feed_url = created.json()["url"]
        # A podcast app sends no key: the token in the URLs is all it has
        app = httpx.Client(timeout=30)
        answer = app.get(feed_url)
        assert answer.status_code == 200
        feed = feedparser.parse(answer.content, response_headers=dict(answer.headers))
        assert not feed.bozo, feed.get("bozo_exception")
        entries = {entry.id: entry for entry in feed.entries}
        assert job_id in entries

        finished = {
            job["id"]: job
            for job in http.get("/v1/jobs", params={"status": "succeeded", "limit": 200}).json()[
                "jobs"
            ]
        }
        assert set(entries) == set(finished)  # every finished book, nothing else
        for entry_id, entry in entries.items():
            (enclosure,) = entry.enclosures
            file = app.get(enclosure.href)
            assert file.status_code == 200, enclosure.href
            assert int(enclosure.length) == len(file.content), entry.title
            assert file.content == http.get(f"/v1/jobs/{entry_id}/audio").content

        book = entries[job_id]
        assert book.enclosures[0].type == "audio/mp4"
        chapters = app.get(book.podcast_chapters["url"])
        assert chapters.status_code == 200
        document = chapters.json()
        assert_valid_chapters(document)
        marks = http.get(f"/v1/jobs/{job_id}/chapters").json()
        assert [c["title"] for c in document["chapters"]] == [c["title"] for c in marks]
        assert [c["startTime"] for c in document["chapters"]] == [
            round(c["start_seconds"], 3) for c in marks
        ]

        revoked = http.delete(f"/v1/feeds/{created.json()['id']}")
        assert revoked.status_code == 204
        assert app.get(feed_url).status_code == 404
        assert app.get(book.enclosures[0].href).status_code == 404
        app.close()
