"""Finished jobs expire: a job's own ttl_hours, else KQ_JOB_RETENTION_DAYS, else kept. The
reconciler's turn deletes them with the audio no other job holds."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from storage.blobs import LocalBlobStore
from storage.db import session_factory, transaction, utcnow
from storage.job_end import ending_jobs, job_end_effects
from storage.jobs import expired_jobs
from storage.models import Job
from tests.support.fast import RecordingCelery, api_for, fast_settings, without_shell_settings
from worker.reconciler import expire_once

pytestmark = pytest.mark.fast

BODY = {"text": "The lamp was lit at dusk. The door stayed shut.", "voice": "jf_alpha"}


@pytest.fixture
def api(tmp_path):
    with without_shell_settings():
        yield api_for(fast_settings(tmp_path))


def finished_job(api, **fields) -> str:
    """A job submitted with ``fields``, then cancelled: finished now."""
    answer = api.http.post("/v1/jobs", json={**BODY, **fields})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    effects = job_end_effects(RecordingCelery(), LocalBlobStore(api.settings.storage_dir))
    with ending_jobs(api.settings.sqlalchemy_url, effects) as ends:
        assert ends.cancel(job_id, "")[1]
    return job_id


def expired_at(api, later: timedelta, retention_days: float | None) -> set[str]:
    with session_factory(api.settings.sqlalchemy_url)() as session:
        return {j for j, _ in expired_jobs(session, utcnow() + later, retention_days)}


def test_a_jobs_ttl_comes_first_then_the_servers_retention(api):
    own = finished_job(api, ttl_hours=1)
    default = finished_job(api)
    assert expired_at(api, timedelta(minutes=30), None) == set()
    assert expired_at(api, timedelta(hours=2), None) == {own}
    assert expired_at(api, timedelta(hours=2), 1.0) == {own}
    assert expired_at(api, timedelta(days=2), 1.0) == {own, default}
    assert expired_at(api, timedelta(days=400), None) == {own}  # no retention: kept


def test_an_unfinished_job_never_expires(api):
    answer = api.http.post("/v1/jobs", json={**BODY, "ttl_hours": 1})
    assert expired_at(api, timedelta(days=30), 1.0) == set()
    assert answer.json()["status"] == "queued"


def test_the_reconcilers_turn_deletes_what_is_past_its_time(api):
    gone = finished_job(api, ttl_hours=1)
    kept = finished_job(api, ttl_hours=48)
    assert expire_once(api.settings) == 0
    with transaction(api.settings.sqlalchemy_url) as session:
        session.execute(
            update(Job)
            .where(Job.id.in_([gone, kept]))
            .values(finished_at=utcnow() - timedelta(hours=2))
        )
    assert expire_once(api.settings) == 1
    with session_factory(api.settings.sqlalchemy_url)() as session:
        assert set(session.scalars(select(Job.id))) == {kept}
    assert api.http.get(f"/v1/jobs/{gone}").status_code == 404


@pytest.mark.parametrize("ttl", [0, -1, 24 * 366 + 1, "soon"])
def test_a_ttl_out_of_range_is_a_422(api, ttl):
    answer = api.http.post("/v1/jobs", json={**BODY, "ttl_hours": ttl})
    assert answer.status_code == 422 and "ttl_hours" in answer.text
