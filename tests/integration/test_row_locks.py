"""Row locks of chunk tasks on PostgreSQL: a queued job's first chunks start at the same moment
in several worker processes (here threads, each with its own connection) without a deadlock.
Each start used to share-lock the job row and then update it to running: two of them holding
the share lock and both upgrading is a deadlock, which PostgreSQL breaks by aborting one. The
database is the session's PostgreSQL one, which the stacks share: the test deletes its jobs."""

import threading
import uuid

import pytest
from sqlalchemy import select, update

from core.jobs.states import JobStatus
from core.text.chunk_plan import plan_chunks
from storage.db import session_factory, transaction
from storage.jobs import (
    ChunkTiming,
    NewJob,
    create_job,
    delete_job,
    record_chunk_audio,
    reusable_audio,
    start_chunk,
)
from storage.migrate import upgrade
from storage.models import Chunk, Job

pytestmark = pytest.mark.integration

STARTERS = 4
ROUNDS = 25
TEXT = "A sentence for each worker to start. " * 40


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_first_chunks_starting_together_do_not_deadlock(database_url):
    upgrade(database_url)
    chunks = plan_chunks(
        [TEXT], lang="en-us", markup="none", check_voice=str, max_tokens=30, first_chunk_tokens=20
    )
    spec = NewJob(voice="jf_alpha", speed=1.0, lang="en-us", format="wav", queue="kq-locks")
    errors: list[BaseException] = []
    made: list[str] = []
    try:
        for _ in range(ROUNDS):
            with transaction(database_url) as session:
                job, released = create_job(session, spec, chunks, release=STARTERS)
            made.append(job.id)
            start_together(database_url, job.id, released, errors)
            with session_factory(database_url)() as session:
                status = session.scalar(select(Job.status).where(Job.id == job.id))
            assert status == JobStatus.RUNNING
    finally:
        # Its chunks stay queued for no worker: other tests count the database's queued chunks
        with transaction(database_url) as session:
            for job_id in made:
                delete_job(session, job_id, spec.owner)
    assert errors == []


def start_together(database_url: str, job_id: str, released, errors: list) -> None:
    """Start each released chunk in a thread of its own, all at one moment."""
    barrier = threading.Barrier(len(released))

    def start(chunk_id: int, pid: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction(database_url) as session:
                assert start_chunk(session, chunk_id, job_id, "test-host", pid) is not None
        except BaseException as error:  # noqa: BLE001 - reported by the test, with its type
            errors.append(error)

    threads = [threading.Thread(target=start, args=(c, n)) for n, (c, _) in enumerate(released)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_delete_racing_a_revision_never_removes_audio_the_revision_holds(database_url):
    """One thread deletes a book while another plans its revision, which counts on the book's
    chunk audio: either the revision holds the audio (and the delete keeps it), or it finds the
    audio gone (and makes its own). Never a revision pointing at removed files."""
    upgrade(database_url)
    chunks = plan_chunks(
        [TEXT], lang="en-us", markup="none", check_voice=str, max_tokens=30, first_chunk_tokens=20
    )
    outcomes = [race_delete_and_revision(database_url, chunks) for _ in range(ROUNDS)]
    assert all(held.isdisjoint(removed) for held, removed, _ in outcomes)
    assert all(held in (set(), book_audio) for held, _, book_audio in outcomes)


def race_delete_and_revision(database_url: str, chunks) -> tuple[set, list, set]:
    """A book whose chunks are made and kept for reuse; then, at one moment, its delete and
    its revision. The revision's audio keys, the keys the delete removed, the book's keys."""
    owner = f"race-{uuid.uuid4().hex[:8]}"
    keys = [f"{uuid.uuid4().hex}{uuid.uuid4().hex}" for _ in chunks]
    spec = NewJob(
        voice="jf_alpha", speed=1.0, lang="en-us", format="wav", queue="kq-locks", owner=owner,
        reuse_scope=owner,
    )  # fmt: skip
    with transaction(database_url) as session:
        book, _ = create_job(session, spec, chunks, keys=keys)
        for chunk, key in zip(chunks, keys, strict=True):
            timing = made_chunk(book.id, chunk.index)
            session.execute(
                update(Chunk)
                .where(Chunk.job_id == book.id, Chunk.index == chunk.index)
                .values(status="done", audio_key=timing.audio_key)
            )
            record_chunk_audio(session, owner, key, timing)
    barrier = threading.Barrier(2)
    result: dict = {}

    def delete() -> None:
        barrier.wait(timeout=30)
        with transaction(database_url) as session:
            result["removed"] = delete_job(session, book.id, owner)

    def revise() -> None:
        barrier.wait(timeout=30)
        with transaction(database_url) as session:
            reuse = reusable_audio(session, owner, keys)
            result["revision"] = create_job(session, spec, chunks, keys=keys, reuse=reuse)[0].id

    threads = [threading.Thread(target=delete), threading.Thread(target=revise)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with transaction(database_url) as session:
        held = set(
            session.scalars(
                select(Chunk.audio_key).where(
                    Chunk.job_id == result["revision"], Chunk.audio_key.is_not(None)
                )
            )
        )
        delete_job(session, result["revision"], owner)
    book_audio = {made_chunk(book.id, chunk.index).audio_key for chunk in chunks}
    return held, result["removed"], book_audio


def made_chunk(job_id: str, index: int) -> ChunkTiming:
    return ChunkTiming(
        tokens=10, audio_key=f"chunks/{job_id}/{index:06d}.flac", audio_seconds=1.0, peak=0.5,
        normalize_ms=1, phonemize_ms=1, inference_ms=1, encode_ms=1, worker_host="race",
        worker_pid=1, provider="CPUExecutionProvider", worker_rss_mb=1,
    )  # fmt: skip
