"""What the integration tests check of a finished book: its chunk rows, and that its file is
exactly its chunks, each once and in order."""

import os
import signal

import numpy as np
from sqlalchemy import create_engine, select

from core.audio.loudness import peak_gain
from core.audio.timeline import PAUSE_SECONDS
from storage.models import Chunk
from tests.audio_checks import read_audio
from tests.support.stack import wait_for


def job_chunks(database_url: str, job_id: str) -> list:
    engine = create_engine(database_url)
    with engine.connect() as db:
        rows = db.execute(select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.index)).all()
    engine.dispose()
    return rows


def chapter_gains(rows) -> dict[int, float]:
    """The gain each chapter of a ``peak`` job gets: its loudest chunk to -1 dBFS."""
    peaks: dict[int, float] = {}
    for row in rows:
        peaks[row.chapter] = max(peaks.get(row.chapter, 0.0), row.peak or 0.0)
    return {chapter: peak_gain(peak) for chapter, peak in peaks.items()}


def assert_every_chunk_once_in_order(stack, job: dict, audio_bytes: bytes) -> list:
    """The file is exactly the job's chunks, each once, in index order, with their pauses."""
    rows = job_chunks(stack.database_url, job["id"])
    assert [r.index for r in rows] == list(range(job["progress"]["chunks_total"]))
    assert all(r.status == "done" for r in rows)
    audio, rate = read_audio(audio_bytes)
    gains = chapter_gains(rows)
    parts = []
    for row in rows:
        chunk_audio, _ = read_audio((stack.data_dir / "audio" / row.audio_key).read_bytes())
        parts += [
            gains[row.chapter] * chunk_audio,
            np.zeros(int(PAUSE_SECONDS[row.pause_after] * rate)),
        ]
    expected = np.concatenate(parts)
    assert len(audio) == len(expected)  # no chunk missing, none twice
    np.testing.assert_allclose(audio, expected, atol=2 / 32768)  # and in order
    spoken = sum(r.audio_seconds for r in rows)
    assert abs(job["audio_seconds"] - len(audio) / rate) < 0.01
    assert spoken < job["audio_seconds"]
    return rows


def progress(http, job_id: str) -> dict:
    return http.get(f"/v1/jobs/{job_id}").json()


def book_made_with_a_running_chunk_killed(stack, http, text: str) -> tuple:
    """Submit ``text``, SIGKILL the process running one of its chunks past the first two, and
    wait for the book: it succeeds with every chunk once, in order. Answers the chunk row as it
    was when killed, and the finished book's rows."""
    job = http.post("/v1/jobs", json={"text": text}).json()

    def running_chunk():
        rows = job_chunks(stack.database_url, job["id"])
        return next((r for r in rows if r.status == "running" and r.index >= 2), None)

    victim = wait_for(running_chunk, 180, "a chunk past the first two to be running", 0.05)
    os.kill(victim.worker_pid, signal.SIGKILL)
    finished = stack.wait_for_job(job["id"])
    assert finished["status"] == "succeeded", finished["error"]
    audio = http.get(f"/v1/jobs/{job['id']}/audio").content
    return victim, assert_every_chunk_once_in_order(stack, finished, audio)
