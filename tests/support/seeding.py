"""Fake jobs, chunks and API keys written straight into a migrated database, past the API:
thousands of rows in seconds, so that the planner has a table big enough to prefer indexes.
``tests/integration/test_query_plans.py`` and the API load benchmark
(``benchmarks/api_load_data.py``) seed their own mixes through these.
"""

import random
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from core.jobs.states import ChunkStatus, JobStatus
from storage.api_keys import hash_key
from storage.db import get_engine
from storage.models import ApiKey, Chunk, Job

FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
BATCH = 5000  # rows per INSERT: a bounded statement on either backend


def job_rows(
    rng: random.Random,
    indexes: Iterable[int],
    owners: Sequence[str],
    *,
    start: datetime,
    step: timedelta,
    status_weights: Sequence[tuple[JobStatus, float]],
    max_chunks: int,
    chunk_texts: Sequence[str],
    own_first: int = 0,
) -> tuple[list[dict], list[dict]]:
    """Job ``i`` of ``indexes`` and its 1 to ``max_chunks`` chunks, created at
    ``start + i * step`` with a status drawn from ``status_weights``. ``owners[0]`` owns the
    first ``own_first`` jobs and every other one after; the other owners share the rest in turn.
    Finished jobs have every chunk done, others a random few; chunk ``n`` of job ``i`` says
    ``chunk_texts[(i + n) % len(chunk_texts)]``."""
    statuses, weights = zip(*status_weights, strict=True)
    jobs, chunks = [], []
    for i in indexes:
        job_id = f"{rng.getrandbits(128):032x}"
        created = start + i * step
        status = rng.choices(statuses, weights)[0]
        finished = status in FINISHED
        count = rng.randint(1, max_chunks)
        texts = [chunk_texts[(i + n) % len(chunk_texts)] for n in range(count)]
        done = count if finished else rng.randint(0, count - 1)
        mine = i < own_first or i % 2 == 0
        jobs.append(
            {
                "id": job_id,
                "owner": owners[0] if mine else owners[1 + (i // 2) % (len(owners) - 1)],
                "status": status.value,
                "voice": "af_heart",
                "speed": 1.0,
                "lang": "en-us",
                "format": "mp3",
                "priority": 0,
                "chunks_total": count,
                "chunks_done": done,
                "chars_total": sum(len(t) for t in texts),
                "chars_done": sum(len(t) for t in texts[:done]),
                "created_at": created,
                "started_at": created + timedelta(seconds=1)
                if status != JobStatus.QUEUED
                else None,
                "finished_at": created + timedelta(seconds=30) if finished else None,
                "updated_at": created + timedelta(seconds=30),
                "audio_key": f"jobs/{job_id}/audio.mp3" if status == JobStatus.SUCCEEDED else None,
                "error": "chunk 0 failed: boom" if status == JobStatus.FAILED else None,
                "callback_attempts": 0,
            }
        )
        for n, chunk_text in enumerate(texts):
            chunks.append(
                {
                    "job_id": job_id,
                    "index": n,
                    "chapter": 0,
                    "text": chunk_text,
                    "chars": len(chunk_text),
                    "pause_after": "paragraph" if n < count - 1 else "none",
                    "status": (ChunkStatus.DONE if n < done else ChunkStatus.QUEUED).value,
                    "attempts": 1 if n < done else 0,
                    "requeues": 0,
                    "done_seq": n + 1 if n < done else None,
                    "audio_key": f"chunks/{job_id}/{n:06d}.flac" if n < done else None,
                    "audio_seconds": 3.0 if n < done else None,
                    "finished_at": created + timedelta(seconds=5 * n) if n < done else None,
                }
            )
    return jobs, chunks


def key_rows(rng: random.Random, count: int, created_at: datetime) -> list[dict]:
    """API key rows of clients without jobs (hashes of keys nobody holds): a service with many
    clients, whose key lookup must stay an index search."""
    return [
        {
            "id": f"{rng.getrandbits(128):032x}",
            "name": f"client {n}",
            "key_hash": hash_key(f"kq_nobody_{n}_{rng.getrandbits(64):016x}"),
            "prefix": f"kq_n{n}",
            "created_at": created_at,
        }
        for n in range(count)
    ]


def insert_rows(
    url: str, jobs: Sequence[dict] = (), chunks: Sequence[dict] = (), keys: Sequence[dict] = ()
) -> None:
    """Insert the rows in one transaction, then refresh the planner's statistics."""
    engine = get_engine(url)
    with engine.begin() as connection:
        for table, rows in ((Job, jobs), (Chunk, chunks), (ApiKey, keys)):
            for first in range(0, len(rows), BATCH):
                connection.execute(table.__table__.insert(), rows[first : first + BATCH])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            # What autovacuum does after a bulk load: statistics, and the visibility map that
            # index-only scans (a count that reads the index alone) need
            for table in ("jobs", "chunks", "api_keys"):
                connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
        else:
            connection.exec_driver_sql("ANALYZE")
