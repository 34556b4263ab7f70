"""Schemathesis fuzzes the whole HTTP API against its own OpenAPI schema: no input may produce a
5xx, and every answer must be documented (status code, content type and body schema).

The API runs as a real uvicorn process with its own SQLite file and Redis queue, and no worker:
the jobs the fuzzer creates just stay queued, instead of a worker synthesizing random text for
minutes. The server has an API key; most requests carry it, some carry none or whatever the
fuzzer made up (401). Path parameters get real ids part of the time (a queued, a cancelled and a
succeeded job, a batch), so the answers for existing resources are checked too, not only 404s.
"""

import base64
import uuid
import wave
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine, select, update

from api.main import create_app
from core.audio.stream import encode_chunk
from core.jobs.states import ChunkStatus, JobStatus
from storage.blob_store import chapter_audio_key, chunk_key, job_audio_key
from storage.migrate import upgrade
from storage.models import Chunk, Job
from tests.cover_images import png_image
from tests.support.queues import drop_queue
from tests.support.stack import (
    free_port,
    stack_env,
    start_api,
    stop_process,
    wait_until_answers,
)

REQUEST_TIMEOUT_S = 30.0
EXAMPLES_PER_OPERATION = 40
SEED = 20260101
KEY = f"kq-fuzz-{uuid.uuid4().hex}"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Mostly the server's key, so that most requests get past authentication
ACCESS = ("key", "key", "key", "key", "no key", "as generated")
REAL_IDS = (None, "queued", "cancelled", "succeeded")
CHAPTERS = [
    {"title": "One", "text": "The first chapter."},
    {"title": "Two", "text": "The second chapter."},
]

COVER = "data:image/png;base64," + base64.b64encode(png_image()).decode()

# Operation -> status codes answered, for `test_the_fuzz_reached_every_operation`
ANSWERS: dict[str, set[int]] = defaultdict(set)


def _silence(path: Path, seconds: float = 0.5) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24_000)
        out.writeframes(b"\0\0" * int(24_000 * seconds))


class FuzzApi:
    """The API process under test, and jobs in each state for the fuzzer to aim at."""

    def __init__(self, url: str, database_url: str, audio_dir: Path):
        self.url = url
        self.database_url = database_url
        self.audio_dir = audio_dir
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=REQUEST_TIMEOUT_S
        )
        self.jobs = {state: self.new_job(state) for state in REAL_IDS if state}
        batch = self.http.post("/v1/batches", json={"jobs": [{"text": "A batch of one."}]})
        assert batch.status_code == 202, batch.text
        self.batch_id = batch.json()["id"]
        feed = self.http.post("/v1/feeds")
        assert feed.status_code == 201, feed.text
        self.feed_token = feed.json()["token"]
        # The succeeded job does not change any more, nor does its ETag
        self.succeeded_etag = self.http.get(f"/v1/jobs/{self.jobs['succeeded']}").headers["ETag"]

    def spare_feed_token(self) -> str:
        """The id of an active feed token that no other case uses (made once the last one is
        revoked: a key has a few active tokens at most)."""
        active = {t["id"] for t in self.http.get("/v1/feeds").json() if t["active"]}
        if getattr(self, "spare_feed", None) not in active:
            made = self.http.post("/v1/feeds")
            assert made.status_code == 201, made.text
            self.spare_feed = made.json()["id"]
        return self.spare_feed

    def new_job(self, state: str) -> str:
        # With a cover and proof-listening, so that their routes have something to serve
        body = {"title": "Fuzzed", "chapters": CHAPTERS, "cover": COVER, "proof": True}
        response = self.http.post("/v1/jobs", json=body)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        if state == "cancelled":
            assert self.http.post(f"/v1/jobs/{job_id}/cancel").status_code == 200
        elif state == "succeeded":
            self._mark_succeeded(job_id)
        return job_id

    def _mark_succeeded(self, job_id: str) -> None:
        """What a worker would leave behind: every chunk done, the audio and chapter files."""
        engine = create_engine(self.database_url)
        with engine.begin() as db:
            indexes = db.scalars(select(Chunk.index).where(Chunk.job_id == job_id)).all()
            for index in indexes:
                db.execute(
                    update(Chunk)
                    .where(Chunk.job_id == job_id, Chunk.index == index)
                    .values(
                        status=ChunkStatus.DONE,
                        audio_seconds=0.5,
                        tokens=10,
                        done_seq=index + 1,
                        audio_key=chunk_key(job_id, index),
                    )
                )
                key_path = self.audio_dir / chunk_key(job_id, index)
                key_path.parent.mkdir(parents=True, exist_ok=True)
                key_path.write_bytes(encode_chunk(np.zeros(12_000, dtype=np.float32)))
            db.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(
                    status=JobStatus.SUCCEEDED,
                    chunks_done=Job.chunks_total,
                    chars_done=Job.chars_total,
                    started_at=Job.created_at,
                    finished_at=Job.created_at,
                    audio_key=job_audio_key(job_id, "wav"),
                    audio_seconds=1.0,
                    wall_seconds=2.0,
                    realtime_factor=0.5,
                )
            )
        engine.dispose()
        _silence(self.audio_dir / job_audio_key(job_id, "wav"))
        for index in range(len(CHAPTERS)):
            _silence(self.audio_dir / chapter_audio_key(job_id, index, "wav"))

    def aim(self, case, state: str) -> None:
        """Point the case's path parameters at a real job (and batch) in ``state``."""
        params = case.path_parameters or {}
        if "batch_id" in params:
            params["batch_id"] = self.batch_id
        if "model" in params:
            params["model"] = "tts-1"
        if "token" in params:  # a feed's: the succeeded job is in it, as a wav with a png cover
            params["token"] = self.feed_token
            state = "succeeded"
            if "extension" in params:
                params["extension"] = "png" if "/cover." in case.path else "wav"
        if "token_id" in params:  # revoked by the case: a token that is active until it is
            params["token_id"] = self.spare_feed_token()
        if "job_id" not in params:
            return
        changes_the_job = case.method.upper() == "DELETE" or case.path.endswith("/cancel")
        if case.path.endswith(("/events", "/stream")) and state == "queued":
            state = "succeeded"  # no worker runs here: a queued job's live views never end
        # The shared jobs must keep their state for the operations fuzzed after this one
        params["job_id"] = self.new_job(state) if changes_the_job else self.jobs[state]
        if state == "succeeded" and case.path == "/v1/jobs/{job_id}":
            case.headers["If-None-Match"] = self.succeeded_etag  # 304


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory, redis_url):
    data_dir = tmp_path_factory.mktemp("fuzz")
    database_url = f"sqlite:///{data_dir / 'kq.db'}"
    queue = f"kq-fuzz-{uuid.uuid4().hex[:8]}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = stack_env(data_dir, redis_url, database_url, queue, port) | {"KQ_API_KEYS": f"fuzz={KEY}"}
    upgrade(database_url)
    # No worker on purpose: see the module docstring
    api = start_api(env, data_dir / "api.log")
    try:
        wait_until_answers(api, f"{url}/healthz", data_dir / "api.log", "the API")
        running = FuzzApi(url, database_url, data_dir / "audio")
        try:
            yield running
        finally:
            running.http.close()
    finally:
        stop_process(api)
        drop_queue(redis_url, queue)


# The schema the app builds, loaded at import so that pytest gets one test per operation (and
# because schemathesis' lazy `from_fixture` loader fails under pytest 9.2: no `Node._nodeid`);
# `test_the_served_schema_is_the_fuzzed_one` checks that the API process serves the same
OPENAPI = create_app().openapi()
# Speech and voice samples answer with audio once a worker has made it, and none runs here (a
# worker would spend minutes on random text; a sample would wait KQ_SAMPLE_WAIT_S for one, then
# answer its documented 503): tests/integration/test_openai_speech.py and
# test_voice_samples.py cover them, tests/fast/test_voice_samples.py the samples' 4xx answers
schema = (
    schemathesis.openapi.from_dict(OPENAPI, config=schemathesis.Config.from_dict({"seed": SEED}))
    .exclude(path="/v1/audio/speech")
    .exclude(path="/v1/voices/{voice}/sample")
)


def test_the_served_schema_is_the_fuzzed_one(fuzz_api):
    served = httpx.get(f"{fuzz_api.url}/openapi.json", timeout=REQUEST_TIMEOUT_S)
    assert served.status_code == 200
    assert served.json() == OPENAPI


@schema.parametrize()
@schema.given(access=st.sampled_from(ACCESS), real_id=st.sampled_from(REAL_IDS))
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_matches_its_schema(case, access, real_id, fuzz_api):
    """No 5xx, and every status code, content type and body is the documented one."""
    if case.headers is None:
        case.headers = {}
    if access == "key":
        case.headers["Authorization"] = f"Bearer {KEY}"
    elif access == "no key":
        case.headers.pop("Authorization", None)
    if real_id is not None:
        fuzz_api.aim(case, real_id)
    checks = CHECKS
    if case.path == "/readyz":
        # Ready means a worker is online, and on purpose none runs here: /readyz gives its
        # documented 503 (checked like any answer), which the 5xx check cannot tell from a crash
        checks = [check for check in CHECKS if check is not not_a_server_error]
    response = case.call_and_validate(
        base_url=fuzz_api.url, checks=checks, timeout=REQUEST_TIMEOUT_S
    )
    ANSWERS[f"{case.method.upper()} {case.path}"].add(response.status_code)


# Answers the fuzz must have seen beyond errors, so that it keeps reaching past validation,
# authentication and unknown ids
EXPECTED = {
    "POST /v1/jobs": {202, 422},
    "GET /v1/jobs/{job_id}": {200, 304, 404},
    "GET /v1/jobs/{job_id}/audio": {200, 409},
    "GET /v1/jobs/{job_id}/chapters": {200, 409},
    "GET /v1/jobs/{job_id}/chapters/{index}/audio": {200},
    "GET /v1/jobs/{job_id}/subtitles": {200, 409},
    "POST /v1/jobs/{job_id}/cancel": {200, 409},
    "DELETE /v1/jobs/{job_id}": {204, 404},
    "GET /v1/batches/{batch_id}": {200, 404},
}


def test_the_fuzz_reached_every_operation():
    if not ANSWERS:
        pytest.skip("the fuzz test did not run")
    for operation in schema.get_all_operations():
        label = operation.ok().label
        answered = ANSWERS[label]
        assert answered, f"{label} was never fuzzed"
        if label != "GET /readyz":
            assert any(code < 300 for code in answered), f"{label} only answered {answered}"
        missing = EXPECTED.get(label, set()) - answered
        assert not missing, f"{label} never answered {missing} (only {answered})"
