"""The faults a real deployment meets, with real processes: a worker that dies whole (machine
lost, container killed), the database stopped and started again, Redis stopped and started
again. Each book comes back whole: every chunk once, in order, sample-exact."""

import os
import signal
import time
from datetime import UTC, datetime

import httpx
import pytest

from cli.embedded_redis import start_embedded_redis
from tests.integration.test_pipeline import BOOK
from tests.support.finished_books import assert_every_chunk_once_in_order, job_chunks, progress
from tests.support.postgres import throwaway_server
from tests.support.stack import free_port, running_stack, start_worker, stop_process, wait_for

OUTAGE_S = 20
POLL_S = 0.5
# Defaults (heartbeat 5 s, dead after 60 s, a reconcile pass every 30 s): the chunks of a
# worker that died whole are sent again within 90 s of the kill, and another worker has the
# book done within this (when the rest of the book is not more than it can read meanwhile)
FINISHED_WITHIN_S = 120
# After an outage the reconciler looks every 2 s at work older than 3 s: what the outage lost
# is sent again at once (these tests are not about its timing)
FAST_RECONCILER = {"KQ_RECONCILE_INTERVAL_S": "2", "KQ_RECONCILE_GRACE_S": "3"}


def poll_codes(http: httpx.Client, path: str, seconds: float) -> list[int]:
    """GET ``path`` every POLL_S for ``seconds``: the status codes answered (0: no answer)."""
    codes = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            codes.append(http.get(path).status_code)
        except httpx.HTTPError:
            codes.append(0)
        time.sleep(POLL_S)
    return codes


def assert_book_whole(stack, http: httpx.Client, job_id: str, timeout_s: float = 400) -> list:
    finished = stack.wait_for_job(job_id, timeout_s=timeout_s)
    assert finished["status"] == "succeeded", finished["error"]
    audio = http.get(f"/v1/jobs/{job_id}/audio").content
    return assert_every_chunk_once_in_order(stack, finished, audio)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("pool", ["prefork", "processes"])
def test_a_worker_killed_whole_has_its_chunks_finished_by_the_other(tmp_path, redis_url, pool):
    database_url = f"sqlite:///{tmp_path / 'kq.db'}"
    victim = {"KQ_WORKER_HOST": "victim"}
    with (
        running_stack(
            tmp_path, redis_url, database_url, worker_env=victim, KQ_WORKER_POOL=pool
        ) as stack,
        stack.client() as http,
    ):
        survivor_log = tmp_path / "worker-survivor.log"
        survivor = start_worker(stack.env | {"KQ_WORKER_HOST": "survivor"}, survivor_log)
        try:
            # Its children load the model: both of them, before the book starts
            wait_for(
                lambda: survivor_log.read_text().count(" loaded ") >= 2,
                120,
                "the second worker's model",
                interval_s=1,
            )
            job = http.post("/v1/jobs", json={"text": BOOK}).json()

            def victim_running_late():
                """A chunk the victim runs in the book's last third, the survivor working too:
                what is left for the survivor after the kill is then the lost chunks and about
                as much as it reads while the victim is taken for dead."""
                rows = job_chunks(database_url, job["id"])
                by_host = {r.worker_host for r in rows if r.status in ("running", "done")}
                running = [r for r in rows if r.status == "running" and r.worker_host == "victim"]
                late = next((r for r in running if r.index >= 2 * len(rows) // 3), None)
                return "survivor" in by_host and late

            lost = wait_for(victim_running_late, 300, "the victim to run a chunk late in the book")
            # Its main process and every child (prefork), or the supervisor and its workers
            os.killpg(stack.worker.pid, signal.SIGKILL)
            killed_at = datetime.now(UTC)
            stack.worker.wait(timeout=10)

            rows = assert_book_whole(stack, http, job["id"])
            finished_at = datetime.fromisoformat(progress(http, job["id"])["finished_at"])
            done_in = (finished_at - killed_at).total_seconds()
            assert survivor.poll() is None
        finally:
            stop_process(survivor)
    redone = rows[lost.index]
    assert redone.worker_host == "survivor" and redone.requeues >= 1
    resent_in, ran_in = (
        (at - killed_at).total_seconds() for at in (redone.enqueued_at, redone.started_at)
    )
    print(
        f"\nafter the kill: lost chunk sent again in {resent_in:.0f} s, running in {ran_in:.0f} s;"
        f" book done in {done_in:.0f} s"
    )
    assert resent_in < FINISHED_WITHIN_S
    assert done_in < FINISHED_WITHIN_S


@pytest.mark.timeout(600)
def test_the_database_stopped_and_started_again_mid_book(tmp_path, redis_url):
    with (
        throwaway_server() as database,
        running_stack(tmp_path, redis_url, database.url, **FAST_RECONCILER) as stack,
        stack.client() as http,
    ):
        job = http.post("/v1/jobs", json={"text": BOOK}).json()
        wait_for(lambda: progress(http, job["id"])["progress"]["chunks_done"] >= 2, 180, "progress")
        database.stop()
        codes = poll_codes(http, f"/v1/jobs/{job['id']}", OUTAGE_S)
        database.start()
        print(f"\nstatus codes while the database was down: {sorted(set(codes))} ({codes})")
        assert 503 in codes and set(codes) <= {200, 503}, codes  # never 500, always an answer
        assert_book_whole(stack, http, job["id"])


@pytest.mark.timeout(600)
def test_redis_stopped_and_started_again_mid_book(tmp_path):
    broker_url = f"redis://127.0.0.1:{free_port()}/0"
    redis_dir = tmp_path / "redis"
    broker = start_embedded_redis(broker_url, redis_dir)
    database_url = f"sqlite:///{tmp_path / 'kq.db'}"
    try:
        with (
            running_stack(tmp_path, broker_url, database_url, **FAST_RECONCILER) as stack,
            stack.client() as http,
        ):
            job = http.post("/v1/jobs", json={"text": BOOK}).json()
            wait_for(
                lambda: progress(http, job["id"])["progress"]["chunks_done"] >= 2, 180, "progress"
            )
            broker.terminate()  # a clean stop: its append-only file keeps the queue
            broker.wait(timeout=10)
            gap_started = time.monotonic()
            refused = http.post("/v1/jobs", json={"text": "Submitted while Redis is down."})
            codes = poll_codes(
                http, f"/v1/jobs/{job['id']}", OUTAGE_S - (time.monotonic() - gap_started)
            )
            broker = start_embedded_redis(broker_url, redis_dir)
            print(f"\nPOST while Redis was down: {refused.status_code}; GETs: {sorted(set(codes))}")
            assert refused.status_code == 503, refused.text
            assert "queue is unreachable" in refused.json()["detail"]
            assert set(codes) == {200}  # reading needs no broker

            rows = assert_book_whole(stack, http, job["id"])
            # The refused submission left nothing at all
            listed = http.get("/v1/jobs").json()["jobs"]
            assert [j["id"] for j in listed] == [job["id"]]
        assert all(r.attempts >= 1 for r in rows)
    finally:
        stop_process(broker)
