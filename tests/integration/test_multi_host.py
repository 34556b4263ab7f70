"""Several machines, simulated on this one: two workers with different host names and data
dirs of their own, one API with its own, sharing only what separate machines would share: Redis,
PostgreSQL and an S3 bucket. One book spreads over both workers and comes back whole."""

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from core.audio.timeline import PAUSE_SECONDS
from core.text.sentences import normalize_text
from infra.model_files import EMBEDDED_MODEL_NAME
from storage.blob_store import chunk_key, job_audio_key
from storage.models import Chunk, WorkerSession
from tests.audio_checks import assert_speech, read_audio
from tests.integration.test_pipeline import BOOK, expected_chunks
from tests.support.stack import running_stack, start_worker, stop_process, wait_for

PREFIX = "cluster"
HOSTS = ("host-a", "host-b")


def hosts_loaded(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            return set(db.scalars(select(WorkerSession.host).distinct()))
    finally:
        engine.dispose()


# Several hosts share PostgreSQL, never a SQLite file: PostgreSQL only (make test always has one)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
# Its own stack and a second worker to start, the model loaded on both, then a 600 s book
@pytest.mark.timeout(1500)
def test_two_hosts_share_one_book_through_postgresql_and_s3(
    tmp_path, redis_url, database_url, s3_server
):
    assert database_url.startswith("postgresql")
    bucket = s3_server.new_bucket()
    data_dirs = {name: tmp_path / name for name in ("api", *HOSTS)}
    for path in data_dirs.values():
        path.mkdir()
    cluster = {
        "KQ_STORAGE_URL": f"s3://{bucket}/{PREFIX}",
        **s3_server.env,
        # One process of one thread per "machine": the two share this machine's cores
        "KQ_WORKER_CONCURRENCY": "1",
        "KQ_ONNX_THREADS": "1",
        # The cluster's two worker processes both get a chunk of the book at once
        "KQ_CHUNKS_IN_FLIGHT_PER_JOB": "2",
    }

    def host(name: str) -> dict[str, str]:
        return {"KQ_DATA_DIR": str(data_dirs[name]), "KQ_WORKER_HOST": name}

    with running_stack(
        data_dirs["api"], redis_url, database_url, worker_env=host("host-a"), **cluster
    ) as stack:
        worker_b = start_worker(stack.env | host("host-b"), data_dirs["host-b"] / "worker.log")
        try:
            run_book_on_two_hosts(stack, worker_b, bucket, s3_server, data_dirs)
        finally:
            stop_process(worker_b)


def run_book_on_two_hosts(stack, worker_b: subprocess.Popen, bucket, s3_server, data_dirs):
    def both_loaded():
        if worker_b.poll() is not None:
            raise AssertionError(f"host-b's worker exited, see {data_dirs['host-b']}")
        return hosts_loaded(stack.database_url) >= set(HOSTS)

    # Each host has its model loaded (a child records it) before the book arrives
    wait_for(both_loaded, 180, "both hosts' workers to load the model", interval_s=0.5)

    with stack.client() as http:
        response = http.post("/v1/jobs", json={"text": BOOK, "format": "wav"})
        assert response.status_code == 202, response.text
        job = stack.wait_for_job(response.json()["id"], timeout_s=600)
        assert job["status"] == "succeeded", job["error"]
        download = http.get(f"/v1/jobs/{job['id']}/audio")
    assert download.status_code == 200

    engine = create_engine(stack.database_url)
    with engine.connect() as db:
        rows = db.execute(
            select(Chunk).where(Chunk.job_id == job["id"]).order_by(Chunk.index)
        ).all()
    engine.dispose()

    # Both hosts did work; every chunk was done once
    expected = expected_chunks(BOOK)
    assert len(rows) == len(expected) >= 8
    assert [row.index for row in rows] == list(range(len(expected)))
    assert all(row.status == "done" and row.attempts == 1 for row in rows)
    by_host = {name: [row.index for row in rows if row.worker_host == name] for name in HOSTS}
    assert {row.worker_host for row in rows} == set(HOSTS), by_host
    assert all(by_host.values()), by_host

    # The result is complete: every chunk's audio and its pause, in one file of real speech
    audio, rate = read_audio(download.content)
    assert_speech(audio, rate, len(normalize_text(BOOK)))
    expected_seconds = sum(row.audio_seconds + PAUSE_SECONDS[row.pause_after] for row in rows)
    assert abs(len(audio) / rate - expected_seconds) < 0.01 * len(rows)
    assert abs(len(audio) / rate - job["audio_seconds"]) < 0.01

    # Shared storage is the bucket alone: chunks written on either host, assembled on one
    objects, _ = s3_server.job_objects(bucket, PREFIX, job["id"])
    assert objects == {chunk_key(job["id"], row.index) for row in rows} | {
        job_audio_key(job["id"], "wav")
    }
    for name, data_dir in data_dirs.items():
        audio_files = [p for p in (data_dir / "audio").rglob("*") if p.is_file()]
        assert audio_files == [], f"{name} wrote audio to local disk: {audio_files}"
    # Each worker host assembled its own copy of the model; the API needs none
    for name in HOSTS:
        assert (data_dirs[name] / "models" / EMBEDDED_MODEL_NAME).is_file(), name
    assert not (Path(data_dirs["api"]) / "models" / EMBEDDED_MODEL_NAME).exists()
