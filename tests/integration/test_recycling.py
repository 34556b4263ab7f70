"""Worker children over their memory cap are replaced after their task, and no chunk is lost
or synthesized twice because of it."""

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from storage.models import Chunk, WorkerSession
from tests.audio_checks import read_audio
from tests.integration.test_pipeline import BOOK
from tests.support.stack import running_stack, wait_for

# Memory recycling and CPU priority are the worker's; the database plays no part
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_children_over_the_memory_cap_are_replaced_without_losing_chunks(
    tmp_path, redis_url, database_url
):
    # A loaded Kokoro session alone takes more than 200 MB: every child is over the cap after
    # its first task and is replaced by a fresh one
    with (
        running_stack(tmp_path, redis_url, database_url, KQ_WORKER_MAX_MEMORY_MB="200") as stack,
        stack.client() as http,
    ):
        job = http.post("/v1/jobs", json={"text": BOOK[:1200]}).json()
        finished = stack.wait_for_job(job["id"], timeout_s=400)
        assert finished["status"] == "succeeded", finished["error"]
        audio, _ = read_audio(http.get(f"/v1/jobs/{job['id']}/audio").content)

    engine = create_engine(database_url)
    with engine.connect() as db:
        chunks = db.execute(
            select(Chunk).where(Chunk.job_id == job["id"]).order_by(Chunk.index)
        ).all()
        pids = {c.worker_pid for c in chunks}
        loads = db.execute(select(WorkerSession.pid).where(WorkerSession.pid.in_(pids))).all()
    engine.dispose()

    assert len(chunks) >= 5
    assert len(pids) > 2, "children were not replaced"
    assert sorted(p for (p,) in loads) == sorted(pids), "one model load per child"
    assert all(c.status == "done" and c.attempts == 1 for c in chunks)
    assert all(c.worker_rss_mb > 200 for c in chunks)
    assert [c.index for c in chunks] == list(range(finished["progress"]["chunks_total"]))
    spoken = sum(c.audio_seconds for c in chunks)
    assert spoken < len(audio) / 24_000 < spoken + 0.7 * len(chunks)


def pool_children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:  # a process that has just exited
            continue
        if stat and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return children


@pytest.mark.skipif(sys.platform != "linux", reason="nice and SCHED_IDLE per thread are Linux's")
def test_pool_children_yield_the_cpu_to_the_api(stack):
    """Every thread of every pool child with its model loaded (ONNX Runtime's included) runs at
    nice 10 under SCHED_IDLE; the worker's main process keeps its priority."""
    engine = create_engine(stack.database_url)

    def loaded_children():
        children = set(pool_children(stack.worker.pid))
        with engine.connect() as db:
            rows = select(WorkerSession.pid).where(WorkerSession.pid.in_(children))
            loaded = set(db.scalars(rows))
        return sorted(children) if children and loaded == children else None

    try:
        children = wait_for(loaded_children, 120, "pool children with their model loaded")
    finally:
        engine.dispose()
    threads = [int(t.name) for c in children for t in Path(f"/proc/{c}/task").iterdir()]
    assert {os.getpriority(os.PRIO_PROCESS, t) for t in threads} == {10}
    assert {os.sched_getscheduler(t) for t in threads} == {os.SCHED_IDLE}
    assert os.sched_getscheduler(stack.worker.pid) == os.SCHED_OTHER
    assert os.getpriority(os.PRIO_PROCESS, stack.worker.pid) == 0
