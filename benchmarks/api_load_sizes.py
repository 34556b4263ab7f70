"""Phase C of the API load benchmark: the same requests against a database of 100 and of
100,000 jobs, through an API process of its own (no worker), with the plans of the exact
queries behind them (captured from storage's functions at the driver)."""

import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.api_load_data import MORE_KEYS, OWNER_KEYS, fake_jobs
from benchmarks.api_load_report import say
from benchmarks.fresh_databases import fresh_database
from benchmarks.load_generator import summarize
from benchmarks.throughput import ServiceUnderTest
from core.jobs.states import JobStatus
from tests.support.seeding import insert_rows, key_rows

LIST_STATUS = JobStatus.QUEUED  # a rare status: the case an index on status must carry
COMMON_STATUS = JobStatus.SUCCEEDED  # a full page at either size


def request_medians(http: httpx.Client, requests: dict[str, list[str]], rounds: int) -> dict:
    """Median and p95 of each kind of request, sent one at a time, kinds interleaved; with the
    jobs a list answer holds (the page's size weighs more than the table's)."""
    rows = {}
    for name, paths in requests.items():
        for path in paths[:20]:
            answer = http.get(path)  # warm-up
        body = answer.json()
        rows[name] = len(body["jobs"]) if "jobs" in body else 1
    times: dict[str, list[float]] = {name: [] for name in requests}
    for r in range(rounds):
        for name, paths in requests.items():
            started = time.perf_counter()
            response = http.get(paths[r % len(paths)])
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
            times[name].append(elapsed)
    return {
        name: {
            "median_ms": round(statistics.median(values) * 1000, 2),
            "p95_ms": summarize(values)["p95_ms"],
            "jobs_in_answer": rows[name],
        }
        for name, values in times.items()
    }


def plans(url: str, owner: str, job_ids: list[str], key: str) -> dict:
    from storage.db import session_factory
    from tests.support.query_plans import (
        explain,
        hot_queries,
        last_statement,
        plan_problems,
        uses_index,
    )

    result = {}
    with session_factory(url, readonly=True)() as session:
        dialect = session.connection().dialect.name
        queries = hot_queries(
            owner=owner,
            job_id=job_ids[len(job_ids) // 3],
            cursor_job_id=job_ids[-50],
            status=LIST_STATUS.value,
            api_key=key,
        )
        for name, call in queries.items():
            statement = last_statement(session, call)
            plan = explain(session, statement, analyze=True)
            table = "api_keys" if name.startswith("auth") else "jobs"
            result[name] = {
                "sql": " ".join(statement.sql.split()),
                "plan": plan,
                "index": uses_index(plan, dialect, table),
                "problems": plan_problems(plan, dialect, table),
            }
    return result


def measure_sizes(args, data_dir: Path, server: str | None) -> dict:
    from storage.api_keys import create_key
    from storage.db import session_factory, transaction
    from storage.job_queries import encode_cursor
    from storage.migrate import upgrade
    from storage.models import Job

    result: dict = {}
    with fresh_database(server, data_dir, "sizes") as url:
        upgrade(url)
        with transaction(url) as session:
            keys = [create_key(session, f"bench {n}") for n in range(OWNER_KEYS)]
            owners = [k.row.id for k in keys]
        key = keys[0].key
        rng = random.Random(8)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        insert_rows(url, keys=key_rows(random.Random(MORE_KEYS), MORE_KEYS, datetime.now(UTC)))
        service = None
        inserted = total_chunks = 0
        try:
            for size in args.sizes:
                say(f"C: inserting jobs {inserted}..{size} (1-5 chunks each)")
                jobs, chunks = fake_jobs(
                    rng,
                    range(inserted, size),
                    owners,
                    max(args.sizes),
                    start,
                    own_first=args.sizes[0],
                )
                insert_rows(url, jobs, chunks)
                inserted = size
                if service is None:
                    service = ServiceUnderTest(
                        data_dir, args.redis_url, database_url=url, worker=False
                    )
                    service.http.headers["Authorization"] = f"Bearer {key}"
                with session_factory(url, readonly=True)() as session:
                    mine = list(
                        session.scalars(
                            Job.__table__.select()
                            .with_only_columns(Job.id)
                            .where(Job.owner == owners[0])
                            .order_by(Job.created_at.desc(), Job.id.desc())
                        )
                    )
                    second = session.get(Job, mine[49])
                    cursor = encode_cursor(second)
                sample = random.Random(size).sample(mine, min(200, len(mine)))
                requests = {
                    "GET /v1/jobs/{id}": [f"/v1/jobs/{job_id}" for job_id in sample],
                    "GET /v1/jobs?limit=50": ["/v1/jobs?limit=50"],
                    "GET /v1/jobs?limit=50&cursor=(page 2)": [f"/v1/jobs?limit=50&cursor={cursor}"],
                    f"GET /v1/jobs?limit=50&status={COMMON_STATUS.value}": [
                        f"/v1/jobs?limit=50&status={COMMON_STATUS.value}"
                    ],
                    f"GET /v1/jobs?limit=50&status={LIST_STATUS.value}": [
                        f"/v1/jobs?limit=50&status={LIST_STATUS.value}"
                    ],
                }
                say(f"C: {size} jobs ({len(mine)} of the measured key's): timing requests")
                latency = request_medians(service.http, requests, args.rounds)
                explained = plans(url, owners[0], mine, key)
                for name, value in latency.items():
                    say(f"C: {size:>6} jobs  {name:<45} median {value['median_ms']} ms")
                for name, plan in explained.items():
                    say(
                        f"C: {size:>6} jobs  plan of {name}: index={plan['index']} "
                        f"problems={plan['problems']}"
                    )
                    for line in plan["plan"]:
                        print(f"      {line}", flush=True)
                total_chunks += len(chunks)
                result[str(size)] = {
                    "jobs": size,
                    "chunks": total_chunks,
                    "measured_key_jobs": len(mine),
                    "latency": latency,
                    "plans": explained,
                }
        finally:
            if service is not None:
                service.stop()
    small, large = (result[str(s)] for s in (args.sizes[0], args.sizes[-1]))
    result["ratios"] = {
        name: round(large["latency"][name]["median_ms"] / small["latency"][name]["median_ms"], 2)
        for name in small["latency"]
    }
    return result
