"""Real processes for the integration tests and benchmarks: free ports, waits, API and worker
processes of a stack on a queue of its own, scratch PostgreSQL databases and an S3 server.
The fixtures that hold them for a test session are tests/integration/conftest.py's.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.postgres import scratch_database
from tests.support.queues import drop_queue

ROOT = Path(__file__).resolve().parents[2]
LOCAL_REDIS = "redis://127.0.0.1:6379/13"
STARTUP_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout_s: float, what: str, interval_s: float = 0.2):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def postgres_database(base_url: str) -> Iterator[str]:
    """A database of its own on the given server, dropped afterwards."""
    with scratch_database(base_url, "kq_test") as url:
        yield url


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("KQ_TEST_POSTGRES_URL") else ["sqlite"]


@dataclass
class Stack:
    """A running API process and Celery worker process sharing one configuration."""

    api_url: str
    env: dict[str, str]
    data_dir: Path
    database_url: str
    worker: subprocess.Popen
    api: subprocess.Popen
    worker_log: Path

    def client(self, timeout_s: float = 30.0, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.api_url, timeout=timeout_s, headers=headers)

    def wait_for_job(
        self, job_id: str, timeout_s: float = 300.0, api_key: str | None = None
    ) -> dict:
        with self.client(api_key=api_key) as http:

            def finished():
                job = http.get(f"/v1/jobs/{job_id}").json()
                return job if job["status"] in ("succeeded", "failed", "cancelled") else None

            try:
                return wait_for(finished, timeout_s, f"job {job_id} to finish", interval_s=0.5)
            except AssertionError as error:  # say where the worker stood: CI keeps no files
                job = http.get(f"/v1/jobs/{job_id}").json()
                raise AssertionError(f"{error}: {job}\n{self.worker_log_tail()}") from None

    def job_files(self, job_id: str) -> set[str]:
        """The files of a job in local storage: its own, the chunks it made and its parts."""
        from storage.blob_store import job_prefix, made_chunks_prefix, parts_prefix

        root = self.data_dir / "audio"
        return {
            str(path.relative_to(root))
            for prefix in (job_prefix(job_id), made_chunks_prefix(job_id), parts_prefix(job_id))
            for path in (root / prefix).rglob("*")
            if path.is_file()
        }

    def worker_log_tail(self, lines: int = 30) -> str:
        text = self.worker_log.read_text(errors="replace") if self.worker_log.exists() else ""
        return "\n".join(["worker log, last lines:", *text.splitlines()[-lines:]])


def stack_env(data_dir: Path, redis_url: str, database_url: str, queue: str, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        KQ_DATA_DIR=str(data_dir),
        KQ_REDIS_URL=redis_url,
        KQ_DATABASE_URL=database_url,
        KQ_QUEUE=queue,
        KQ_PORT=str(port),
        KQ_WORKER_CONCURRENCY="2",
        # Small limits so the size tests send kilobytes, not megabytes
        KQ_MAX_REQUEST_BYTES="200000",
        KQ_MAX_TEXT_CHARS="50000",
        # Parts of 15 s: the tests' books of a minute or two are joined from several parts a
        # chapter, so every sample-exact check of a finished book checks the join too
        KQ_ASSEMBLY_PART_SECONDS="15",
        # Every chunk synthesized: the stacks share one database but not their storage, and
        # the tests of the machinery (kills, cancels, fairness) need work to happen. The tests
        # of reuse have a stack of their own (the reuse_stack fixture)
        KQ_CHUNK_REUSE="off",
        # One reading process beside each API, not two: a stack's requests come one at a time,
        # and a second warm-up only takes CPU from the worker starting beside it
        KQ_API_READER_PROCESSES="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    """A real `kokoro-queue worker` process: Celery prefork, or the supervisor of one-process
    workers where the env says KQ_WORKER_POOL=processes."""
    pool = [] if env.get("KQ_WORKER_POOL") == "processes" else ["--pool", "prefork"]
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker", *pool],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_api(env: dict, log: Path) -> subprocess.Popen:
    """A real `kokoro-queue api` (uvicorn) process on env's KQ_PORT."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "api"],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_processes(
    env: dict, data_dir: Path, api_url: str, tag: str, worker_env: dict | None = None
):
    from storage.migrate import upgrade

    upgrade(env["KQ_DATABASE_URL"])
    worker_log = data_dir / f"worker-{tag}.log"
    worker = start_worker(env | (worker_env or {}), worker_log)
    api = start_api(env, data_dir / f"api-{tag}.log")

    def ready():
        for name, process in (("worker", worker), ("api", api)):
            if process.poll() is not None:
                raise AssertionError(f"{name} exited early, see {data_dir}")
        try:
            return httpx.get(f"{api_url}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, STARTUP_TIMEOUT_S, "API and worker to be ready", interval_s=0.5)
    return worker, api, worker_log


def wait_until_answers(
    process: subprocess.Popen, url: str, log: Path, what: str, timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    """Wait until ``GET url`` answers 200; fail at once, with the end of its log, if the
    process exits first."""

    def answers():
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise AssertionError(f"{what} exited early:\n{tail}")
        try:
            return httpx.get(url, timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(answers, timeout_s, f"{what} to answer {url}", interval_s=0.3)


def stop_process(process: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """SIGTERM and wait, then SIGKILL whatever is left of its session (processes started here
    lead a session of their own): a pool child orphaned by a killed master goes too."""
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout_s)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def running_stack(
    data_dir: Path,
    redis_url: str,
    database_url: str,
    worker_env: dict[str, str] | None = None,
    **overrides: str,
):
    """API and worker processes on a queue of their own; ``overrides`` are extra KQ_* settings
    of both, ``worker_env`` the worker's own (another KQ_DATA_DIR, KQ_WORKER_HOST, ...)."""
    queue = f"kq-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = stack_env(data_dir, redis_url, database_url, queue, port) | overrides
    tag = queue.removeprefix("kq-test-")
    worker, api, worker_log = start_processes(env, data_dir, api_url, tag, worker_env)
    running = Stack(api_url, env, data_dir, database_url, worker, api, worker_log)
    try:
        yield running
    finally:
        # Tests restart processes (stack.api, stack.worker): stop the ones they started too
        for process in (running.api, api, running.worker, worker):
            stop_process(process)
        drop_queue(redis_url, queue)


@dataclass
class S3Server:
    """An S3 protocol server on loopback (moto's), with test credentials."""

    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to use it: KQ_STORAGE_URL comes on top."""
        return {
            "KQ_S3_ENDPOINT_URL": self.endpoint,
            "KQ_S3_ADDRESSING_STYLE": "path",
            "AWS_ACCESS_KEY_ID": "kq-test",
            "AWS_SECRET_ACCESS_KEY": "kq-test-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self):
        import boto3

        env = self.env
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self) -> str:
        name = f"kq-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listing = self.client().get_paginator("list_objects_v2")
        pages = listing.paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def job_objects(self, bucket: str, prefix: str, job_id: str) -> tuple[set[str], set[str]]:
        """The objects of a job under ``prefix``: its own and its chunks' (by their keys
        relative to ``prefix``), and apart, its encoded parts (kept for revisions)."""
        from storage.blob_store import job_prefix, made_chunks_prefix, parts_prefix

        def under(key_prefix: str) -> set[str]:
            keys = self.keys(bucket, f"{prefix}/{key_prefix}/")
            return {key.removeprefix(f"{prefix}/") for key in keys}

        own = under(job_prefix(job_id)) | under(made_chunks_prefix(job_id))
        return own, under(parts_prefix(job_id))
