"""Every bad input the README lists gets its documented 4xx, a `detail` that says why, and
changes nothing: no job, chunk or batch row, no audio file, no task sent. Through the
in-process app (TestClient) on a SQLite file, with a broker stand-in that records what it would
be sent: no Redis, worker or model is needed."""

import asyncio
import io
import json
import math
import zipfile
from pathlib import Path

import pytest

from core.text.epub import MAX_EPUB_UNPACKED_BYTES
from infra.model_files import list_voices
from storage.job_end import ending_jobs, job_end_effects
from tests.epub_factory import build_epub
from tests.support.fast import FastApi, api_for, detail_text, fast_settings, without_shell_settings

GOOD = {"text": "A perfectly good sentence."}
MISSING = "0" * 32
MAX_REQUEST_BYTES = 200_000
MAX_TEXT_CHARS = 50_000


def make_api(data_dir: Path, **fields) -> FastApi:
    fields.setdefault("max_request_bytes", MAX_REQUEST_BYTES)
    return api_for(
        fast_settings(data_dir, max_text_chars=MAX_TEXT_CHARS, **fields), ("127.0.0.1", 50000)
    )


@pytest.fixture(scope="module", autouse=True)
def no_shell_settings():
    with without_shell_settings():
        yield


@pytest.fixture(scope="module")
def api(no_shell_settings, tmp_path_factory) -> FastApi:
    return make_api(tmp_path_factory.mktemp("api"))


def voices_of(api: FastApi) -> tuple[str, ...]:
    return list_voices(api.settings)


BAD_BODIES = {
    "empty text": ({"text": ""}, 422, "text is empty"),
    "whitespace text": ({"text": "  \n\t  \n"}, 422, "text is empty"),
    "nothing speakable": ({"text": "!!! ... --- ?!"}, 422, "nothing speakable"),
    "neither text nor chapters": ({"voice": "jf_alpha"}, 422, "either `text` or `chapters`"),
    "text and chapters": (
        {**GOOD, "chapters": [{"text": "More."}]},
        422,
        "either `text` or `chapters`",
    ),
    "no chapters": ({"chapters": []}, 422, '"chapters"'),
    "empty chapter text": ({"chapters": [{"title": "One", "text": " "}]}, 422, "text is empty"),
    "speed too low": ({**GOOD, "speed": 0.49}, 422, "greater than or equal to 0.5"),
    "speed too high": ({**GOOD, "speed": 2.01}, 422, "less than or equal to 2"),
    "speed not a number": ({**GOOD, "speed": "fast"}, 422, '"speed"'),
    "unknown format": ({**GOOD, "format": "aiff"}, 422, "'mp3'"),
    "unknown language": ({**GOOD, "lang": "xx-yy"}, 422, "should be 'en-us', 'en-gb', "),
    "priority out of range": ({**GOOD, "priority": 10}, 422, "less than or equal to 9"),
    "unknown field": ({**GOOD, "colour": "blue"}, 422, '"colour"'),
    "text not a string": ({"text": 12}, 422, "valid string"),
    "body not an object": (["text"], 422, "Input should be an object"),
    "control character in title": ({**GOOD, "title": "a\u0000b"}, 422, "control characters"),
    "title too long": ({**GOOD, "title": "t" * 501}, 422, "at most 500 characters"),
    "callback not a URL": ({**GOOD, "callback_url": "ftp://x.example"}, 422, "URL scheme"),
    # This server has no KQ_WEBHOOK_SECRET, so it would have to send the webhook unsigned
    "callback without a secret": (
        {**GOOD, "callback_url": "https://hooks.example.com/kq"},
        422,
        "KQ_WEBHOOK_SECRET",
    ),
    "unknown queue": ({**GOOD, "queue": "someone-elses"}, 422, "unknown queue 'someone-elses'"),
    "text over the character limit": (
        {"text": "word " * (MAX_TEXT_CHARS // 5 + 1)},
        413,
        f"the limit is {MAX_TEXT_CHARS}",
    ),
}


@pytest.mark.parametrize("name", BAD_BODIES)
def test_bad_job_body_is_rejected_and_stores_nothing(api, unchanged, name):
    body, code, reason = BAD_BODIES[name]
    response = api.http.post("/v1/jobs", json=body)
    assert response.status_code == code, response.text
    assert reason in detail_text(response)


@pytest.mark.parametrize("voice", ["af_nobody", "jf_alpha:0.7,af_nobody:0.3"])
def test_unknown_voice_is_422_listing_the_voices(api, unchanged, voice):
    response = api.http.post("/v1/jobs", json={**GOOD, "voice": voice})
    assert response.status_code == 422
    detail = detail_text(response)
    assert "unknown voice 'af_nobody'" in detail
    assert all(name in detail for name in voices_of(api)), detail


@pytest.mark.parametrize(
    ("voice", "reason"),
    [
        ("jf_alpha:0", "positive"),
        ("jf_alpha:heavy", "positive"),
        ("jf_alpha:1,jf_alpha:1", "twice"),
    ],
)
def test_invalid_blend_is_422_saying_what_to_fix(api, unchanged, voice, reason):
    response = api.http.post("/v1/jobs", json={**GOOD, "voice": voice})
    assert response.status_code == 422
    assert reason in detail_text(response)


@pytest.mark.parametrize(
    "body", [b'{"text": "unclosed', b"\xff\xfe\x00", b"", b"{'text': 'single quotes'}"]
)
def test_malformed_json_is_400(api, unchanged, body):
    response = api.http.post("/v1/jobs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert "Invalid JSON" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/batches"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_another_content_type_is_415(api, unchanged, path, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = api.http.post(path, content=b"just text", headers=headers)
    assert response.status_code == 415, response.text
    assert "send JSON" in detail_text(response)


async def post_raw(app, headers: list[tuple[bytes, bytes]], parts: list[bytes]):
    """POST /v1/jobs straight through the ASGI app; which body parts it read, and what it sent."""
    read, sent, pending = [], [], list(parts)

    async def receive():
        if not pending:
            return {"type": "http.disconnect"}
        part = pending.pop(0)
        read.append(part)
        return {"type": "http.request", "body": part, "more_body": bool(pending)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v1/jobs", "raw_path": b"/v1/jobs", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("test", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return read, start["status"], json.loads(body)


def test_a_body_declared_over_the_limit_is_413_without_reading_it(api, unchanged):
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(MAX_REQUEST_BYTES + 1).encode()),
    ]
    read, code, body = asyncio.run(post_raw(api.http.app, headers, [b"x" * 1000] * 201))
    assert code == 413
    assert f"limit of {MAX_REQUEST_BYTES} bytes" in body["detail"]
    assert read == []  # answered on the headers alone


def test_a_streamed_body_is_413_once_it_passes_the_limit(api, unchanged):
    part = 10_000
    parts = [b'{"text": "', *[b"a" * part] * 40, b'"}']  # twice the limit, no Content-Length
    read, code, body = asyncio.run(
        post_raw(api.http.app, [(b"content-type", b"application/json")], parts)
    )
    assert code == 413
    assert f"limit of {MAX_REQUEST_BYTES} bytes" in body["detail"]
    # Refused at the part that passed the limit; the rest was never read
    assert len(read) == math.ceil(MAX_REQUEST_BYTES / part) + 1 < len(parts)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/jobs/{MISSING}"),
        ("GET", f"/v1/jobs/{MISSING}/audio"),
        ("GET", f"/v1/jobs/{MISSING}/chapters"),
        ("GET", f"/v1/jobs/{MISSING}/chapters/0/audio"),
        ("GET", f"/v1/jobs/{MISSING}/subtitles"),
        ("GET", f"/v1/jobs/{MISSING}/events"),
        ("GET", f"/v1/jobs/{MISSING}/stream"),
        ("POST", f"/v1/jobs/{MISSING}/cancel"),
        ("DELETE", f"/v1/jobs/{MISSING}"),
    ],
)
def test_unknown_job_is_404(api, unchanged, method, path):
    response = api.http.request(method, path)
    assert response.status_code == 404
    assert f"job {MISSING} not found" in detail_text(response)


@pytest.mark.parametrize(
    ("query", "code", "reason"),
    [
        ("limit=0", 422, "greater than or equal to 1"),
        ("limit=201", 422, "less than or equal to 200"),
        ("limit=ten", 422, "valid integer"),
        ("status=sleeping", 422, "'queued', 'running', 'succeeded', 'failed' or 'cancelled'"),
        ("cursor=not-a-cursor", 400, "invalid cursor"),
        ("cursor=MjAyNnwA", 400, "invalid cursor"),  # base64 of a cut-off cursor
    ],
)
def test_bad_list_query_is_rejected(api, unchanged, query, code, reason):
    response = api.http.get(f"/v1/jobs?{query}")
    assert response.status_code == code, response.text
    assert reason in detail_text(response)


def test_an_unfinished_job_has_no_audio_chapters_or_subtitles_yet(api):
    job = api.http.post("/v1/jobs", json={"text": "This job stays queued: no worker runs."})
    assert job.status_code == 202, job.text
    job_id = job.json()["id"]
    before = api.stored()
    for view in ("audio", "chapters", "subtitles"):
        response = api.http.get(f"/v1/jobs/{job_id}/{view}")
        assert response.status_code == 409, view
        assert f"job {job_id} is queued" in detail_text(response)
        assert "once it has succeeded" in detail_text(response)
    assert api.stored() == before


def test_cancelling_a_job_that_failed_is_409(api):
    job_id = api.http.post("/v1/jobs", json=GOOD).json()["id"]
    effects = job_end_effects(api.celery, api.http.app.state.store)
    with ending_jobs(api.settings.sqlalchemy_url, effects) as ends:
        assert ends.fail(job_id, "chunk 0 failed: boom")
    response = api.http.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 409
    assert f"job {job_id} already failed; nothing to cancel" == detail_text(response)
    assert api.http.get(f"/v1/jobs/{job_id}").json()["status"] == "failed"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("subtitles?format=ass", "'srt' or 'vtt'"),
        ("stream?format=m4a", "'wav'"),
        ("chapters/x/audio", "valid integer"),
    ],
)
def test_bad_view_parameters_are_422(api, path, reason):
    job_id = api.http.post("/v1/jobs", json=GOOD).json()["id"]
    response = api.http.get(f"/v1/jobs/{job_id}/{path}")
    assert response.status_code == 422
    assert reason in detail_text(response)


def test_a_bad_last_event_id_is_400(api):
    job_id = api.http.post("/v1/jobs", json=GOOD).json()["id"]
    response = api.http.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "x1"})
    assert response.status_code == 400
    assert "Last-Event-ID must be the id of an event" in detail_text(response)


def test_an_idempotency_key_reused_with_another_body_is_409_and_stores_nothing(api):
    key = {"Idempotency-Key": "order-409"}
    first = api.http.post("/v1/jobs", json={"text": "The first body."}, headers=key)
    assert first.status_code == 202
    before = api.stored()
    other = api.http.post("/v1/jobs", json={"text": "Another body."}, headers=key)
    assert other.status_code == 409
    assert "Idempotency-Key was already used with a different request body" in detail_text(other)
    assert api.stored() == before


def test_an_idempotency_key_over_200_characters_is_422(api, unchanged):
    response = api.http.post("/v1/jobs", json=GOOD, headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 422
    assert "idempotency-key" in detail_text(response)
    assert "at most 200 characters" in detail_text(response)


BAD_FILES = {
    "unsupported type": (
        ("book.odt", b"PK\x03\x04", "application/vnd.oasis.opendocument.text"),
        415,
        "cannot read 'book.odt': send a .txt, .md, .epub, .pdf, .docx, .html or .fb2 file",
    ),
    "binary junk": (("book.txt", bytes(range(256)) * 4, "text/plain"), 422, "not UTF-8"),
    "nul bytes": (("book.txt", b"text\x00\x00more", "text/plain"), 422, "binary, not text"),
    "empty book": (("book.md", b"# Title\n\n   \n", "text/markdown"), 422, "nothing speakable"),
    "empty file": (("book.txt", b"", "text/plain"), 422, "nothing speakable"),
    "not an epub": (("book.epub", b"PK\x03\x04 junk", "application/epub+zip"), 422, "not a"),
}


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/batches"])
@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_book_files_are_rejected_and_store_nothing(api, unchanged, name, path):
    upload, code, reason = BAD_FILES[name]
    response = api.http.post(path, files={"file": upload})
    assert response.status_code == code, response.text
    assert reason in detail_text(response)


def test_form_without_a_file_or_with_unknown_fields_is_422(api, unchanged):
    hello = ("a.txt", b"Hello.", "text/plain")
    no_file = api.http.post("/v1/jobs", files={"other": hello})
    text_not_file = api.http.post("/v1/jobs", data={"file": "Hello."}, files={"x": hello})
    extra = api.http.post("/v1/jobs", files={"file": hello}, data={"colour": "blue"})
    bad_speed = api.http.post("/v1/jobs", files={"file": hello}, data={"speed": "9"})
    for response in (no_file, text_not_file):
        assert response.status_code == 422
        assert "a multipart job needs a `file`" in detail_text(response)
    assert extra.status_code == 422 and "unknown form fields: colour" in detail_text(extra)
    assert bad_speed.status_code == 422 and "less than or equal to 2" in detail_text(bad_speed)


def zip_bomb_epub() -> bytes:
    """A real EPUB carrying 250 MB of zeros that deflate to about a megabyte (the fastest
    compression level: a smaller bomb takes three times as long to make)."""
    buffer = io.BytesIO(build_epub())
    with (
        zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("OEBPS/padding.bin", "w") as padding,
    ):
        for _ in range(250):
            padding.write(bytes(1 << 20))
    return buffer.getvalue()


def test_an_epub_that_unpacks_beyond_the_limit_is_422(tmp_path):
    bomb = zip_bomb_epub()
    # A body limit the bomb fits in: the refusal must come from its declared unpacked size
    roomy = make_api(tmp_path, max_request_bytes=len(bomb) + 100_000)
    response = roomy.http.post(
        "/v1/jobs", files={"file": ("book.epub", bomb, "application/epub+zip")}
    )
    assert response.status_code == 422, response.text
    assert f"the limit is {MAX_EPUB_UNPACKED_BYTES:,}" in detail_text(response)
    assert roomy.stored() == ((0, 0, 0), [], 0)


BAD_BATCHES = {
    "one bad job": (
        {"jobs": [GOOD, {**GOOD, "voice": "af_nobody"}]},
        "unknown voice 'af_nobody'",
    ),
    "one empty text": ({"jobs": [GOOD, {"text": " "}]}, "text is empty"),
    "no jobs": ({"jobs": []}, "at least 1 item"),
    "too many jobs": ({"jobs": [GOOD] * 101}, "at most 100 items"),
    "not a list": ({"jobs": GOOD}, "valid array"),
    "unknown field": ({"jobs": [GOOD], "colour": "blue"}, '"colour"'),
}


@pytest.mark.parametrize("name", BAD_BATCHES)
def test_a_bad_batch_is_422_and_stores_none_of_its_jobs(api, unchanged, name):
    body, reason = BAD_BATCHES[name]
    response = api.http.post("/v1/batches", json=body)
    assert response.status_code == 422, response.text
    assert reason in detail_text(response)


@pytest.mark.parametrize("batch_id", [MISSING, "%00"])
def test_unknown_batch_is_404(api, unchanged, batch_id):
    response = api.http.get(f"/v1/batches/{batch_id}")
    assert response.status_code == 404
    assert "not found" in detail_text(response) and "batch" in detail_text(response)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"since": "2026-01-01T00:00:00"}, "`since` needs a timezone"),
        ({"until": "2026-01-01T00:00:00"}, "`until` needs a timezone"),
        (
            {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            "`since` must be before `until`",
        ),
        ({"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "before"),
        ({"since": "yesterday"}, "valid datetime"),
    ],
)
def test_stats_rejects_bad_windows(api, params, reason):
    response = api.http.get("/v1/stats", params=params)
    assert response.status_code == 422
    assert reason in detail_text(response)


def test_no_route_answers_500_to_junk(api, unchanged):
    junk_paths = [
        "/v1/jobs/%00",
        "/v1/jobs/%00/audio",
        "/v1/jobs/" + "x" * 5000,
        "/v1/jobs/../../etc/passwd",
        "/v1/batches/" + "x" * 5000,
    ]
    for path in junk_paths:
        response = api.http.get(path)
        assert 400 <= response.status_code < 500, path
    assert api.http.get("/healthz").json()["status"] == "ok"
