"""Worker children over their memory cap are replaced after their task, and no chunk is lost
or synthesized twice because of it."""

from sqlalchemy import create_engine, select

from storage.models import Chunk, WorkerSession
from tests.audio_checks import read_audio
from tests.conftest import running_stack
from tests.integration.test_pipeline import BOOK


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
