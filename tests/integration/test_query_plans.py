"""The queries behind every API request read ``jobs`` through indexes: the status
poll, the list with and without ``?status=`` and its next page, the per-key quota count of
``POST /v1/jobs`` and the key lookup, on SQLite and, when KQ_TEST_POSTGRES_URL is set,
PostgreSQL. The statements are the ones storage's own functions send (captured at the driver),
explained on a migrated database with enough rows that the planner prefers indexes where they
help. No model, no workers: a few seconds.

Each backend gets a fresh database of its own rather than the session's ``database_url``: the
rows inserted here include unfinished jobs, which the reconciler of a stack sharing that
database would try to send to its workers.
"""

import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.jobs.states import JobStatus
from storage.api_keys import create_key
from storage.db import get_engine, session_factory, transaction
from storage.job_queries import list_jobs
from storage.migrate import upgrade
from storage.models import Job
from tests.support.query_plans import (
    explain,
    hot_queries,
    last_statement,
    plan_problems,
    uses_index,
)
from tests.support.seeding import insert_rows, job_rows, key_rows
from tests.support.stack import backends, postgres_database

JOBS = 5000
OTHER_KEYS = 1000  # enough keys that the lookup by hash is an index search on PostgreSQL too
STATUSES = [
    (JobStatus.SUCCEEDED, 0.86),
    (JobStatus.FAILED, 0.05),
    (JobStatus.CANCELLED, 0.03),
    (JobStatus.RUNNING, 0.01),
    (JobStatus.QUEUED, 0.05),
]
TIE_JOB = {  # a job of the pagination test, less its id, owner and time
    "status": JobStatus.SUCCEEDED.value,
    "voice": "af_heart",
    "speed": 1.0,
    "lang": "en-us",
    "format": "mp3",
    "priority": 0,
    "chunks_total": 1,
    "chunks_done": 1,
    "chars_total": 10,
    "chars_done": 10,
    "updated_at": datetime(2026, 6, 1, tzinfo=UTC),
    "callback_attempts": 0,
}


@pytest.fixture(scope="module", params=backends())
def seeded(request, tmp_path_factory) -> Iterator[tuple[str, str, str, list[str]]]:
    """(url, owner, its key, its job ids oldest first) on a fresh migrated database."""
    if request.param == "sqlite":
        urls = iter([f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.db'}"])
    else:
        urls = postgres_database(os.environ["KQ_TEST_POSTGRES_URL"])  # dropped afterwards
    for url in urls:
        try:
            yield seed(url)
        finally:
            get_engine(url).dispose()


def seed(url: str) -> tuple[str, str, str, list[str]]:
    """``JOBS`` jobs of two owners with 1 to 3 chunks each, ``OTHER_KEYS`` more keys, and
    fresh statistics."""
    upgrade(url)
    with transaction(url) as session:
        created = create_key(session, "measured")
        owner, key = created.row.id, created.key
        other = create_key(session, "other").row.id
    rng = random.Random(8)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    jobs, chunks = job_rows(
        rng,
        range(JOBS),
        [owner, other],
        start=start,
        step=timedelta(seconds=37),
        status_weights=STATUSES,
        max_chunks=3,
        chunk_texts=["A sentence of about forty characters...."],
    )
    insert_rows(url, jobs, chunks, key_rows(rng, OTHER_KEYS, start))
    mine = [job["id"] for job in jobs if job["owner"] == owner]
    return url, owner, key, mine


def plans_of(url: str, owner: str, key: str, mine: list[str]) -> tuple[str, dict]:
    queries = hot_queries(
        owner=owner,
        job_id=mine[len(mine) // 3],
        cursor_job_id=mine[-50],
        status=JobStatus.QUEUED.value,
        api_key=key,
    )
    with session_factory(url, readonly=True)() as session:
        dialect = session.connection().dialect.name
        return dialect, {
            name: explain(session, last_statement(session, call)) for name, call in queries.items()
        }


def test_status_list_and_quota_queries_read_jobs_through_indexes(seeded):
    dialect, plans = plans_of(*seeded)
    checked = [name for name in plans if not name.startswith("auth")]
    assert len(checked) == 5
    for name in checked:
        plan = plans[name]
        shown = "\n".join(plan)
        assert uses_index(plan, dialect), f"{name} reads jobs without an index:\n{shown}"
        assert not plan_problems(plan, dialect), f"{name} scans or sorts jobs:\n{shown}"


def test_list_by_status_uses_the_owner_status_index(seeded):
    # Without it a rare status means reading the owner's jobs until 50 match, or every job in
    # that status of every owner and a sort
    _, plans = plans_of(*seeded)
    for name in ("list: list_jobs(limit=50, status=queued)", "quota: unfinished_jobs"):
        assert any("ix_jobs_owner_status_created_at_id" in line for line in plans[name]), (
            name + ":\n" + "\n".join(plans[name])
        )


def test_next_page_is_an_index_range_not_a_filter(seeded):
    # The cursor's row comparison bounds the index scan: a deep page costs what the first does
    dialect, plans = plans_of(*seeded)
    plan = plans["list: list_jobs(limit=50, cursor)"]
    if dialect == "postgresql":
        bounds = [line for line in plan if "Index Cond:" in line]
        assert any("ROW(created_at, (id)::text) < ROW(" in line for line in bounds), plan
    else:
        assert any("(created_at,id)<(?,?)" in line.replace(" ", "") for line in plan), plan


def test_key_lookup_searches_the_hash_index(seeded):
    dialect, plans = plans_of(*seeded)
    plan = plans["auth: active_key"]
    assert uses_index(plan, dialect, table="api_keys"), "\n".join(plan)
    assert not plan_problems(plan, dialect, table="api_keys"), "\n".join(plan)


def test_pages_walk_every_job_once_newest_first_across_equal_times(seeded):
    # The row comparison pages exactly like the OR of the two comparisons it replaces
    url = seeded[0]
    owner = "ties"
    at = [datetime(2026, 6, 1, tzinfo=UTC) + timedelta(microseconds=n) for n in (0, 0, 1)]
    rows = [
        {**row, "id": f"{n:032x}", "owner": owner, "created_at": at[n % 3]}
        for n, row in enumerate([TIE_JOB] * 23)
    ]
    with get_engine(url).begin() as connection:
        connection.execute(Job.__table__.insert(), rows)
    expected = [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]))][::-1]
    seen, cursor = [], None
    with session_factory(url, readonly=True)() as session:
        while True:
            page, cursor = list_jobs(session, owner=owner, limit=5, cursor=cursor)
            seen += [job.id for job in page]
            if cursor is None:
                break
    assert seen == expected
