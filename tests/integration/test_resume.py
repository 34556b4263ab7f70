"""Stopping the workers mid-book and starting them again finishes the book from the chunks
already done: no chunk is synthesized twice."""

import pytest
from sqlalchemy import create_engine, select

from storage.models import Chunk
from tests.audio_checks import read_audio
from tests.integration.test_pipeline import BOOK
from tests.support.stack import running_stack, start_worker, stop_process, wait_for


def done_chunks(database_url: str, job_id: str) -> dict[int, int]:
    """index -> worker pid of the job's finished chunks."""
    engine = create_engine(database_url)
    with engine.connect() as db:
        rows = db.execute(
            select(Chunk.index, Chunk.worker_pid).where(
                Chunk.job_id == job_id, Chunk.status == "done"
            )
        ).all()
    engine.dispose()
    return dict(rows)


# Workers stopped and started: the database plays no part, so on the backend a deployment uses
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_book_resumes_after_the_workers_stop(tmp_path, redis_url, database_url):
    with running_stack(tmp_path, redis_url, database_url) as stack, stack.client() as http:
        job = http.post("/v1/jobs", json={"text": BOOK}).json()
        total = job["progress"]["chunks_total"]

        def progress():
            return http.get(f"/v1/jobs/{job['id']}").json()["progress"]["chunks_done"]

        wait_for(lambda: progress() >= 3, 180, "the first chunks")
        stop_process(stack.worker)  # warm shutdown: running chunks finish, queued ones stay
        before = done_chunks(database_url, job["id"])
        assert 3 <= len(before) < total, "stopped too late to show a resume"
        assert http.get(f"/v1/jobs/{job['id']}").json()["status"] == "running"

        stack.worker = start_worker(stack.env, stack.worker_log)
        finished = stack.wait_for_job(job["id"])
        assert finished["status"] == "succeeded", finished["error"]
        audio, rate = read_audio(http.get(f"/v1/jobs/{job['id']}/audio").content)

    engine = create_engine(database_url)
    with engine.connect() as db:
        chunks = db.execute(
            select(Chunk.index, Chunk.attempts, Chunk.worker_pid, Chunk.audio_seconds)
            .where(Chunk.job_id == job["id"])
            .order_by(Chunk.index)
        ).all()
    engine.dispose()
    assert [c.index for c in chunks] == list(range(total))
    assert all(c.attempts == 1 for c in chunks), "a chunk was synthesized twice"
    old_pids = set(before.values())
    rest = [c for c in chunks if c.index not in before]
    assert rest and all(c.worker_pid not in old_pids for c in rest)  # the new worker did the rest
    spoken = sum(c.audio_seconds for c in chunks)
    assert spoken < len(audio) / rate < spoken + 0.8 * total
