"""Text in, audio out, through the real queue: API process -> Redis -> Celery worker -> storage."""

import concurrent.futures

import numpy as np
from sqlalchemy import create_engine, func, select

from core.audio.loudness import PEAK_TARGET_DBFS, db_to_gain
from core.audio.timeline import PAUSE_SECONDS
from core.text.chunk_plan import plan_chunks
from core.text.sentences import normalize_text
from infra.settings import Settings
from storage.models import Chunk, WorkerSession
from tests.audio_checks import assert_speech, read_audio
from tests.support.finished_books import chapter_gains

BOOK = """\
The harbour town woke slowly that morning. Fishing boats rocked against the stone quay, their
ropes creaking, while gulls argued over the scraps left from the night before. Nobody hurried;
the tide would not turn for another hour.

Margaret opened the bakery at six, as she had done for thirty years. The smell of bread drifted
down the narrow street and brought the first customers: two dock workers, a schoolteacher, and
a boy who always asked for the burnt loaf because it was cheaper.

"You'll ruin your teeth on that crust," she told him, wrapping it in paper anyway.

"My grandfather says crust makes you brave," the boy replied, counting his coins twice.

By eight the market square was full. Farmers had driven in from the valley with cabbages,
apples and cheese, and a travelling tinker had set up his cart beside the fountain, mending pots
and telling stories to anyone who would listen. He claimed to have walked from the far side of
the mountains in a single week, though no one believed him.

At noon the bell of the old church rang twelve times, a little out of tune as it always was.
The harbour master checked his watch against it, shook his head, and wrote in his log that the
weather was fair, the wind from the west, and the sea calm enough for the afternoon crossing.

Late in the day, when the shadows stretched across the cobbles, Margaret closed her shutters and
walked down to the water. She liked to watch the boats come home. Each one carried a lantern at
its bow, and as the light failed they looked like a line of small stars drifting towards the
shore.

The tinker packed his cart when the square emptied. He counted the day's coins, found them
fewer than he had hoped, and laughed about it anyway. Tomorrow, he said to his horse, there would
be another town and another fountain, and people who had not yet heard his stories.

Night settled over the harbour. The last lantern went out on the quay, the bakery chimney cooled,
and the whole town slept to the sound of the sea turning the pebbles over and over on the beach.
"""


def db_engine(stack):
    return create_engine(stack.database_url)


def expected_chunks(text: str):
    """The chunks the service plans for ``text`` (api/submission.py plans them so)."""
    settings = Settings()
    return plan_chunks(
        [text],
        lang="en-us",
        markup="none",
        check_voice=str,
        max_tokens=settings.chunk_tokens,
        first_chunk_tokens=settings.first_chunk_tokens,
    )


def test_long_text_becomes_one_ordered_audio_file(stack):
    assert len(BOOK) >= 2000 and BOOK.count("\n\n") >= 5
    with stack.client() as http:
        response = http.post("/v1/jobs", json={"text": BOOK, "format": "wav"})
        assert response.status_code == 202, response.text
        job = response.json()
        assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
        assert job["status"] in ("queued", "running")

        finished = stack.wait_for_job(job["id"])
        assert finished["status"] == "succeeded", finished["error"]
        assert finished["progress"]["percent"] == 100.0

        download = http.get(finished["links"]["audio"])
        assert download.status_code == 200
        assert download.headers["content-type"] == "audio/wav"
    audio, rate = read_audio(download.content)
    assert_speech(audio, rate, len(normalize_text(BOOK)))
    assert abs(len(audio) / rate - finished["audio_seconds"]) < 0.01

    # One chunk per expected piece, in order, each synthesized once with its timings recorded
    expected = expected_chunks(BOOK)
    with db_engine(stack).connect() as db:
        rows = db.execute(
            select(Chunk).where(Chunk.job_id == job["id"]).order_by(Chunk.index)
        ).all()
    assert len(expected) >= 8
    assert [r.index for r in rows] == list(range(len(expected)))
    assert [r.text for r in rows] == [c.text for c in expected]
    assert [r.pause_after for r in rows] == [str(c.pause_after) for c in expected]
    for row in rows:
        assert row.status == "done" and row.attempts == 1
        assert row.tokens > 0 and row.audio_seconds > 0.5
        assert row.inference_ms > 0 and row.phonemize_ms >= 0 and row.encode_ms > 0
        assert row.queue_wait_ms is not None and row.worker_pid and row.worker_host
        assert row.provider == "CPUExecutionProvider"

    # The file is exactly the chunks' audio in index order, with the pause each calls for, at
    # one gain for the whole chapter (here the book) that brings its peak to -1 dBFS
    store_root = stack.data_dir / "audio"
    parts = []
    for row in rows:
        chunk_audio, _ = read_audio((store_root / row.audio_key).read_bytes())
        assert abs(len(chunk_audio) / 24_000 - row.audio_seconds) < 0.001
        assert abs(np.abs(chunk_audio).max() - row.peak) < 1e-4
        # Faded at both ends: a join never jumps from sound to silence (no click)
        assert max(abs(chunk_audio[0]), abs(chunk_audio[-1])) < 0.002
        parts += [chunk_audio, np.zeros(int(PAUSE_SECONDS[row.pause_after] * 24_000))]
    (gain,) = chapter_gains(rows).values()
    np.testing.assert_allclose(audio, gain * np.concatenate(parts), atol=2 / 32768)
    assert abs(np.abs(audio).max() - db_to_gain(PEAK_TARGET_DBFS)) < 0.002  # loud, never clipped


def test_two_jobs_at_once_finish_and_workers_keep_one_session(stack):
    texts = [
        "The first job is short. It has two sentences and then it ends.",
        "A second job arrives at the same moment. Both must finish, and neither may wait for "
        "the model to be loaded again.",
    ]
    with stack.client() as http, concurrent.futures.ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda t: http.post("/v1/jobs", json={"text": t}), texts))
    assert [r.status_code for r in responses] == [202, 202]
    job_ids = [r.json()["id"] for r in responses]
    for job_id, text in zip(job_ids, texts, strict=True):
        finished = stack.wait_for_job(job_id)
        assert finished["status"] == "succeeded", finished["error"]
        with stack.client() as http:
            audio, rate = read_audio(http.get(f"/v1/jobs/{job_id}/audio").content)
        assert_speech(audio, rate, len(text))

    with db_engine(stack).connect() as db:
        chunk_pids = db.execute(
            select(Chunk.worker_pid, func.count())
            .where(Chunk.status == "done")
            .group_by(Chunk.worker_pid)
        ).all()
        loads = db.execute(
            select(WorkerSession.pid, func.count()).group_by(WorkerSession.pid)
        ).all()
    load_count = dict(loads)
    tasks_done = sum(count for _, count in chunk_pids)
    # Every process that synthesized loaded the model exactly once, however many chunks it took
    assert tasks_done > len(chunk_pids)
    for pid, _ in chunk_pids:
        assert load_count.get(pid) == 1, f"pid {pid} loaded the model {load_count.get(pid)} times"
