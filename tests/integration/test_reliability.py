"""Faults while books run: a worker child killed mid-chunk, Redis restarted empty, the API
restarted, storage that cannot be written, workers gone for good; and cancel mid-job."""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from cli.embedded_redis import start_embedded_redis
from tests.integration.test_pipeline import BOOK
from tests.support.finished_books import (
    assert_every_chunk_once_in_order,
    book_made_with_a_running_chunk_killed,
    job_chunks,
    progress,
)
from tests.support.stack import (
    ROOT,
    free_port,
    running_stack,
    start_api,
    wait_for,
)

# The reconciler of the workers in these stacks looks every 2 s at work older than 3 s
FAST_RECONCILER = {"KQ_RECONCILE_INTERVAL_S": "2", "KQ_RECONCILE_GRACE_S": "3"}

# Restarts of Redis and of the API, a pool child killed: the database plays no part, so they run
# on the backend a deployment uses (PostgreSQL) only
POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@POSTGRESQL
def test_worker_child_killed_mid_chunk_loses_only_that_chunk(tmp_path, redis_url, database_url):
    with running_stack(tmp_path, redis_url, database_url) as stack, stack.client() as http:
        victim, rows = book_made_with_a_running_chunk_killed(stack, http, BOOK)
        assert stack.worker.poll() is None  # the worker replaced its child and went on
    redone = rows[victim.index]
    assert redone.attempts == 2, "the killed chunk was not run again"
    assert redone.worker_pid != victim.worker_pid
    assert all(r.attempts == 1 for r in rows if r.index != victim.index)


@POSTGRESQL
def test_redis_restarted_empty_mid_job_is_reconciled(tmp_path, database_url):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    broker = start_embedded_redis(url, tmp_path / "redis-before")
    try:
        with (
            running_stack(tmp_path, url, database_url, **FAST_RECONCILER) as stack,
            stack.client() as http,
        ):
            job = http.post("/v1/jobs", json={"text": BOOK}).json()
            wait_for(
                lambda: progress(http, job["id"])["progress"]["chunks_done"] >= 2,
                180,
                "the first chunks",
            )
            broker.kill()
            broker.wait(timeout=10)
            shutil.rmtree(tmp_path / "redis-before")  # its append-only file: the queue is gone
            broker = start_embedded_redis(url, tmp_path / "redis-after")
            assert progress(http, job["id"])["status"] == "running"

            finished = stack.wait_for_job(job["id"], timeout_s=400)
            assert finished["status"] == "succeeded", finished["error"]
            rows = assert_every_chunk_once_in_order(
                stack, finished, http.get(f"/v1/jobs/{job['id']}/audio").content
            )
        assert sum(r.requeues for r in rows) >= 1, "nothing was lost, so nothing was shown"
    finally:
        broker.kill()
        broker.wait(timeout=10)


@POSTGRESQL
def test_api_restarted_while_jobs_run(tmp_path, redis_url, database_url):
    with running_stack(tmp_path, redis_url, database_url) as stack, stack.client() as http:
        ids = [http.post("/v1/jobs", json={"text": BOOK}).json()["id"] for _ in range(2)]
        wait_for(lambda: progress(http, ids[0])["progress"]["chunks_done"] >= 1, 180, "progress")
        os.killpg(stack.api.pid, signal.SIGKILL)
        stack.api.wait(timeout=10)
        before = job_chunks(stack.database_url, ids[0])

        stack.api = start_api(stack.env, stack.data_dir / "api-restarted.log")
        wait_for(lambda: _answers(http), 60, "the new API process")
        listed = {j["id"] for j in http.get("/v1/jobs").json()["jobs"]}
        assert set(ids) <= listed
        assert progress(http, ids[0])["progress"]["chunks_done"] >= sum(
            r.status == "done" for r in before
        )
        for job_id in ids:
            finished = stack.wait_for_job(job_id)
            assert finished["status"] == "succeeded", finished["error"]
            assert_every_chunk_once_in_order(
                stack, finished, http.get(f"/v1/jobs/{job_id}/audio").content
            )


def _answers(http) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except Exception:
        return False


def test_cancel_mid_job_starts_no_chunk_after_it_returns(stack):
    with stack.client() as http:
        job = http.post("/v1/jobs", json={"text": BOOK}).json()
        wait_for(lambda: progress(http, job["id"])["progress"]["chunks_done"] >= 2, 180, "progress")
        cancelled = http.post(f"/v1/jobs/{job['id']}/cancel")
        returned_at = datetime.now(UTC)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

        def settled():
            rows = job_chunks(stack.database_url, job["id"])
            return None if any(r.status == "running" for r in rows) else rows

        rows = wait_for(settled, 60, "the chunks running at the cancel to finish")
        # A chunk-time or two more: anything still queued would have started by now
        short = http.post("/v1/jobs", json={"text": "After the cancel."}).json()
        assert stack.wait_for_job(short["id"])["status"] == "succeeded"
        rows = job_chunks(stack.database_url, job["id"])
        assert all(r.started_at is None or r.started_at < returned_at for r in rows)
        assert {r.status for r in rows} <= {"done", "cancelled"}
        assert sum(r.status == "cancelled" for r in rows) >= 1
        assert progress(http, job["id"])["status"] == "cancelled"
        assert http.get(f"/v1/jobs/{job['id']}/audio").status_code == 409
        # The audio made so far is gone, also what chunks running at the cancel wrote after it
        assert stack.job_files(job["id"]) == set()
        again = http.post(f"/v1/jobs/{job['id']}/cancel")  # a retry is answered the same
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
        done = http.post(f"/v1/jobs/{short['id']}/cancel")
        assert done.status_code == 409 and "already succeeded" in done.json()["detail"]


def test_unwritable_storage_fails_the_job_after_retries(tmp_path, redis_url, database_url):
    not_a_directory = tmp_path / "audio-is-a-file"
    not_a_directory.write_text("the audio directory is a file: every write fails")
    overrides = {"KQ_AUDIO_DIR": str(not_a_directory), "KQ_TASK_MAX_RETRIES": "1"}
    with (
        running_stack(tmp_path, redis_url, database_url, **overrides) as stack,
        stack.client() as http,
    ):
        job = http.post("/v1/jobs", json={"text": "Storage is broken today."}).json()
        failed = stack.wait_for_job(job["id"], timeout_s=120)
        assert failed["status"] == "failed"
        assert "cannot write audio" in failed["error"] and "KQ_AUDIO_DIR" in failed["error"]
        assert http.get(f"/v1/jobs/{job['id']}/audio").status_code == 409
        rows = job_chunks(stack.database_url, job["id"])
        assert rows[0].status == "failed" and rows[0].attempts == 2  # tried, retried, gave up
        assert not_a_directory.read_text().startswith("the audio directory")


def test_reconcile_fails_a_job_whose_workers_are_gone(tmp_path, redis_url, database_url):
    with running_stack(tmp_path, redis_url, database_url) as stack, stack.client() as http:
        job = http.post("/v1/jobs", json={"text": BOOK}).json()
        wait_for(lambda: progress(http, job["id"])["progress"]["chunks_done"] >= 1, 180, "progress")
        os.killpg(stack.worker.pid, signal.SIGKILL)  # the whole worker, children and all
        stack.worker.wait(timeout=10)
        assert progress(http, job["id"])["status"] == "running"

        killed_at = time.monotonic()
        env = stack.env | {"KQ_STALLED_JOB_TIMEOUT_S": "0.5"}
        wait_for(lambda: time.monotonic() - killed_at > 1.5, 5, "the job to stall")
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "reconcile"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "failed: 1 jobs" in result.stdout
        failed = progress(http, job["id"])
        assert failed["status"] == "failed"
        assert "no progress" in failed["error"] and "workers" in failed["error"]
        assert stack.job_files(job["id"]) == set()
        rows = job_chunks(stack.database_url, job["id"])
        assert not any(r.status in ("pending", "queued") for r in rows)
