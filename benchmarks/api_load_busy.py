"""Phases A, B and D of the API load benchmark, on stacks that keep synthesizing: status polls
open loop on idle and then busy workers (A0, A), a burst of submissions from many API keys (B),
and status polls on the default stack (D: SQLite, one API process)."""

import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.api_load_data import SENTENCES, fake_jobs
from benchmarks.api_load_report import say
from benchmarks.cpu_accounting import ProcessTimes, cpu_used, nice_levels
from benchmarks.fresh_databases import redact
from benchmarks.load_generator import open_loop, submit_many, threaded_open_loop
from benchmarks.throughput import PROSE, ServiceUnderTest
from core.jobs.states import JobStatus
from core.text.sentences import normalize_text
from tests.support.queues import drop_queue
from tests.support.seeding import insert_rows

B_KEYS = 20  # phase B's clients: 500 jobs each, under the default quota of 1000 per key


def sentence_job(index: int) -> dict:
    """Phase B's ``index``-th submission: one sentence."""
    return {"text": f"{SENTENCES[index % len(SENTENCES)]} Number {index}."}


def measure_under_synthesis(args, data_dir: Path, database_url: str) -> dict:
    """Phases A and B on one stack with default settings."""
    overrides = {"api_workers": args.api_workers} if args.api_workers else {}
    say(f"starting API + worker on {redact(database_url)}")
    service = ServiceUnderTest(
        data_dir, args.redis_url, database_url=database_url, settings=overrides
    )
    try:
        text_ = normalize_text(PROSE.read_text(encoding="utf-8"))
        result = poll_phases(args, service, "\n\n".join([text_] * args.book_copies))
        http = service.http
        # Phase B's clients: API keys made the way `kokoro-queue keys create` makes them (from
        # now on every request needs one, which the API checks per request)
        from storage.api_keys import create_key
        from storage.db import transaction

        with transaction(database_url) as session:
            keys = [create_key(session, f"client {n}").key for n in range(B_KEYS)]
        http.headers["Authorization"] = f"Bearer {keys[0]}"
        say(
            f"B: {args.jobs} one-sentence jobs from {B_KEYS} keys, {args.concurrency} in flight, "
            "synthesizing"
        )
        accepted = measured(
            lambda: submit_many(
                service.url,
                args.jobs,
                args.concurrency,
                keys,
                sentence_job,
                args.requests_per_connection,
            ),
            service,
            http,
        )
        accepted["keys"] = B_KEYS
        accepted["left_queued"] = "discarded with the stack: its queue deleted, database dropped"
        say(f"B: {json.dumps(accepted)}")
        result["accept"] = accepted
    finally:
        stop(service, args.redis_url)
    result["settings"] = stack_settings(service)
    return result


def measure_default_stack(args, data_dir: Path) -> dict:
    """Phase D: status polls from ``args.client_threads`` client threads on the stack
    `kokoro-queue up` starts with nothing configured (SQLite in the data dir, one API process,
    the default workers) while it synthesizes a book of ``args.default_book_chars``
    characters."""
    say("D: starting the default stack (SQLite, one API process)")
    (data_dir / "default").mkdir()
    service = ServiceUnderTest(data_dir / "default", args.redis_url, settings={"api_workers": 1})
    try:
        prose = normalize_text(PROSE.read_text(encoding="utf-8"))
        copies = -(-args.default_book_chars // len(prose))
        book = "\n\n".join([prose] * copies)[: args.default_book_chars]
        result = poll_phases(args, service, book.rsplit(" ", 1)[0], args.client_threads)
    finally:
        stop(service, args.redis_url)
    result["settings"] = stack_settings(service)
    return result


def poll_phases(args, service: ServiceUnderTest, book_text: str, threads: int = 0) -> dict:
    """A0 (status polls on idle workers) and A (the same while ``book_text`` keeps every worker
    process synthesizing) on a running stack: from the asyncio generator, or from ``threads``
    client threads."""

    def polls(paths: list[str], seconds: float) -> dict:
        if threads:
            return threaded_open_loop(service.url, paths, args.rate, seconds, threads)
        return open_loop(service.url, paths, args.rate, seconds, args.requests_per_connection)

    result: dict = {}
    http = service.http
    worker_pid = dict(service.stack.children)["worker"].pid
    # Every worker child has loaded its model once a job has gone through
    warm = http.post("/v1/jobs", json={"text": "Ready."}).json()["id"]
    while http.get(f"/v1/jobs/{warm}").json()["status"] != "succeeded":
        time.sleep(0.5)
    # Finished jobs to poll, inserted directly: the workers stay idle for A0
    seeded, _ = fake_jobs(
        random.Random(1),
        range(args.poll_jobs),
        ["", ""],
        args.poll_jobs,
        datetime.now(UTC) - timedelta(days=31),
        status_weights=[(JobStatus.SUCCEEDED, 1.0)],
    )
    insert_rows(service.settings.sqlalchemy_url, seeded)
    paths = [f"/v1/jobs/{job['id']}" for job in seeded]
    say(f"A0: {args.rate:.0f} req/s of status polls for {args.idle_seconds:.0f} s, idle workers")
    result["idle"] = measured(lambda: polls(paths, args.idle_seconds), service)
    say(f"A0: {json.dumps(result['idle'])}")

    book = http.post("/v1/jobs", json={"text": book_text}).json()
    live = [book["id"]] + [
        http.post("/v1/jobs", json={"text": f"{SENTENCES[i % 5]} Poll {i}."}).json()["id"]
        for i in range(10)
    ]
    # The live jobs are polled too, in place of as many finished ones
    paths[: len(live)] = [f"/v1/jobs/{job_id}" for job_id in live]
    # Busy: the book's first chunks are running on every worker process
    while http.get(paths[0]).json()["progress"]["chunks_done"] < 2:
        time.sleep(0.5)
    say(
        f"book of {book['progress']['chars_total']} characters synthesizing; worker children "
        f"at nice {nice_levels(worker_pid)}"
    )
    say(f"A: {args.rate:.0f} req/s of status polls for {args.duration:.0f} s, synthesizing")
    busy = measured(lambda: polls(paths, args.duration), service, http)
    say(f"A: {json.dumps(busy)}")
    if busy["synthesis"]["chunks_finished_in_window"] == 0:
        raise RuntimeError("no chunk finished during phase A: the workers were not busy")
    busy["book_chars"] = book["progress"]["chars_total"]
    result["synthesizing"] = busy
    return result


def stop(service: ServiceUnderTest, redis_url: str) -> None:
    say("stopping the stack")
    service.stop()
    dropped = drop_queue(redis_url, service.settings.queue)
    say(f"deleted {dropped} Redis keys of queue {service.settings.queue}")


def stack_settings(service: ServiceUnderTest) -> dict:
    return {
        "api_workers": service.settings.api_workers,
        "worker_concurrency": service.settings.worker_concurrency,
        "onnx_threads": service.settings.threads_per_child,
        "worker_nice": service.settings.worker_nice,
        "worker_sched_idle": service.settings.worker_sched_idle,
        "database": "SQLite" if service.settings.sqlalchemy_url.startswith("sqlite") else "other",
    }


def measured(run, service, http: httpx.Client | None = None) -> dict:
    """``run()``'s figures, with the CPU cores each part used meanwhile and, given the API
    client, the chunks the workers finished."""
    children = dict(service.stack.children)
    trees = {"api": children["api"].pid}
    if "worker" in children:
        trees["workers"] = children["worker"].pid
    since = datetime.now(UTC)
    before = ProcessTimes.now()
    figures = run()
    after = ProcessTimes.now()
    until = datetime.now(UTC)
    figures["cpu_cores_used"] = cpu_used(before, after, trees)
    if http is not None:
        stats = http.get(
            "/v1/stats", params={"since": since.isoformat(), "until": until.isoformat()}
        ).json()
        figures["synthesis"] = {
            "chunks_finished_in_window": stats["chunks_done"],
            "chars_per_second": stats["chars_per_second"],
            "worker_processes_finishing_chunks": len(stats["workers"]),
        }
    return figures
