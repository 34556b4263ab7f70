"""The job and chunk state machine, straight through the storage functions on a SQLite file
(migrated by the project's runner): release, start, finish, retry; fan-in (exactly one chunk
completes its job, however often a chunk is finished); cancel against chunk starts, in turn and
racing in threads; and the reconcile policy. No broker, worker or model."""

import dataclasses
import random
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.jobs.states import ChunkStatus, JobStatus
from infra.settings import Settings
from storage.blobs import LocalBlobStore
from storage.db import session_factory, transaction, utcnow
from storage.job_end import ending_jobs, job_end_effects
from storage.jobs import (
    ChunkTiming,
    delete_job,
    finish_chunk,
    release_chunks,
    retry_chunk,
    start_chunk,
)
from storage.migrate import upgrade
from storage.models import Chunk, Job
from storage.reconcile import reconcile_jobs
from tests.support.fast import RecordingCelery, store_job

RELEASED = 2  # what store_job queues at once; the rest wait, pending


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A database file at the migrations' head, made once: each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "kq.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def settings(tmp_path, migrated) -> Settings:
    # The migration runner closes its connections, so the file alone (no -wal) is the database
    shutil.copy(migrated, tmp_path / "kq.db")
    return Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'kq.db'}",
        redis_url="redis://127.0.0.1:1/0",  # never reached: nothing here talks to a broker
    )


@pytest.fixture
def effects(settings):
    return job_end_effects(RecordingCelery(), LocalBlobStore(settings.storage_dir))


def timing(chunk_id: int) -> ChunkTiming:
    """A worker's record of a synthesized chunk: every figure 1, names made up."""
    figures = {field.name: 1 for field in dataclasses.fields(ChunkTiming)}
    return ChunkTiming(
        **figures
        | {
            "audio_key": f"chunks/{chunk_id}.flac",
            "worker_host": "test-host",
            "provider": "CPUExecutionProvider",
        }
    )


def chunks_of(settings, job_id: str) -> list[Chunk]:
    with session_factory(settings.sqlalchemy_url)() as session:
        return list(
            session.scalars(select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.index))
        )


def job_row(settings, job_id: str) -> Job:
    with session_factory(settings.sqlalchemy_url)() as session:
        return session.get(Job, job_id)


def job_of(settings, chunk_id: int) -> str:
    """The job a chunk's task names (it is sent with its chunk's job id)."""
    with session_factory(settings.sqlalchemy_url)() as session:
        return session.get(Chunk, chunk_id).job_id


def start(settings, chunk_id: int, job_id: str | None = None):
    with transaction(settings.sqlalchemy_url) as session:
        return start_chunk(session, chunk_id, job_id or job_of(settings, chunk_id), "test-host", 1)


def finish(settings, chunk_id: int, job_id: str | None = None):
    job_id = job_id or job_of(settings, chunk_id)
    with transaction(settings.sqlalchemy_url) as session:
        return finish_chunk(session, chunk_id, job_id, timing(chunk_id))


def release(settings, job_id: str, count: int) -> list[tuple[int, int]]:
    with transaction(settings.sqlalchemy_url) as session:
        return release_chunks(session, job_id, count)


def statuses(settings, job_id: str) -> list[str]:
    return [c.status for c in chunks_of(settings, job_id)]


# The chunk life cycle


def test_a_job_is_stored_with_its_first_chunks_queued_and_the_rest_pending(settings):
    job, released = store_job(settings)
    rows = chunks_of(settings, job.id)
    assert len(rows) > RELEASED + 1  # enough chunks that some wait
    assert released == [(r.id, r.index) for r in rows[:RELEASED]]
    assert [r.status for r in rows] == [ChunkStatus.QUEUED] * RELEASED + [ChunkStatus.PENDING] * (
        len(rows) - RELEASED
    )
    assert all(r.enqueued_at is not None for r in rows[:RELEASED])
    assert all(r.enqueued_at is None for r in rows[RELEASED:])
    stored = job_row(settings, job.id)
    assert stored.status == JobStatus.QUEUED and stored.started_at is None
    assert (stored.chunks_total, stored.chunks_done) == (len(rows), 0)
    assert stored.chars_total == sum(r.chars for r in rows)


def test_releasing_takes_the_next_pending_chunks_in_order_and_never_twice(settings):
    job, _ = store_job(settings)
    rows = chunks_of(settings, job.id)
    first = release(settings, job.id, 1)
    second = release(settings, job.id, 2)
    assert first == [(rows[RELEASED].id, RELEASED)]
    assert second == [(r.id, r.index) for r in rows[RELEASED + 1 : RELEASED + 3]]
    everything = release(settings, job.id, 1000)
    assert [index for _, index in everything] == list(range(RELEASED + 3, len(rows)))
    assert release(settings, job.id, 1) == []  # nothing pending is left
    assert set(statuses(settings, job.id)) == {ChunkStatus.QUEUED}


def test_starting_a_chunk_runs_it_and_its_job(settings):
    job, released = store_job(settings)
    chunk_id, index = released[0]
    work = start(settings, chunk_id)
    assert (work.chunk_id, work.job_id, work.index, work.attempt) == (chunk_id, job.id, index, 1)
    assert (work.voice, work.queue) == ("jf_alpha", "kokoro")
    row = chunks_of(settings, job.id)[index]
    assert row.status == ChunkStatus.RUNNING and row.attempts == 1
    assert row.worker_host == "test-host" and row.queue_wait_ms >= 0
    stored = job_row(settings, job.id)
    assert stored.status == JobStatus.RUNNING and stored.started_at == row.started_at
    # A retried attempt is queued again, then starts as attempt 2
    with transaction(settings.sqlalchemy_url) as session:
        retry_chunk(session, chunk_id, job.id, "RuntimeError: onnx")
    retried = chunks_of(settings, job.id)[index]
    assert retried.status == ChunkStatus.QUEUED and retried.error == "RuntimeError: onnx"
    assert start(settings, chunk_id).attempt == 2


def test_a_done_chunk_is_not_started_retried_or_failed_again(settings, effects):
    """A redelivered task finds its chunk done and does nothing."""
    job, released = store_job(settings)
    chunk_id, index = released[0]
    start(settings, chunk_id)
    assert finish(settings, chunk_id).first_time
    assert start(settings, chunk_id) is None
    with transaction(settings.sqlalchemy_url) as session:
        retry_chunk(session, chunk_id, job.id, "late error")
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        assert not ends.fail_chunk(chunk_id, job.id, "late error")
    row = chunks_of(settings, job.id)[index]
    assert row.status == ChunkStatus.DONE and row.error is None and row.attempts == 1
    assert job_row(settings, job.id).status == JobStatus.RUNNING
    assert start(settings, 10**9, job.id) is None  # no such chunk (its job was deleted)


# Fan-in


def run_every_chunk(settings, job_id: str, order: list[int], twice: set[int]) -> list:
    """Start and finish the job's chunks in ``order`` (indexes), each in ``twice`` finished a
    second time, as a redelivered task would; every ChunkRecorded, in call order."""
    release(settings, job_id, 1000)
    rows = chunks_of(settings, job_id)
    recorded = []
    for index in order:
        start(settings, rows[index].id)
        recorded.append((index, finish(settings, rows[index].id)))
        if index in twice:
            recorded.append((index, finish(settings, rows[index].id)))
    return recorded


@pytest.mark.parametrize("seed", range(5))
def test_exactly_one_chunk_completes_the_job_even_when_chunks_finish_twice(settings, seed):
    job, _ = store_job(settings)
    total = job_row(settings, job.id).chunks_total
    order = random.Random(seed).sample(range(total), total)
    twice = {order[0], order[total // 2], order[-1]}  # the last one too
    recorded = run_every_chunk(settings, job.id, order, twice)

    completing = [(index, r) for index, r in recorded if r.completes_job]
    assert completing == [(order[-1], completing[0][1])]  # one: the last chunk's first finish
    assert [r.first_time for _, r in recorded].count(False) == len(twice)
    assert not any(r.completes_job for _, r in recorded if not r.first_time)
    stored = job_row(settings, job.id)
    rows = chunks_of(settings, job.id)
    assert stored.chunks_done == total  # the second finishes counted nothing
    assert stored.chars_done == stored.chars_total
    # The finishing order is a gap-free sequence: each chunk's place in it, once
    assert sorted(r.done_seq for r in rows) == list(range(1, total + 1))
    assert [rows[index].done_seq for index in order] == list(range(1, total + 1))


def test_chunks_finishing_in_threads_complete_the_job_once(settings):
    job, _ = store_job(settings)
    release(settings, job.id, 1000)
    rows = chunks_of(settings, job.id)
    for row in rows:
        start(settings, row.id)
    barrier = threading.Barrier(4)
    results: list = []

    def worker(share: list[Chunk]):
        barrier.wait()
        for row in share:
            results.append(finish(settings, row.id))
            results.append(finish(settings, row.id))  # redelivered at once

    threads = [threading.Thread(target=worker, args=(rows[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 2 * len(rows)
    assert sum(r.completes_job for r in results) == 1
    assert sum(r.first_time for r in results) == len(rows)
    assert job_row(settings, job.id).chunks_done == len(rows)


def test_a_job_that_ended_otherwise_is_not_completed_by_its_last_chunk(settings, effects):
    job, released = store_job(settings)
    rows = chunks_of(settings, job.id)
    start(settings, released[0][0])
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        assert ends.fail(job.id, "chunk 5 failed: boom")
    recorded = finish(settings, released[0][0])  # it was running: it finishes, to be discarded
    assert recorded.first_time and not recorded.completes_job
    assert job_row(settings, job.id).status == JobStatus.FAILED
    assert statuses(settings, job.id) == [ChunkStatus.DONE] + [ChunkStatus.CANCELLED] * (
        len(rows) - 1
    )


# Cancel against chunk starts


def test_no_chunk_starts_after_a_cancel(settings, effects):
    job, released = store_job(settings)
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        cancelled, changed = ends.cancel(job.id, "")
    assert changed and cancelled.status == JobStatus.CANCELLED
    assert [start(settings, chunk_id) for chunk_id, _ in released] == [None] * RELEASED
    assert release(settings, job.id, 1000) == []
    assert set(statuses(settings, job.id)) == {ChunkStatus.CANCELLED}
    assert job_row(settings, job.id).started_at is None  # it never ran


def test_a_chunk_started_before_the_cancel_runs_on_and_the_rest_never_start(settings, effects):
    job, released = store_job(settings)
    (running, _), (waiting, _) = released
    assert start(settings, running) is not None
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        _, changed = ends.cancel(job.id, "")
    assert changed
    assert start(settings, waiting) is None
    rows = chunks_of(settings, job.id)
    assert [r.status for r in rows] == [ChunkStatus.RUNNING] + [ChunkStatus.CANCELLED] * (
        len(rows) - 1
    )
    # The running chunk finishes; its audio is to be thrown away, the job stays cancelled
    assert not finish(settings, running).completes_job
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        assert ends.discard_audio_if_ended(job.id) == JobStatus.CANCELLED
    assert job_row(settings, job.id).status == JobStatus.CANCELLED


def test_a_redelivered_chunk_of_a_cancelled_job_is_no_longer_running(settings, effects):
    """Its worker died mid-chunk after the cancel: the task comes back, finds the job ended,
    and the chunk is marked cancelled instead of running for ever."""
    job, released = store_job(settings)
    running = released[0][0]
    assert start(settings, running) is not None
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        ends.cancel(job.id, "")
    assert start(settings, running) is None  # the redelivered task
    assert set(statuses(settings, job.id)) == {ChunkStatus.CANCELLED}


def test_a_task_of_a_deleted_job_leaves_the_chunk_that_took_its_id_alone(settings):
    """SQLite gives a deleted job's chunk ids to the next job's chunks: a task of the deleted
    job that runs on names its own job, and neither starts, finishes nor retries the other's."""
    gone, released = store_job(settings)
    chunk_id, _ = released[0]
    with transaction(settings.sqlalchemy_url) as session:
        assert delete_job(session, gone.id, "") is not None
    job, reused = store_job(settings)
    assert chunk_id in {c for c, _ in reused}  # the id was given again
    assert start(settings, chunk_id, gone.id) is None
    assert not finish(settings, chunk_id, gone.id).first_time
    with transaction(settings.sqlalchemy_url) as session:
        retry_chunk(session, chunk_id, gone.id, "late error")
    row = next(r for r in chunks_of(settings, job.id) if r.id == chunk_id)
    assert (row.status, row.attempts, row.error) == (ChunkStatus.QUEUED, 0, None)
    assert start(settings, chunk_id, job.id) is not None  # its own job's task runs it


def race_cancel_and_start(settings, effects, job_id: str, chunk_id: int) -> dict:
    """A cancel and a chunk start let go at once, each in its own thread and transaction."""
    barrier = threading.Barrier(2)
    result: dict = {}

    def cancel():
        barrier.wait()
        with ending_jobs(settings.sqlalchemy_url, effects) as ends:
            result["cancelled"] = ends.cancel(job_id, "")[1]

    def begin():
        barrier.wait()
        result["work"] = start(settings, chunk_id)

    threads = [threading.Thread(target=cancel), threading.Thread(target=begin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return result


def test_cancel_and_start_racing_in_threads_never_start_a_chunk_after_the_cancel(settings, effects):
    """Whichever commits first, no chunk runs that started after its job was cancelled, and
    none is left queued to start later."""
    for _ in range(12):
        job, released = store_job(settings)
        result = race_cancel_and_start(settings, effects, job.id, released[0][0])
        assert result["cancelled"]
        stored = job_row(settings, job.id)
        chunk = chunks_of(settings, job.id)[0]
        assert stored.status == JobStatus.CANCELLED
        if result["work"] is None:
            assert chunk.status == ChunkStatus.CANCELLED and chunk.started_at is None
        else:
            assert chunk.status == ChunkStatus.RUNNING
            assert chunk.started_at <= stored.finished_at
        assert ChunkStatus.QUEUED not in statuses(settings, job.id)
        assert ChunkStatus.PENDING not in statuses(settings, job.id)


# The reconcile policy


def age(settings, job_id: str, hours: float = 2) -> None:
    """Move the job's clocks and its chunks' back, as if their tasks had been sent (and the
    started ones started) that long ago."""
    then = utcnow() - timedelta(hours=hours)
    chunks = update(Chunk).where(Chunk.job_id == job_id)
    with transaction(settings.sqlalchemy_url) as session:
        session.execute(chunks.where(Chunk.enqueued_at.is_not(None)).values(enqueued_at=then))
        session.execute(chunks.where(Chunk.started_at.is_not(None)).values(started_at=then))
        session.execute(update(Job).where(Job.id == job_id).values(updated_at=then))


def reconcile(settings, effects, **policy):
    rules = {
        "queue": "kokoro",
        "held": lambda _chunk_id: False,
        "assembling": lambda _job_id: False,
        "grace_s": 60,
        "max_requeues": 3,
        "stalled_after_s": 0,
        "in_flight_per_job": 2,
    } | policy
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        return reconcile_jobs(ends, **rules)


def test_lost_chunks_are_sent_again_once_their_grace_has_passed(settings, effects):
    job, released = store_job(settings)
    assert reconcile(settings, effects).chunks == []  # just sent: their messages may be on the way
    age(settings, job.id)
    result = reconcile(settings, effects)
    assert [(c.job_id, c.chunk_id, c.index) for c in result.chunks] == [
        (job.id, chunk_id, index) for chunk_id, index in released
    ]
    assert all(c.priority == job.priority for c in result.chunks)
    rows = chunks_of(settings, job.id)
    assert [(r.status, r.requeues) for r in rows[:RELEASED]] == [(ChunkStatus.QUEUED, 1)] * RELEASED
    assert all(r.enqueued_at > utcnow() - timedelta(minutes=1) for r in rows[:RELEASED])
    assert reconcile(settings, effects).chunks == []  # sent again just now: not twice
    assert result.failed_jobs == {} and result.assemblies == []


def test_chunks_the_broker_or_a_worker_holds_are_left_alone(settings, effects):
    job, released = store_job(settings)
    start(settings, released[0][0])  # running on a live worker
    age(settings, job.id)
    held = {chunk_id for chunk_id, _ in released}
    assert reconcile(settings, effects, held=held.__contains__).chunks == []
    # The worker died: its running chunk is queued again, as is the lost queued one
    result = reconcile(settings, effects)
    assert sorted(c.chunk_id for c in result.chunks) == sorted(held)
    assert set(statuses(settings, job.id)[:RELEASED]) == {ChunkStatus.QUEUED}


def test_a_chunk_lost_too_often_fails_its_job(settings, effects):
    job, released = store_job(settings)
    lost = released[0][0]
    with transaction(settings.sqlalchemy_url) as session:
        session.execute(update(Chunk).where(Chunk.id == lost).values(requeues=3))
    age(settings, job.id)
    result = reconcile(settings, effects, max_requeues=3)
    assert result.chunks == []  # nothing of a failed job is sent
    assert result.failed_jobs == {job.id: result.failed_jobs[job.id]}
    assert "chunk 0 was lost 4 times" in result.failed_jobs[job.id]
    stored = job_row(settings, job.id)
    assert stored.status == JobStatus.FAILED and "was lost 4 times" in stored.error
    assert set(statuses(settings, job.id)) == {ChunkStatus.CANCELLED}


@pytest.mark.parametrize(("stalled_after_s", "fails"), [(600, True), (3 * 3600, False), (0, False)])
def test_a_running_job_without_progress_fails_after_the_stall_timeout(
    settings, effects, stalled_after_s, fails
):
    job, released = store_job(settings)
    start(settings, released[0][0])
    age(settings, job.id)  # two hours without a finished chunk
    result = reconcile(settings, effects, held=lambda _: True, stalled_after_s=stalled_after_s)
    assert (job.id in result.failed_jobs) == fails
    if fails:
        assert "no progress for 600 s" in result.failed_jobs[job.id]
    assert job_row(settings, job.id).status == (JobStatus.FAILED if fails else JobStatus.RUNNING)
    # A worker holds the running chunk: it may still finish, so it stays running
    assert statuses(settings, job.id)[0] == ChunkStatus.RUNNING


def test_a_stalled_job_whose_worker_is_gone_leaves_no_chunk_running(settings, effects):
    job, released = store_job(settings)
    start(settings, released[0][0])
    age(settings, job.id)
    result = reconcile(settings, effects, stalled_after_s=600)
    assert job.id in result.failed_jobs and result.chunks == []
    rows = chunks_of(settings, job.id)
    assert rows[0].status == ChunkStatus.FAILED and rows[0].error == "its worker was lost"
    assert set(statuses(settings, job.id)[1:]) == {ChunkStatus.CANCELLED}


def test_a_job_with_chunks_left_but_none_in_flight_gets_its_next_ones(settings, effects):
    """The transaction that would have released the next chunks was lost."""
    job, released = store_job(settings)
    for chunk_id, _ in released:
        start(settings, chunk_id)
        finish(settings, chunk_id)
    age(settings, job.id)
    result = reconcile(settings, effects, in_flight_per_job=2)
    assert [c.index for c in result.chunks] == [RELEASED, RELEASED + 1]
    assert statuses(settings, job.id)[RELEASED : RELEASED + 3] == [
        ChunkStatus.QUEUED,
        ChunkStatus.QUEUED,
        ChunkStatus.PENDING,
    ]


def test_a_job_whose_chunks_are_all_done_is_assembled_unless_an_assembly_runs(settings, effects):
    job, _ = store_job(settings)
    run_every_chunk(settings, job.id, list(range(job_row(settings, job.id).chunks_total)), set())
    age(settings, job.id)
    assert reconcile(settings, effects, assembling=lambda _: True).assemblies == []
    result = reconcile(settings, effects)
    assert result.assemblies == [job.id] and result.chunks == []
    assert job_row(settings, job.id).status == JobStatus.RUNNING  # the assembly ends it


def test_finished_jobs_are_never_reconciled(settings, effects):
    cancelled, _ = store_job(settings)
    failed, released = store_job(settings)
    start(settings, released[0][0])
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        ends.cancel(cancelled.id, "")
        ends.fail(failed.id, "chunk 1 failed: boom")
    for job in (cancelled, failed):
        age(settings, job.id)
    result = reconcile(settings, effects, stalled_after_s=1)
    assert (result.chunks, result.assemblies, result.failed_jobs) == ([], [], {})
    assert job_row(settings, failed.id).error == "chunk 1 failed: boom"
