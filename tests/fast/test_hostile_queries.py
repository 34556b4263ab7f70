"""Hostile but well-formed input to the API's queries, headers and speech input: each is a clear
4xx (or a 2xx where it means something), never a 500. Cursors and Last-Event-IDs this API never
gave, stats windows at the ends of the calendar, SSML that declares another encoding than the
UTF-8 text it is, and jobs of too many chapters or pronunciations of too many words. Through the
in-process app (TestClient) on a SQLite file with a broker stand-in: no Redis, worker or model."""

import asyncio
import base64
import json

import pytest

from core.jobs.limits import MAX_JOB_CHAPTERS, MAX_JOB_CHUNKS
from core.speech.lexicon import MAX_PHRASE_WORDS
from storage.db import session_factory
from storage.job_end import ending_jobs, job_end_effects
from storage.models import Job
from tests.support.fast import (
    LOOPBACK,
    FastApi,
    detail_text,
)

MISSING = "0" * 32


def cursor_of(raw: str) -> str:
    """A cursor as the API encodes one: base64 of "created_at|job id"."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# --- list cursors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "created",
    [
        "2026-01-01T00:00:00",  # naive: a time the database cannot compare
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    ],
)
def test_a_cursor_this_api_never_gave_is_400(api, unchanged, created):
    cursor = cursor_of(f"{created}|{MISSING}")
    response = api.http.get("/v1/jobs", params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert "invalid cursor" in detail_text(response)


def test_a_cursor_of_another_timezone_pages_as_its_utc_time(api):
    cursor = cursor_of(f"2000-01-01T02:00:00+02:00|{MISSING}")
    response = api.http.get("/v1/jobs", params={"cursor": cursor})
    assert response.status_code == 200, response.text
    assert response.json() == {"jobs": [], "next_cursor": None}


# --- stats windows -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"since": "0001-01-01T00:00:00+14:00"},
        {"until": "9999-12-31T23:59:59-14:00"},
        {"until": "0001-01-01T00:30:00Z"},  # its default `since`, an hour earlier, is before year 1
        {"since": "0001-01-01T00:00:00+14:00", "until": "9999-12-31T23:59:59-14:00"},
    ],
)
def test_stats_windows_at_the_ends_of_the_calendar_are_answered(api, params):
    response = api.http.get("/v1/stats", params=params)
    assert response.status_code == 200, response.text
    window = response.json()["window"]
    assert window["since"] < window["until"]


def test_stats_since_after_now_without_until_is_422(api):
    response = api.http.get("/v1/stats", params={"since": "9999-12-31T23:59:59Z"})
    assert response.status_code == 422, response.text
    assert "`since` must be before `until`" in detail_text(response)


# --- Last-Event-ID -------------------------------------------------------------------------


def raw_get(app, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """GET through the ASGI app with header bytes as a client sends them: TestClient would
    re-encode a non-ASCII value as UTF-8, where a server reads it as Latin-1."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": LOOPBACK,
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=10))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def cancelled_job(api: FastApi) -> dict:
    """A job whose event stream ends at once (cancelled), so a 200 can be read whole."""
    job = api.http.post("/v1/jobs", json={"text": "Hello there. A second sentence."}).json()
    effects = job_end_effects(api.celery, api.http.app.state.store)
    with session_factory(api.settings.sqlalchemy_url)() as session:
        owner = session.get(Job, job["id"]).owner
    with ending_jobs(api.settings.sqlalchemy_url, effects) as ends:
        ends.cancel(job["id"], owner)
    return api.http.get(f"/v1/jobs/{job['id']}").json()


@pytest.mark.parametrize("value", [b"\xb2", b"\xb9\xb2", b"1\xb3"])
def test_a_last_event_id_of_non_ascii_digits_is_400(api, value):
    # A server reads header bytes as Latin-1: these are "²", "¹²" and "1³", digits to isdigit()
    job_id = api.http.post("/v1/jobs", json={"text": "Hello there."}).json()["id"]
    status, body = raw_get(api.http.app, f"/v1/jobs/{job_id}/events", [(b"last-event-id", value)])
    assert status == 400, body
    assert "Last-Event-ID must be the id of an event" in json.loads(body)["detail"]


def test_a_last_event_id_beyond_the_job_s_chunks_is_400(api):
    job = cancelled_job(api)
    total = job["progress"]["chunks_total"]
    for value in ("9" * 20, str(2**63), str(total + 1)):
        with api.http.stream(
            "GET", f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": value}
        ) as response:
            assert response.status_code == 400, value
            response.read()
            assert f"at most {total}" in detail_text(response)
    for value in ("0", str(total), f" {total} "):
        response = api.http.get(f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": value})
        assert response.status_code == 200, value
        assert "event: cancelled" in response.text


# --- SSML encodings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding", ["UTF-7", "utf-32", "shift_jis", "no-such-codec", "ISO-8859-1"]
)
def test_ssml_declaring_another_encoding_is_read_as_the_text_it_is(api, encoding):
    body = {
        "text": f'<?xml version="1.0" encoding="{encoding}"?><speak>Café au lait.</speak>',
        "markup": "ssml",
    }
    preview = api.http.post("/v1/text/preview", json=body)
    assert preview.status_code == 200, preview.text
    assert preview.json()["chunks"][0]["text"] == "Café au lait."
    assert api.http.post("/v1/jobs", json=body).status_code == 202
    assert api.http.post("/v1/batches", json={"jobs": [body, body]}).status_code == 202


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><speak>&b;</speak>',
            "DTDs and entity declarations are not allowed",
        ),
        (
            '<!DOCTYPE speak SYSTEM "file:///etc/passwd"><speak>x</speak>',
            "DTDs and entity declarations are not allowed",
        ),
        ("<speak>&secret;</speak>", "undefined entity"),
        ("<speak>&#0;</speak>", "the SSML does not parse"),
        ("<speak><s>open", "the SSML does not parse"),
    ],
)
def test_ssml_entities_and_dtds_are_422(api, unchanged, text, reason):
    response = api.http.post("/v1/text/preview", json={"text": text, "markup": "ssml"})
    assert response.status_code == 422, response.text
    assert reason in detail_text(response)


# --- chapters and pronunciation phrases ----------------------------------------------------


def test_more_chapters_than_the_limit_is_422_naming_it(api, unchanged):
    chapters = [{"text": "a"} for _ in range(MAX_JOB_CHAPTERS + 1)]
    for path in ("/v1/jobs", "/v1/text/preview"):
        response = api.http.post(path, json={"chapters": chapters})
        assert response.status_code == 422, response.text
        assert f"at most {MAX_JOB_CHAPTERS} chapters" in detail_text(response)
        assert f"not {MAX_JOB_CHAPTERS + 1}" in detail_text(response)


def test_the_most_chapters_allowed_are_accepted(api):
    chapters = [{"text": "a"} for _ in range(MAX_JOB_CHAPTERS)]
    assert api.http.post("/v1/jobs", json={"chapters": chapters}).status_code == 202


def test_a_pronunciation_of_too_many_words_is_422_naming_the_limit(api, unchanged):
    phrase = " ".join("w" for _ in range(MAX_PHRASE_WORDS + 1))
    body = {"text": "w " * 100, "pronunciations": {phrase: {"say": "x"}}}
    for path in ("/v1/jobs", "/v1/text/preview"):
        response = api.http.post(path, json=body)
        assert response.status_code == 422, response.text
        assert f"at most {MAX_PHRASE_WORDS} words" in detail_text(response)


def test_more_parts_than_a_job_may_have_is_413_before_they_are_planned(api, monkeypatch):
    """Bug: one-letter paragraphs (1.8 MB of "a\\n\\n") made 600,000 chunks: 16 s in one
    request, and as many rows."""
    planned = []
    monkeypatch.setattr("core.text.chunk_plan.plan_chunks", lambda *a, **k: planned.append(1))
    before = api.stored()
    answer = api.http.post("/v1/jobs", json={"text": "a\n\n" * (MAX_JOB_CHUNKS + 1)})
    assert answer.status_code == 413, answer.text
    assert f"at most {MAX_JOB_CHUNKS:,}" in answer.json()["detail"]
    assert planned == [] and api.stored() == before
