"""What the API load benchmark sends and stores: its sentences, and its mix of fake jobs
inserted straight into the database (through tests/support/seeding.py)."""

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from core.jobs.states import JobStatus
from tests.support.seeding import job_rows

SENTENCES = [
    "The lamp by the window had burned all night.",
    "She folded the letter twice and put it away.",
    "Rain came in from the west before noon.",
    "Nobody on the platform seemed to notice the train.",
    "He counted the steps on the way down, as always.",
]
OWNER_KEYS = 10  # phase C: the measured key owns the first 100 jobs and every other one after
MORE_KEYS = 990  # clients without jobs: a thousand keys in all, as a service with many has
STATUS_WEIGHTS = [
    (JobStatus.SUCCEEDED, 0.93),
    (JobStatus.FAILED, 0.04),
    (JobStatus.CANCELLED, 0.02),
    (JobStatus.RUNNING, 0.005),
    (JobStatus.QUEUED, 0.005),
]


def fake_jobs(
    rng: random.Random,
    indexes: Iterable[int],
    owners: list[str],
    total: int,
    start: datetime,
    status_weights=STATUS_WEIGHTS,
    own_first: int = 0,
) -> tuple[list[dict], list[dict]]:
    """``total`` jobs' worth spread over 30 days from ``start``, 1 to 5 chunks each of three
    sentences; ``owners[0]``'s are the first ``own_first`` and every other one after."""
    return job_rows(
        rng,
        indexes,
        owners,
        start=start,
        step=timedelta(days=30) / total,
        status_weights=status_weights,
        max_chunks=5,
        chunk_texts=[sentence * 3 for sentence in SENTENCES],
        own_first=own_first,
    )
