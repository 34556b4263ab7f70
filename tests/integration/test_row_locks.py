"""Row locks of chunk tasks on PostgreSQL: a queued job's first chunks start at the same moment
in several worker processes (here threads, each with its own connection) without a deadlock.
Each start used to share-lock the job row and then update it to running: two of them holding
the share lock and both upgrading is a deadlock, which PostgreSQL breaks by aborting one. The
database is the session's PostgreSQL one, which the stacks share: the test deletes its jobs."""

import threading

import pytest
from sqlalchemy import select

from core.chunk_plan import plan_chunks
from core.states import JobStatus
from storage.db import session_factory, transaction
from storage.jobs import NewJob, create_job, delete_job, start_chunk
from storage.migrate import upgrade
from storage.models import Job

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
