"""API load benchmark (issue 8): an API that stays fast while every core synthesizes.

(A) status polls: ``GET /v1/jobs/{id}`` at a fixed arrival rate (open loop: each request goes
    out at its scheduled time whether or not earlier ones have answered, and its latency counts
    from that time, so a stalled server cannot hide behind a waiting client) across a few
    hundred jobs, first on idle workers, then while a long book keeps every worker process
    synthesizing (checked: chunks finished in the window, CPU time of each process);
(B) acceptance: 10,000 one-sentence ``POST /v1/jobs`` from 20 API keys with 32 requests in
    flight, on the same stack while it keeps synthesizing; the jobs stay queued behind the book
    and are thrown away with the stack (its queue is deleted from Redis, its database dropped);
(C) the database with 100 and with 100,000 jobs (1 to 5 chunks each, inserted directly):
    status and list latency through an API process of their own (no worker), and the plans of
    the exact queries behind them (captured from storage's functions at the driver).

Default database: a fresh PostgreSQL database on postgresql+psycopg://root@127.0.0.1:5432 when
it answers (created and dropped here), else SQLite in the temporary data dir. The stack runs 2
API processes (``--api-workers``). Writes benchmarks/results/api_load.json and the README table.

    .venv/bin/python benchmarks/api_load.py [--database-url URL|sqlite] [--duration 30]
"""

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from throughput import PROSE, ServiceUnderTest, cores, save_results  # noqa: E402

from core.queue import drop_queue  # noqa: E402
from core.states import ChunkStatus, JobStatus  # noqa: E402
from core.text import normalize_text  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "api_load.json"
DEFAULT_POSTGRES = "postgresql+psycopg://root@127.0.0.1:5432/postgres"
TARGET_P99_MS = 25.0
TARGET_JOBS_PER_S = 200.0
SENTENCES = [
    "The lamp by the window had burned all night.",
    "She folded the letter twice and put it away.",
    "Rain came in from the west before noon.",
    "Nobody on the platform seemed to notice the train.",
    "He counted the steps on the way down, as always.",
]


def say(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# --- databases --------------------------------------------------------------------------------


def postgres_answers(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # any driver or connection error: no PostgreSQL here
        return False


@contextmanager
def fresh_database(server: str | None, tmp: Path, tag: str) -> Iterator[str]:
    """A new empty database: on the PostgreSQL server ``server`` (dropped afterwards), or a
    SQLite file in ``tmp`` when ``server`` is None."""
    if server is None:
        yield f"sqlite:///{tmp / f'{tag}.db'}"
        return
    name = f"kq_bench_{tag}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        from storage.db import get_engine

        get_engine(make_url(server).set(database=name).render_as_string(False)).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- CPU accounting (Linux /proc) -------------------------------------------------------------


@dataclass(frozen=True)
class ProcessTimes:
    """CPU seconds so far of every process (Linux /proc), with parents and names."""

    at: float
    busy: float  # the whole machine's
    cpu: dict[int, float]
    parent: dict[int, int]
    name: dict[int, str]

    @classmethod
    def now(cls) -> "ProcessTimes":
        tick = os.sysconf("SC_CLK_TCK")
        cpu, parent, name = {}, {}, {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            head, rest = raw.rsplit(")", 1)
            fields = rest.split()
            pid = int(entry.name)
            cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
            parent[pid] = int(fields[1])
            name[pid] = head.split("(", 1)[1]
        totals = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        busy = sum(int(v) for k, v in enumerate(totals[:8]) if k not in (3, 4)) / tick
        return cls(time.monotonic(), busy, cpu, parent, name)

    def tree(self, pid: int) -> set[int]:
        found, frontier = set(), [pid]
        while frontier:
            current = frontier.pop()
            found.add(current)
            frontier.extend(p for p, parent in self.parent.items() if parent == current)
        return found


def cpu_used(before: ProcessTimes, after: ProcessTimes, trees: dict[str, int]) -> dict:
    """Cores used between two snapshots by each named process tree, by this process (the load
    generator), by the database and Redis, and by everything else on the machine (the
    heaviest named: other people's work skews the figures)."""
    window = after.at - before.at
    used = {
        pid: after.cpu[pid] - before.cpu.get(pid, 0.0)
        for pid in after.cpu
        if after.cpu[pid] - before.cpu.get(pid, 0.0) > 0
    }
    result, claimed = {}, set()
    for label, pids in [
        *((label, after.tree(pid) | before.tree(pid)) for label, pid in trees.items()),
        ("load generator", {os.getpid()}),
    ]:
        claimed |= pids
        result[label] = round(sum(used.get(p, 0.0) for p in pids) / window, 2)
    services = {p for p in used if after.name[p] in ("postgres", "redis-server")} - claimed
    result["database + Redis"] = round(sum(used[p] for p in services) / window, 2)
    others = {p: used[p] for p in used if p not in claimed | services}
    result["everything else"] = round(sum(others.values()) / window, 2)
    result["idle"] = round(max(0.0, cores() - (after.busy - before.busy) / window), 2)
    heaviest = sorted(others, key=others.get, reverse=True)[:3]
    result["heaviest other processes"] = [
        f"{after.name[p]} ({others[p] / window:.2f})"
        for p in heaviest
        if others[p] / window >= 0.02
    ]
    return result


def nice_levels(pid: int) -> list[int]:
    """Nice values of ``pid``'s descendants (the worker pool children)."""
    levels = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                rest = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(rest[1]) == pid:
                levels.append(int(rest[16]))
    return levels


# --- load generators --------------------------------------------------------------------------


def summarize(latencies_s: list[float]) -> dict:
    if not latencies_s:
        return {"count": 0}
    ordered = sorted(latencies_s)

    def pct(q: float) -> float:
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return round(ordered[rank] * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends prepared requests and reads
    Content-Length responses: a few tens of microseconds a request, where httpx's async client
    takes milliseconds, so that the load generator does not take the API's CPU."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.sent = 0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        marker = head.find(b"content-length:")
        if marker < 0:
            self.waiter.set_exception(RuntimeError("response without Content-Length"))
            return
        length = int(head[marker + 15 : head.find(b"\r\n", marker)].strip() or b"0")
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        self.waiter.set_result(int(head[9:12]))

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    async def send(self, raw: bytes) -> int:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


class _Pool:
    """Idle connections to one host; a request with none idle opens another (an open-loop
    generator never waits for a connection). A connection is closed after
    ``requests_per_connection`` requests, as many clients come and go: with several API
    processes on one port, connections opened together can all land on one process, and new
    ones spread the load."""

    def __init__(self, base_url: str, requests_per_connection: int = 0) -> None:
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port
        self.idle: list[_Connection] = []
        self.opened = 0
        self.limit = requests_per_connection

    async def request(self, raw: bytes) -> int:
        connection = self.idle.pop() if self.idle else None
        if connection is None or connection.closed:
            loop = asyncio.get_running_loop()
            _, connection = await loop.create_connection(_Connection, self.host, self.port)
            self.opened += 1
        status = await connection.send(raw)
        connection.sent += 1
        if self.limit and connection.sent >= self.limit:
            connection.transport.close()
        else:
            self.idle.append(connection)
        return status

    def close(self) -> None:
        for connection in self.idle:
            connection.transport.close()


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def post_request(path: str, body: dict, key: str) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _open_loop(
    base_url: str, paths: list[str], rate: float, duration_s: float, per_connection: int
) -> dict:
    """``rate`` requests a second for ``duration_s``, each sent at its scheduled time; latency
    counts from that time to the end of the response body."""
    count = int(rate * duration_s)
    latencies: list[float | None] = [None] * count
    send_lag: list[float] = [0.0] * count
    errors: dict[str, int] = {}
    requests = [get_request(path) for path in paths]
    pool = _Pool(base_url, per_connection)
    clock = time.perf_counter  # uvloop's loop.time() counts whole milliseconds

    async def one(i: int, scheduled: float) -> None:
        send_lag[i] = clock() - scheduled
        try:
            status = await pool.request(requests[i % len(requests)])
        except (OSError, RuntimeError) as error:
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            return
        if status != 200:
            errors[str(status)] = errors.get(str(status), 0) + 1
            return
        latencies[i] = clock() - scheduled

    # Open some connections first, outside the measurement
    await asyncio.gather(*(pool.request(requests[i % len(requests)]) for i in range(16)))
    cpu_before = time.process_time()
    start = clock() + 0.2
    tasks = []
    for i in range(count):
        scheduled = start + i / rate
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = clock() - start
    pool.close()
    done = [latency for latency in latencies if latency is not None]
    return {
        "target_rate": rate,
        "duration_s": duration_s,
        "requests": count,
        "achieved_rate": round(len(done) / elapsed, 1),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "max_send_lag_ms": round(max(send_lag) * 1000, 2),
        "connections": pool.opened,
        "generator_cpu_cores": round((time.process_time() - cpu_before) / elapsed, 2),
        **summarize(done),
    }


def run_async(coroutine):
    """Run a load generator: on uvloop when installed, without the garbage collector's pauses
    (tens of milliseconds with thousands of tasks alive), which would count as the server's."""
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    gc.collect()
    gc.disable()
    try:
        return run(coroutine)
    finally:
        gc.enable()


def open_loop(
    base_url: str, paths: list[str], rate: float, duration_s: float, per_connection: int = 0
) -> dict:
    return run_async(_open_loop(base_url, paths, rate, duration_s, per_connection))


async def _submit_many(
    base_url: str, count: int, concurrency: int, keys: list[str], per_connection: int
) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    next_index = 0
    pool = _Pool(base_url, per_connection)
    clock = time.perf_counter

    async def submitter() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            body = {"text": f"{SENTENCES[index % len(SENTENCES)]} Number {index}."}
            started = clock()
            try:
                key = keys[index % len(keys)]
                status = await pool.request(post_request("/v1/jobs", body, key))
            except (OSError, RuntimeError) as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                continue
            if status == 202:
                latencies.append(clock() - started)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1

    cpu_before = time.process_time()
    started = clock()
    await asyncio.gather(*(submitter() for _ in range(concurrency)))
    elapsed = clock() - started
    pool.close()
    return {
        "jobs": count,
        "concurrency": concurrency,
        "accepted": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "wall_s": round(elapsed, 2),
        "accepted_per_s": round(len(latencies) / elapsed, 1),
        "generator_cpu_cores": round((time.process_time() - cpu_before) / elapsed, 2),
        **summarize(latencies),
    }


def submit_many(
    base_url: str, count: int, concurrency: int, keys: list[str], per_connection: int = 0
) -> dict:
    return run_async(_submit_many(base_url, count, concurrency, keys, per_connection))


# --- (A) and (B): one stack that keeps synthesizing -------------------------------------------


B_KEYS = 20  # phase B's clients: 500 jobs each, under the default quota of 1000 per key


def measure_under_synthesis(args, data_dir: Path, database_url: str) -> dict:
    """Phases A and B on one stack with default settings."""
    overrides = {"api_workers": args.api_workers} if args.api_workers else {}
    say(f"starting API + worker on {redact(database_url)}")
    service = ServiceUnderTest(
        data_dir, args.redis_url, database_url=database_url, settings=overrides
    )
    result: dict = {}
    try:
        http = service.http
        worker_pid = dict(service.stack.children)["worker"].pid
        # Every worker child has loaded its model once a job has gone through
        warm = http.post("/v1/jobs", json={"text": "Ready."}).json()["id"]
        while http.get(f"/v1/jobs/{warm}").json()["status"] != "succeeded":
            time.sleep(0.5)
        # Finished jobs to poll, inserted directly: the workers stay idle for A0
        seeded, _ = job_rows(
            random.Random(1),
            range(args.poll_jobs),
            ["", ""],
            args.poll_jobs,
            datetime.now(UTC) - timedelta(days=31),
            status_weights=[(JobStatus.SUCCEEDED, 1.0)],
        )
        insert_jobs(database_url, seeded, [])
        paths = [f"/v1/jobs/{job['id']}" for job in seeded]
        say(
            f"A0: {args.rate:.0f} req/s of status polls for {args.idle_seconds:.0f} s, idle workers"
        )
        result["idle"] = measured(
            lambda: open_loop(
                service.url, paths, args.rate, args.idle_seconds, args.requests_per_connection
            ),
            service,
        )
        say(f"A0: {json.dumps(result['idle'])}")

        text_ = normalize_text(PROSE.read_text(encoding="utf-8"))
        book = http.post("/v1/jobs", json={"text": "\n\n".join([text_] * args.book_copies)}).json()
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
        busy = measured(
            lambda: open_loop(
                service.url, paths, args.rate, args.duration, args.requests_per_connection
            ),
            service,
            http,
        )
        say(f"A: {json.dumps(busy)}")
        if busy["synthesis"]["chunks_finished_in_window"] == 0:
            raise RuntimeError("no chunk finished during phase A: the workers were not busy")
        result["synthesizing"] = busy

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
                service.url, args.jobs, args.concurrency, keys, args.requests_per_connection
            ),
            service,
            http,
        )
        accepted["keys"] = B_KEYS
        accepted["left_queued"] = "discarded with the stack: its queue deleted, database dropped"
        say(f"B: {json.dumps(accepted)}")
        result["accept"] = accepted
    finally:
        say("stopping the stack")
        service.stop()
        dropped = drop_queue(args.redis_url, service.settings.queue)
        say(f"deleted {dropped} Redis keys of queue {service.settings.queue}")
    result["settings"] = {
        "api_workers": service.settings.api_workers,
        "worker_concurrency": service.settings.worker_concurrency,
        "onnx_threads": service.settings.threads_per_child,
        "worker_nice": service.settings.worker_nice,
        "worker_sched_idle": service.settings.worker_sched_idle,
    }
    return result


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


def redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- (C) 100 vs 100,000 jobs ------------------------------------------------------------------

OWNER_KEYS = 10  # the measured key owns the first 100 jobs and every other one after
MORE_KEYS = 990  # clients without jobs: a thousand keys in all, as a service with many has
STATUS_WEIGHTS = [
    (JobStatus.SUCCEEDED, 0.93),
    (JobStatus.FAILED, 0.04),
    (JobStatus.CANCELLED, 0.02),
    (JobStatus.RUNNING, 0.005),
    (JobStatus.QUEUED, 0.005),
]
LIST_STATUS = JobStatus.QUEUED  # a rare status: the case an index on status must carry
COMMON_STATUS = JobStatus.SUCCEEDED  # a full page at either size


def job_rows(
    rng: random.Random,
    indexes: range,
    owners: list[str],
    total: int,
    start: datetime,
    status_weights=STATUS_WEIGHTS,
    own_first: int = 0,
):
    """Jobs spread over 30 days from ``start``, with their chunks: ``owners[0]``'s are the
    first ``own_first`` and every other one after, the other owners share the rest."""
    statuses, weights = zip(*status_weights, strict=True)
    step = timedelta(days=30) / total
    jobs, chunks = [], []
    for i in indexes:
        job_id = f"{rng.getrandbits(128):032x}"
        created = start + i * step
        status = rng.choices(statuses, weights)[0]
        finished = status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
        count = rng.randint(1, 5)
        texts = [SENTENCES[(i + n) % len(SENTENCES)] * 3 for n in range(count)]
        done = count if finished else rng.randint(0, count - 1)
        jobs.append(
            {
                "id": job_id,
                "owner": owners[0]
                if i < own_first or i % 2 == 0
                else owners[1 + (i // 2) % (len(owners) - 1)],
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
                    "audio_key": f"jobs/{job_id}/chunks/{n:06d}.flac" if n < done else None,
                    "audio_seconds": 3.0 if n < done else None,
                    "finished_at": created + timedelta(seconds=5 * n) if n < done else None,
                }
            )
    return jobs, chunks


def insert_jobs(url: str, jobs: list[dict], chunks: list[dict]) -> None:
    from storage.db import get_engine
    from storage.models import Chunk, Job

    engine = get_engine(url)
    with engine.begin() as connection:
        for start in range(0, len(jobs), 5000):
            connection.execute(Job.__table__.insert(), jobs[start : start + 5000])
        for start in range(0, len(chunks), 5000):
            connection.execute(Chunk.__table__.insert(), chunks[start : start + 5000])
    if engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load: statistics, and the visibility map that
        # index-only scans need
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE jobs")
            connection.exec_driver_sql("VACUUM ANALYZE chunks")
            connection.exec_driver_sql("VACUUM ANALYZE api_keys")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


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


def more_keys(count: int) -> list[dict]:
    """API key rows of clients without jobs (hashes of keys nobody holds)."""
    from storage.api_keys import hash_key

    now = datetime.now(UTC)
    return [
        {
            "id": uuid.uuid4().hex,
            "name": f"client {n}",
            "key_hash": hash_key(f"kq_nobody_{n}_{uuid.uuid4().hex}"),
            "prefix": f"kq_n{n}",
            "created_at": now,
        }
        for n in range(count)
    ]


def plans(url: str, owner: str, job_ids: list[str], key: str) -> dict:
    from storage.db import session_factory
    from storage.query_plans import explain, hot_queries, last_statement, plan_problems, uses_index

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
    from storage.db import transaction
    from storage.jobs import encode_cursor
    from storage.migrate import upgrade
    from storage.models import ApiKey, Job

    result: dict = {}
    with fresh_database(server, data_dir, "sizes") as url:
        upgrade(url)
        with transaction(url) as session:
            keys = [create_key(session, f"bench {n}") for n in range(OWNER_KEYS)]
            owners = [k.row.id for k in keys]
            session.execute(ApiKey.__table__.insert(), more_keys(MORE_KEYS))
        key = keys[0].key
        rng = random.Random(8)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        service = None
        inserted = total_chunks = 0
        try:
            for size in args.sizes:
                say(f"C: inserting jobs {inserted}..{size} (1-5 chunks each)")
                jobs, chunks = job_rows(
                    rng,
                    range(inserted, size),
                    owners,
                    max(args.sizes),
                    start,
                    own_first=args.sizes[0],
                )
                insert_jobs(url, jobs, chunks)
                inserted = size
                if service is None:
                    service = ServiceUnderTest(
                        data_dir, args.redis_url, database_url=url, worker=False
                    )
                    service.http.headers["Authorization"] = f"Bearer {key}"
                from storage.db import session_factory

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


# --- reporting --------------------------------------------------------------------------------


def cpu_line(figures: dict) -> str:
    cpu = dict(figures.get("cpu_cores_used") or {})
    heaviest = cpu.pop("heaviest other processes", [])
    line = "CPU cores used: " + ", ".join(f"{name} {value}" for name, value in cpu.items())
    return line + (f" (of which {', '.join(heaviest)})" if heaviest else "")


def readme_table(result: dict) -> str:
    a0, a, b = result["idle"], result["synthesizing"], result["accept"]
    c = result["sizes"]
    small, large = (str(s) for s in result["sizes_compared"])
    settings = result["settings"]
    met_a = a["p99_ms"] <= TARGET_P99_MS and not a["errors"]
    met_b = b["accepted_per_s"] >= TARGET_JOBS_PER_S and not b["errors"]
    lines = [
        f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, "
        f"{result['database']}; the API in {settings['api_workers']} process(es), "
        f"{settings['worker_concurrency']} worker processes × {settings['onnx_threads']} ONNX "
        f"thread at nice {settings['worker_nice']} (`KQ_WORKER_NICE`)"
        + (" under SCHED_IDLE (`KQ_WORKER_SCHED_IDLE`)." if settings["worker_sched_idle"] else "."),
        "",
        "| `GET /v1/jobs/{id}`, open loop | achieved /s | p50 ms | p95 ms | p99 ms | max ms "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| {a0['target_rate']:.0f}/s for {a0['duration_s']:.0f} s, idle workers | "
        f"{a0['achieved_rate']} | {a0['p50_ms']} | {a0['p95_ms']} | {a0['p99_ms']} | "
        f"{a0['max_ms']} | {a0['errors']} |",
        f"| **{a['target_rate']:.0f}/s for {a['duration_s']:.0f} s, every worker synthesizing** "
        f"| {a['achieved_rate']} | {a['p50_ms']} | {a['p95_ms']} | **{a['p99_ms']}** | "
        f"{a['max_ms']} | {a['errors']} |",
        "",
        f"- p99 while synthesizing: target ≤ {TARGET_P99_MS:.0f} ms, **"
        f"{'met' if met_a else 'NOT met'}**. Meanwhile "
        f"{a['synthesis']['worker_processes_finishing_chunks']} worker processes finished "
        f"{a['synthesis']['chunks_finished_in_window']} chunks "
        f"({a['synthesis']['chars_per_second']} chars/s); {cpu_line(a)}.",
        f"- `POST /v1/jobs`: {b['jobs']:,} one-sentence jobs from {b['keys']} API keys, "
        f"{b['concurrency']} requests in flight, every worker synthesizing: **"
        f"{b['accepted_per_s']} jobs/s accepted** (target ≥ {TARGET_JOBS_PER_S:.0f}, "
        f"{'met' if met_b else 'NOT met'}); latency p50 {b['p50_ms']} ms, p99 {b['p99_ms']} ms; "
        f"{b['errors']} errors; {cpu_line(b)}. The jobs stay queued behind the book and are "
        "discarded with the stack.",
        "",
        f"| one request at a time (median ms; jobs in the answer) | {int(small):,} jobs "
        f"| {int(large):,} jobs | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, ratio in c["ratios"].items():
        a_, b_ = c[small]["latency"][name], c[large]["latency"][name]
        lines.append(
            f"| `{name}` | {a_['median_ms']} ({a_['jobs_in_answer']}) | "
            f"{b_['median_ms']} ({b_['jobs_in_answer']}) | {ratio} |"
        )
    worst = max(c["ratios"].values())
    lines += [
        "",
        f"- {int(large):,} jobs against {int(small):,}: at most **{worst}×** (target ≤ 2×); the "
        f"measured key owns {c[small]['measured_key_jobs']:,} and "
        f"{c[large]['measured_key_jobs']:,} of them, {c[large]['chunks']:,} chunks in all, "
        f"{OWNER_KEYS + MORE_KEYS:,} API keys.",
        "",
        f"Plans of the queries behind these requests with {int(large):,} jobs "
        f"({result['plan_kind']}; with {int(small):,} the planner rightly reads the few pages "
        "whole):",
        "",
    ]
    for name, plan in c[large]["plans"].items():
        lines.append(f"- {name}: {plan_summary(plan['plan'])}")
    return "\n".join(lines)


def plan_summary(plan: list[str]) -> str:
    """The scan and sort nodes of a plan and its run time, in one line."""
    nodes = []
    for line in plan:
        node = line.strip().removeprefix("->").strip()
        if node.startswith(
            ("Index Scan", "Index Only Scan", "Seq Scan", "Bitmap", "Sort ", "SEARCH", "SCAN")
        ) or node.startswith("USE TEMP"):
            nodes.append(f"`{node.split('  (')[0]}`")
        elif node.startswith("Execution Time"):
            nodes.append(node.replace("Execution Time: ", "").replace(" ms", " ms to run"))
    return "; ".join(nodes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL to create fresh databases on, or 'sqlite' "
        f"(default: {DEFAULT_POSTGRES} if it answers, else SQLite)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--rate", type=float, default=200.0, help="status polls per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of phase A")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--poll-jobs", type=int, default=300, help="job ids polled in phase A")
    parser.add_argument("--book-copies", type=int, default=12, help="prose.txt copies in the book")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs submitted in phase B")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--api-workers", type=int, default=2, help="API processes (KQ_API_WORKERS)")
    parser.add_argument(
        "--requests-per-connection",
        type=int,
        default=20,
        help="requests a client connection carries before it closes (0: no limit)",
    )
    parser.add_argument("--sizes", default="100,100000", help="jobs in the database, phase C")
    parser.add_argument("--rounds", type=int, default=300, help="requests per kind, phase C")
    parser.add_argument("--phases", default="AB,C", help="AB, C or both")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the README table")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]

    if args.database_url == "sqlite":
        server = None
    elif args.database_url:
        server = args.database_url
    else:
        server = DEFAULT_POSTGRES if postgres_answers(DEFAULT_POSTGRES) else None
    database = f"PostgreSQL ({redact(server)}, fresh databases)" if server else "SQLite"
    say(f"{cores()} cores; database: {database}")

    result: dict = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}".strip(),
        "cores": cores(),
        "database": database,
        "plan_kind": "EXPLAIN ANALYZE" if server else "EXPLAIN QUERY PLAN",
    }
    with tempfile.TemporaryDirectory(prefix="kq-api-load-") as tmp:
        data_dir = Path(tmp)
        if "AB" in args.phases:
            with fresh_database(server, data_dir, "load") as url:
                result.update(measure_under_synthesis(args, data_dir, url))
        if "C" in args.phases:
            result["sizes"] = measure_sizes(args, data_dir, server)
            result["sizes_compared"] = [args.sizes[0], args.sizes[-1]]

    if "AB" not in args.phases or "C" not in args.phases:
        print(json.dumps(result, indent=2))
        return 0
    table = readme_table(result)
    print(table)
    save_results(result, RESULTS, "api", table, readme=not args.no_readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
