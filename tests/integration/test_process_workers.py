"""Workers as one-process Celery workers started by exec (KQ_WORKER_POOL=processes, the default
on macOS): no process that has loaded ONNX Runtime ever forks, and each process is recycled,
replaced and stopped on its own. Real supervisor, real workers, real model, real Redis."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import create_engine, select

from storage.models import Chunk, WorkerSession
from tests.integration.test_doctor import by_name, doctor
from tests.integration.test_pipeline import BOOK
from tests.support.finished_books import (
    assert_every_chunk_once_in_order,
    book_made_with_a_running_chunk_killed,
    job_chunks,
)
from tests.support.stack import running_stack, start_worker, stop_process, wait_for

# The supervisor and its workers are the subject; the database plays no part
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PROCESSES = {"KQ_WORKER_POOL": "processes"}
# A killed process's chunk comes back once its heartbeat has expired: quickly, here
FAST_RECOVERY = {
    "KQ_RECONCILE_INTERVAL_S": "2",
    "KQ_RECONCILE_GRACE_S": "3",
    "KQ_WORKER_HEARTBEAT_S": "1",
    # Ten missed beats: a busy machine never makes a live process look dead
    "KQ_WORKER_DEAD_AFTER_S": "10",
}
HEAVY = ("onnxruntime", "kokoro_onnx", "espeakng_loader")

# Every Python process started with this on its path notes each fork it makes, with the heavy
# modules it had loaded then
FORK_AUDIT = textwrap.dedent(
    f"""
    import os, sys
    _log = os.environ.get("KQ_FORK_AUDIT_LOG")
    if _log:
        def _note_fork():
            loaded = [m for m in {HEAVY!r} if m in sys.modules]
            with open(_log, "a") as f:
                f.write(f"{{os.getpid()}} {{','.join(loaded) or '-'}}\\n")
        os.register_at_fork(before=_note_fork)
    """
)


def rows_of(database_url: str, job_id: str) -> tuple[list, set[int]]:
    engine = create_engine(database_url)
    with engine.connect() as db:
        chunks = db.execute(select(Chunk).where(Chunk.job_id == job_id)).all()
        loads = {p for (p,) in db.execute(select(WorkerSession.pid))}
    engine.dispose()
    return chunks, loads


@SQLITE
def test_a_process_over_its_memory_cap_is_replaced_after_its_chunk(
    tmp_path, redis_url, database_url
):
    # A loaded Kokoro session alone takes more than 200 MB: every process stops after its first
    # chunk and the supervisor starts a fresh one
    with (
        running_stack(
            tmp_path, redis_url, database_url, **PROCESSES, KQ_WORKER_MAX_MEMORY_MB="200"
        ) as stack,
        stack.client() as http,
    ):
        job = http.post("/v1/jobs", json={"text": BOOK[:1200]}).json()
        finished = stack.wait_for_job(job["id"], timeout_s=500)
        assert finished["status"] == "succeeded", finished["error"]
        assert_every_chunk_once_in_order(
            stack, finished, http.get(f"/v1/jobs/{job['id']}/audio").content
        )
        assert stack.worker.poll() is None
    chunks, loads = rows_of(database_url, job["id"])
    pids = {c.worker_pid for c in chunks}
    assert len(chunks) >= 5 and len(pids) > 2, "processes were not replaced"
    assert pids <= loads, "each process loaded its own session"
    assert all(c.attempts == 1 for c in chunks)
    assert "recycled" in stack.worker_log.read_text()


@SQLITE
def test_a_process_killed_mid_chunk_loses_only_that_chunk(tmp_path, redis_url, database_url):
    with (
        running_stack(tmp_path, redis_url, database_url, **PROCESSES, **FAST_RECOVERY) as stack,
        stack.client() as http,
    ):
        victim, rows = book_made_with_a_running_chunk_killed(stack, http, BOOK)
        assert stack.worker.poll() is None  # the supervisor replaced the process and went on
        log = stack.worker_log.read_text().splitlines()
        assert any("died" in line for line in log)
    redone = rows[victim.index]
    assert redone.attempts == 2 and redone.worker_pid != victim.worker_pid
    # The others were made once: what a busy one-process worker holds (it cannot answer the
    # reconciler's broadcast) is in its heartbeat
    others = [r for r in rows if r.index != victim.index]
    twice = [(r.index, r.attempts, r.requeues) for r in others if r.attempts != 1]
    assert not twice, (twice, [line for line in log if "reconciler" in line or "died" in line])


@SQLITE
def test_a_warm_stop_finishes_the_chunks_in_hand_and_the_book_resumes(
    tmp_path, redis_url, database_url
):
    with (
        running_stack(tmp_path, redis_url, database_url, **PROCESSES) as stack,
        stack.client() as http,
    ):
        job = http.post("/v1/jobs", json={"text": BOOK}).json()
        total = job["progress"]["chunks_total"]
        wait_for(
            lambda: http.get(f"/v1/jobs/{job['id']}").json()["progress"]["chunks_done"] >= 3,
            180,
            "the first chunks",
        )
        stop_process(stack.worker, timeout_s=120)  # SIGTERM: every process finishes its chunk
        before = job_chunks(database_url, job["id"])
        assert not [r for r in before if r.status == "running"], "a chunk was left running"
        done = [r for r in before if r.status == "done"]
        assert 3 <= len(done) < total, "stopped too late to show a resume"
        stack.worker = start_worker(stack.env, stack.worker_log)
        finished = stack.wait_for_job(job["id"])
        assert finished["status"] == "succeeded", finished["error"]
        rows = assert_every_chunk_once_in_order(
            stack, finished, http.get(f"/v1/jobs/{job['id']}/audio").content
        )
    assert all(r.attempts == 1 for r in rows), "a chunk was synthesized twice"


@SQLITE
@pytest.mark.parametrize("pool", ["processes", "prefork"])
def test_no_process_that_has_loaded_onnx_runtime_forks(tmp_path, redis_url, database_url, pool):
    """The at-fork audit sees every fork a Python process of the worker makes: in either pool,
    none is made by a process holding ONNX Runtime, Kokoro or espeak (prefork's main process
    forks its children before any of them loads the model)."""
    audit_dir, log = tmp_path / "audit", tmp_path / "forks.log"
    audit_dir.mkdir()
    (audit_dir / "sitecustomize.py").write_text(FORK_AUDIT)
    path = os.pathsep.join([str(audit_dir), os.environ.get("PYTHONPATH", "")])
    audit = {"PYTHONPATH": path, "KQ_FORK_AUDIT_LOG": str(log)}
    with (
        running_stack(
            tmp_path, redis_url, database_url, worker_env=audit, KQ_WORKER_POOL=pool
        ) as stack,
        stack.client() as http,
    ):
        job = http.post("/v1/jobs", json={"text": BOOK[:600]}).json()
        assert stack.wait_for_job(job["id"])["status"] == "succeeded"
        chunks, loads = rows_of(database_url, job["id"])
    forks = log.read_text().split("\n") if log.exists() else []
    with_model = [line for line in forks if line and not line.endswith(" -")]
    assert with_model == []
    assert {c.worker_pid for c in chunks} <= loads  # the processes that synthesized loaded it
    if pool == "prefork":
        assert forks, "the audit saw no fork: it would not have seen a bad one either"


def test_the_fork_audit_sees_a_fork_made_with_onnx_runtime_loaded(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(FORK_AUDIT)
    log = tmp_path / "forks.log"
    probe = (
        "import onnxruntime, os\npid = os.fork()\nos._exit(0) if pid == 0 else os.waitpid(pid, 0)"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "KQ_FORK_AUDIT_LOG": str(log)}
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, timeout=120)
    assert "onnxruntime" in log.read_text()


@SQLITE
def test_doctor_and_stats_see_each_process_as_a_worker(tmp_path, redis_url, database_url):
    with (
        running_stack(tmp_path, redis_url, database_url, **PROCESSES) as stack,
        stack.client() as http,
    ):
        job = http.post("/v1/jobs", json={"text": BOOK[:600]}).json()
        assert stack.wait_for_job(job["id"])["status"] == "succeeded"
        result = doctor(stack.env, "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        workers = by_name(json.loads(result.stdout))["workers"]
        assert workers["status"] == "ok" and "2 online" in workers["detail"], workers
        report = http.get("/v1/stats").json()
    chunks, _ = rows_of(database_url, job["id"])
    rows = {(w["host"], w["pid"]) for w in report["workers"]}
    assert {(c.worker_host, c.worker_pid) for c in chunks} <= rows  # a row per process
