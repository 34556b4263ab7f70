"""A short job submitted while a book runs finishes within a few chunk-times, not after the
book: each job has only a small window of chunks queued at once (KQ_CHUNKS_IN_FLIGHT_PER_JOB)."""

import statistics
import time

from sqlalchemy import create_engine, select

from storage.models import Chunk
from tests.integration.test_pipeline import BOOK
from tests.support.stack import wait_for


def test_short_job_overtakes_a_running_book(stack):
    book = "\n\n".join([BOOK] * 20)[: int(stack.env["KQ_MAX_TEXT_CHARS"])]
    engine = create_engine(stack.database_url)
    with stack.client() as http:
        # Made afresh: earlier tests on this stack made the same sentences, which would be
        # reused (this is about the scheduling of chunks that are synthesized)
        long_job = http.post("/v1/jobs", json={"text": book, "reuse": False}).json()
        assert long_job["progress"]["chunks_total"] >= 150
        try:
            wait_for(
                lambda: (
                    http.get(f"/v1/jobs/{long_job['id']}").json()["progress"]["chunks_done"] >= 4
                ),
                180,
                "the book to be under way",
            )
            with engine.connect() as db:
                waiting = db.scalar(
                    select(Chunk.id)
                    .where(Chunk.job_id == long_job["id"], Chunk.status == "pending")
                    .limit(1)
                )
            assert waiting is not None  # most of the book is held back, not in the broker

            started = time.monotonic()
            note = {"text": "A short note. It must not wait.", "reuse": False}
            short = http.post("/v1/jobs", json=note).json()
            finished = stack.wait_for_job(short["id"], timeout_s=180)
            short_seconds = time.monotonic() - started
            assert finished["status"] == "succeeded"
            book_now = http.get(f"/v1/jobs/{long_job['id']}").json()
        finally:
            http.post(f"/v1/jobs/{long_job['id']}/cancel")

    with engine.connect() as db:
        durations = db.execute(
            select(Chunk.finished_at, Chunk.started_at).where(
                Chunk.job_id == long_job["id"], Chunk.status == "done"
            )
        ).all()
    engine.dispose()
    chunk_time = statistics.median((f - s).total_seconds() for f, s in durations)
    assert book_now["status"] == "running"  # the book was still far from done
    # Behind at most the book's window (4 chunks on 2 workers) plus its own chunks
    assert short_seconds < 5 * chunk_time, (short_seconds, chunk_time)
