"""The one job-end path, against a real SQLite database and a real local blob store: what
failing, cancelling and succeeding do to the job, its audio and its webhook, from each place
that ends jobs. The broker is a recording stand-in: this layer runs without Redis."""

import asyncio

import numpy as np
import pytest
from fastapi import HTTPException
from pydantic import SecretStr

from api.auth import Principal
from api.routers.speech import _audio_then_cleanup
from api.schemas import JobCreate
from api.submission import check_submission, submit_job
from core.audio.formats import StreamFormat
from core.audio.stream import encode_chunk
from core.jobs.states import ChunkStatus, JobStatus
from infra.queue import DELIVER_WEBHOOK
from infra.settings import Settings
from storage.blob_store import chunk_key, job_prefix, made_chunks_prefix
from storage.blobs import LocalBlobStore
from storage.db import session_factory, transaction
from storage.job_end import ending_jobs, job_end_effects
from storage.jobs import ChunkTiming, finish_chunk, start_chunk
from storage.migrate import upgrade
from storage.models import Chunk, Job
from tests.support.fast import TEXT, RecordingCelery, store_job

PRINCIPAL = Principal("", "anonymous", 1000, 2_000_000)


@pytest.fixture
def settings(tmp_path) -> Settings:
    settings = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")
    upgrade(settings.sqlalchemy_url)
    return settings


@pytest.fixture
def store(settings) -> LocalBlobStore:
    return LocalBlobStore(settings.storage_dir)


def timing(key: str) -> ChunkTiming:
    return ChunkTiming(
        tokens=10, audio_key=key, audio_seconds=0.5, peak=0.3, normalize_ms=1, phonemize_ms=1,
        inference_ms=1, encode_ms=1, worker_host="test", worker_pid=1,
        provider="CPUExecutionProvider", worker_rss_mb=1,
    )  # fmt: skip


def synthesize(settings, store, job_id: str, chunk_id: int, index: int) -> None:
    """What a worker does with a chunk, minus the model: claim it, write audio, record it."""
    with transaction(settings.sqlalchemy_url) as session:
        assert start_chunk(session, chunk_id, job_id, "test", 1) is not None
    key = chunk_key(job_id, index)
    store.put(key, encode_chunk(np.full(12_000, 0.1, dtype=np.float32)))
    with transaction(settings.sqlalchemy_url) as session:
        finish_chunk(session, chunk_id, job_id, timing(key))


def job_row(settings, job_id: str) -> Job:
    with session_factory(settings.sqlalchemy_url)() as session:
        return session.get(Job, job_id)


def audio_left(store: LocalBlobStore, job_id: str) -> list:
    """The job's own files and the chunk audio it made."""
    roots = [store.path(job_prefix(job_id)), store.path(made_chunks_prefix(job_id))]
    return sorted(p.name for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def test_a_speech_client_that_hangs_up_cancels_and_leaves_no_audio(settings, store):
    """Bug: the hang-up cancelled the job but kept the finished chunks' audio for ever."""
    celery = RecordingCelery()
    effects = job_end_effects(celery, store)
    job, released = store_job(settings)
    synthesize(settings, store, job.id, *released[0])
    assert audio_left(store, job.id)

    async def listen_then_hang_up():
        stream = _audio_then_cleanup(settings, effects, job.id, StreamFormat.PCM, "")
        first = await anext(stream)  # the first chunk's audio arrives...
        await stream.aclose()  # ...and the client goes away
        return first

    assert asyncio.run(listen_then_hang_up())
    assert job_row(settings, job.id).status == JobStatus.CANCELLED
    assert audio_left(store, job.id) == []
    assert celery.sent_named(DELIVER_WEBHOOK) == [
        (DELIVER_WEBHOOK, [job.id, JobStatus.CANCELLED], "kokoro")
    ]


def test_an_enqueue_that_fails_stores_nothing_and_says_to_submit_again(settings, store):
    """The broker is down: the client is told (503, Retry-After) and nothing is kept, so no
    failed job lingers and no webhook goes out for a job the client never got."""
    celery = RecordingCelery(broker_down=True)
    settings = settings.model_copy(update={"webhook_secret": SecretStr("s3cret")})
    body = JobCreate(text=TEXT, callback_url="https://hooks.example.com/kq")
    sessions = session_factory(settings.sqlalchemy_url)
    with pytest.raises(HTTPException) as refused:
        checked = check_submission(settings, PRINCIPAL, body)
        submit_job(sessions, celery, settings, PRINCIPAL, body, checked)
    assert refused.value.status_code == 503
    assert "queue is unreachable" in refused.value.detail
    assert "nothing was stored" in refused.value.detail
    assert int(refused.value.headers["Retry-After"]) > 0
    with sessions() as session:
        assert session.query(Job).count() == 0
        assert session.query(Chunk).count() == 0
    assert celery.sent == []


def test_a_job_ends_once_and_only_unfinished_jobs_end(settings, store):
    celery = RecordingCelery()
    effects = job_end_effects(celery, store)
    job, released = store_job(settings)
    synthesize(settings, store, job.id, *released[0])
    url = settings.sqlalchemy_url
    with ending_jobs(url, effects) as ends:
        assert ends.fail(job.id, "chunk 3 failed: boom")
        assert not ends.fail(job.id, "again")  # in the same transaction: already failed
    with ending_jobs(url, effects) as ends:
        assert ends.cancel(job.id, "") == (ends.session.get(Job, job.id), False)
        assert ends.cancel(job.id, "someone else") == (None, False)
    row = job_row(settings, job.id)
    assert row.status == JobStatus.FAILED and row.error == "chunk 3 failed: boom"
    assert audio_left(store, job.id) == []
    assert len(celery.sent_named(DELIVER_WEBHOOK)) == 1  # one end, one webhook
    with session_factory(url)() as session:
        statuses = {c.status for c in session.get(Job, job.id).chunks}
    # Nothing that had not started ever will
    assert statuses <= {ChunkStatus.DONE, ChunkStatus.CANCELLED}


def test_nothing_outside_the_database_happens_when_the_transaction_rolls_back(settings, store):
    celery = RecordingCelery()
    job, released = store_job(settings)
    synthesize(settings, store, job.id, *released[0])
    with (
        pytest.raises(RuntimeError),
        ending_jobs(settings.sqlalchemy_url, job_end_effects(celery, store)) as ends,
    ):
        ends.cancel(job.id, "")
        raise RuntimeError("the route failed after cancelling")
    assert job_row(settings, job.id).status == JobStatus.RUNNING
    assert audio_left(store, job.id) and celery.sent == []


def test_an_assembly_that_finishes_after_a_cancel_removes_what_it_wrote(settings, store):
    celery = RecordingCelery()
    effects = job_end_effects(celery, store)
    job, released = store_job(settings, callback=None)
    synthesize(settings, store, job.id, *released[0])  # the job is running now
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        ends.cancel(job.id, "")
    store.put(f"{job_prefix(job.id)}/audio.wav", b"RIFF")  # an assembly that was under way
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        status = ends.succeed(job.id, audio_key="x", audio_bytes=4, audio_seconds=1.0)
    assert status == JobStatus.CANCELLED
    assert audio_left(store, job.id) == [] and celery.sent == []


def test_a_chunk_that_gives_up_fails_its_job(settings, store):
    celery = RecordingCelery()
    job, released = store_job(settings)
    chunk_id, _ = released[1]
    with ending_jobs(settings.sqlalchemy_url, job_end_effects(celery, store)) as ends:
        assert ends.fail_chunk(chunk_id, job.id, "OSError: disk full")
    row = job_row(settings, job.id)
    assert row.status == JobStatus.FAILED
    assert row.error == "chunk 1 failed: OSError: disk full"
    assert celery.sent_named(DELIVER_WEBHOOK)[0][1] == [job.id, JobStatus.FAILED]


def test_a_retry_of_a_chunk_whose_job_ended_does_not_leave_it_queued(settings, store):
    """A chunk's attempt failed after its job was cancelled: the retry finds nothing to do, so
    the chunk must not stay queued (the queue-depth metrics would never drain)."""
    from storage.jobs import retry_chunk
    from storage.metrics import metric_values
    from storage.models import Chunk

    job, released = store_job(settings, callback=None)
    chunk_id, _ = released[0]
    with transaction(settings.sqlalchemy_url) as session:
        start_chunk(session, chunk_id, job.id, "test", 1)
    with ending_jobs(settings.sqlalchemy_url, job_end_effects(RecordingCelery(), store)) as ends:
        ends.cancel(job.id, "")
    with transaction(settings.sqlalchemy_url) as session:
        retry_chunk(session, chunk_id, job.id, "RuntimeError: boom")
    with session_factory(settings.sqlalchemy_url)() as session:
        assert session.get(Chunk, chunk_id).status == ChunkStatus.CANCELLED
        assert metric_values(session)["chunks_queued"] == 0
