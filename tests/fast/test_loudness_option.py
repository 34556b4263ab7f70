"""The `loudness` option of POST /v1/jobs (peak, the default, or acx): accepted in JSON, in a
book upload's form and in a batch, stored on the job and shown by GET /v1/jobs/{id} with the
chapters' `levels` (null until the job has succeeded); any other value is a 422 naming the
field that stores nothing.

The fast layer: the in-process app (TestClient) on a SQLite file, with a broker stand-in that
records what it would be sent; no Redis, worker or model."""

import hashlib
import json

import pytest
from sqlalchemy import select

from api.schemas import JobCreate
from api.submission import request_hash
from storage.db import session_factory, transaction
from storage.job_end import ending_jobs, job_end_effects
from storage.jobs import start_chunk
from storage.models import Chunk, Job
from tests.support.fast import FastApi, detail_text

GOOD = {"text": "A perfectly good sentence."}
BOOK = ("book.txt", b"Chapter one is short.\n\nIt has two paragraphs.", "text/plain")


def stored_loudness(api: FastApi, job_id: str) -> str:
    with session_factory(api.settings.sqlalchemy_url)() as session:
        return session.scalar(select(Job.loudness).where(Job.id == job_id))


def created(response) -> dict:
    assert response.status_code == 202, response.text
    return response.json()


def test_a_new_job_is_peak_normalized_and_has_no_levels_yet(api):
    job = created(api.http.post("/v1/jobs", json=GOOD))
    assert (job["loudness"], job["levels"]) == ("peak", None)
    shown = api.http.get(f"/v1/jobs/{job['id']}").json()
    assert (shown["loudness"], shown["levels"]) == ("peak", None)
    assert stored_loudness(api, job["id"]) == "peak"


@pytest.mark.parametrize("loudness", ["acx", "peak"])
def test_loudness_given_in_json_is_stored_and_shown(api, loudness):
    job = created(api.http.post("/v1/jobs", json={**GOOD, "loudness": loudness}))
    assert job["loudness"] == loudness
    assert api.http.get(f"/v1/jobs/{job['id']}").json()["loudness"] == loudness
    assert stored_loudness(api, job["id"]) == loudness


def test_acx_given_in_an_upload_form_is_stored_and_shown(api):
    response = api.http.post("/v1/jobs", files={"file": BOOK}, data={"loudness": "acx"})
    job = created(response)
    assert job["loudness"] == "acx" and job["levels"] is None
    assert api.http.get(f"/v1/jobs/{job['id']}").json()["loudness"] == "acx"
    assert stored_loudness(api, job["id"]) == "acx"


def test_each_job_of_a_batch_keeps_its_own_loudness(api):
    body = {"jobs": [{**GOOD, "loudness": "acx"}, GOOD]}
    batch = created(api.http.post("/v1/batches", json=body))
    assert [job["loudness"] for job in batch["jobs"]] == ["acx", "peak"]
    assert [stored_loudness(api, job["id"]) for job in batch["jobs"]] == ["acx", "peak"]


@pytest.mark.parametrize("loudness", ["loud", 3, "", None, "ACX"])
def test_an_unknown_loudness_in_json_is_422_naming_the_field(api, unchanged, loudness):
    response = api.http.post("/v1/jobs", json={**GOOD, "loudness": loudness})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [error["loc"][-1] for error in detail] == ["loudness"]
    assert "'peak' or 'acx'" in detail_text(response)


@pytest.mark.parametrize("loudness", ["loud", "3", ""])
def test_an_unknown_loudness_in_an_upload_form_is_422_naming_the_field(api, unchanged, loudness):
    response = api.http.post("/v1/jobs", files={"file": BOOK}, data={"loudness": loudness})
    assert response.status_code == 422, response.text
    assert "loudness" in detail_text(response)
    assert "'peak' or 'acx'" in detail_text(response)


def test_a_batch_with_one_unknown_loudness_stores_none_of_its_jobs(api, unchanged):
    body = {"jobs": [GOOD, {**GOOD, "loudness": "loud"}]}
    response = api.http.post("/v1/batches", json=body)
    assert response.status_code == 422, response.text
    assert "loudness" in detail_text(response)


def test_an_idempotency_key_reused_with_another_loudness_is_409(api):
    key = {"Idempotency-Key": "loudness-409"}
    first = created(api.http.post("/v1/jobs", json=GOOD, headers=key))
    again = api.http.post("/v1/jobs", json={**GOOD, "loudness": "peak"}, headers=key)
    assert again.status_code == 202 and again.json()["id"] == first["id"]  # the same body
    before = api.stored()
    other = api.http.post("/v1/jobs", json={**GOOD, "loudness": "acx"}, headers=key)
    assert other.status_code == 409, other.text
    assert api.stored() == before


def test_a_succeeded_job_shows_its_chapters_levels(api):
    job_id = created(api.http.post("/v1/jobs", json={**GOOD, "loudness": "acx"}))["id"]
    levels = [
        {"chapter": 0, "title": "Chapter 1", "gain_db": 6.02, "rms_dbfs": -20.1, "peak_dbfs": -4.2}
    ]
    with transaction(api.settings.sqlalchemy_url) as session:
        chunk_id = session.scalar(select(Chunk.id).where(Chunk.job_id == job_id))
        assert start_chunk(session, chunk_id, job_id, "test-host", 1) is not None
    effects = job_end_effects(api.celery, api.http.app.state.store)
    with ending_jobs(api.settings.sqlalchemy_url, effects) as ends:
        status = ends.succeed(
            job_id, audio_key=f"jobs/{job_id}.wav", audio_bytes=44, audio_seconds=1.0,
            chapter_levels=levels,
        )  # fmt: skip
    assert status == "succeeded"
    shown = api.http.get(f"/v1/jobs/{job_id}").json()
    assert shown["status"] == "succeeded"
    assert (shown["loudness"], shown["levels"]) == ("acx", levels)


# A job request's fields before any of loudness, reuse, ttl_hours, headings, the book's details
# and delivery were added
FIELDS_BEFORE_LOUDNESS = {
    "author",
    "callback_url",
    "chapters",
    "format",
    "lang",
    "markup",
    "priority",
    "pronunciations",
    "queue",
    "speed",
    "text",
    "title",
    "voice",
}


@pytest.mark.parametrize(
    "body",
    [
        JobCreate(text="A request from before the upgrade."),
        JobCreate(chapters=[{"title": "One", "text": "A chapter from before the upgrade."}]),
    ],
)
def test_a_request_stored_before_later_fields_existed_still_matches_its_replay(body):
    """Idempotency: the hash of a request that leaves the fields added since (``loudness``,
    ``reuse``, ``ttl_hours``, a chapter's ``voice``) at their defaults is the hash the same
    request had before they were added, so its stored key still replays."""
    before = {k: v for k, v in body.model_dump(mode="json").items() if k in FIELDS_BEFORE_LOUDNESS}
    for chapter in before.get("chapters") or []:
        del chapter["voice"]
    stored = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()
    assert request_hash(body) == stored
    for change in (
        {"loudness": "acx"},
        {"reuse": False},
        {"ttl_hours": 5.0},
        {"headings": "text"},
        {"series": "Sea Stories"},
        {"year": 1851},
    ):
        changed = JobCreate.model_validate({**body.model_dump(mode="json"), **change})
        assert request_hash(changed) != stored
