"""Queue routing and who may be served, through the in-process app (TestClient) and the
reconcile policy on SQLite: pools that share a database mind only their own queue's jobs, and
a server without keys serves only its own machine however it was started."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from core.jobs.states import JobStatus
from infra.queue import SYNTHESIZE_CHUNK
from infra.settings import Settings
from storage.blobs import LocalBlobStore
from storage.db import session_factory, transaction, utcnow
from storage.job_end import ending_jobs, job_end_effects
from storage.migrate import upgrade
from storage.models import Chunk, Job
from storage.reconcile import reconcile_jobs
from tests.support.fast import LOOPBACK, TEXT, RecordingCelery, api_for, fast_settings, store_job

ELSEWHERE = ("203.0.113.7", 40000)  # TEST-NET-3: an address beyond this machine


def app_settings(tmp_path, **fields) -> Settings:
    settings = fast_settings(tmp_path, **fields)
    upgrade(settings.sqlalchemy_url)
    return settings


def client_for(settings: Settings, address=LOOPBACK) -> tuple[TestClient, RecordingCelery]:
    api = api_for(settings, address)
    # Addressed by a loopback name, as clients on this machine do (not TestClient's own
    # "testserver": a server without keys refuses other names)
    api.http.base_url = "http://127.0.0.1:8000"
    return api.http, api.celery


def test_a_job_may_name_an_allowed_queue_and_its_chunks_go_there(tmp_path):
    settings = app_settings(tmp_path, queue="kokoro", queues="kokoro-gpu")
    http, celery = client_for(settings)
    answer = http.post("/v1/jobs", json={"text": TEXT, "queue": "kokoro-gpu"})
    assert answer.status_code == 202, answer.text
    assert answer.json()["queue"] == "kokoro-gpu"
    assert {queue for _, _, queue in celery.sent_named(SYNTHESIZE_CHUNK)} == {"kokoro-gpu"}
    default = http.post("/v1/jobs", json={"text": TEXT}).json()
    assert default["queue"] == "kokoro"


def test_an_unknown_queue_is_422_naming_the_allowed_ones_and_stores_nothing(tmp_path):
    settings = app_settings(tmp_path, queue="kokoro", queues="kokoro-gpu")
    http, celery = client_for(settings)
    answer = http.post("/v1/jobs", json={"text": TEXT, "queue": "someone-elses"})
    assert answer.status_code == 422
    assert "kokoro, kokoro-gpu" in answer.json()["detail"]
    assert http.get("/v1/jobs").json()["jobs"] == [] and celery.sent == []


def lose_every_task(settings) -> None:
    """Age every in-flight chunk and job past the grace, as if their tasks were long lost."""
    long_ago = utcnow() - timedelta(hours=2)
    with transaction(settings.sqlalchemy_url) as session:
        session.execute(update(Chunk).values(enqueued_at=long_ago))
        session.execute(update(Job).values(updated_at=long_ago))


def reconcile(settings, queue: str, *, held: bool, stalled_after_s: float):
    """One reconcile pass for ``queue``, as if nothing (or everything) were held by the broker."""
    store = LocalBlobStore(settings.storage_dir)
    with ending_jobs(settings.sqlalchemy_url, job_end_effects(RecordingCelery(), store)) as ends:
        return reconcile_jobs(
            ends,
            queue=queue,
            held=lambda _: held,
            assembling=lambda _: held,
            grace_s=60,
            max_requeues=5,
            stalled_after_s=stalled_after_s,
            in_flight_per_job=2,
        )


def test_the_reconciler_touches_only_its_own_queues_jobs(tmp_path):
    """Bug: every worker's reconciler re-sent every unfinished job's chunks to its own queue."""
    settings = app_settings(tmp_path)
    cpu_job, _ = store_job(settings, queue="kokoro")
    store_job(settings, queue="kokoro-gpu")
    lose_every_task(settings)
    result = reconcile(settings, "kokoro", held=False, stalled_after_s=0)
    assert {chunk.job_id for chunk in result.chunks} == {cpu_job.id}
    with session_factory(settings.sqlalchemy_url)() as session:
        requeued = {c.job_id for c in session.query(Chunk).filter(Chunk.requeues > 0)}
    assert requeued == {cpu_job.id}


def test_stalled_jobs_of_other_queues_are_not_failed(tmp_path):
    settings = app_settings(tmp_path)
    jobs = {queue: store_job(settings, queue=queue)[0] for queue in ("kokoro", "kokoro-gpu")}
    with transaction(settings.sqlalchemy_url) as session:
        session.execute(update(Job).values(status=JobStatus.RUNNING))
    lose_every_task(settings)
    result = reconcile(settings, "kokoro-gpu", held=True, stalled_after_s=600)
    assert set(result.failed_jobs) == {jobs["kokoro-gpu"].id}


def test_without_keys_a_client_beyond_loopback_is_refused_everywhere(tmp_path):
    """Bug: only the CLI refused; `uvicorn api.main:app --host 0.0.0.0` served everyone."""
    settings = app_settings(tmp_path)
    outside, _ = client_for(settings, ELSEWHERE)
    for path in ("/v1/jobs", "/healthz", "/dashboard", "/docs"):
        answer = outside.get(path)
        assert answer.status_code == 403, path
        assert "KQ_API_KEYS" in answer.json()["detail"]
    refused = outside.post("/v1/jobs", json={"text": TEXT})
    assert refused.status_code == 403
    local, _ = client_for(settings, LOOPBACK)
    assert local.get("/v1/jobs").status_code == 200
    assert local.get("/v1/jobs").json()["jobs"] == []  # the refused POST stored nothing


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"api_keys": "reader=secret-key-1"}, 401),  # keys: the caller must then show one
        ({"allow_unauthenticated": True}, 200),  # the operator says a proxy authenticates
    ],
)
def test_keys_or_an_explicit_allowance_open_the_server_to_others(tmp_path, fields, expected):
    outside, _ = client_for(app_settings(tmp_path, **fields), ELSEWHERE)
    assert outside.get("/v1/jobs").status_code == expected


def test_a_key_made_in_the_database_opens_the_server_too(tmp_path):
    from storage.api_keys import create_key

    settings = app_settings(tmp_path)
    with transaction(settings.sqlalchemy_url) as session:
        created = create_key(session, "reader")
    outside, _ = client_for(settings, ELSEWHERE)
    headers = {"Authorization": f"Bearer {created.key}"}
    assert outside.get("/v1/jobs", headers=headers).status_code == 200
