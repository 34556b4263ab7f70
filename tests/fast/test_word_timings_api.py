"""GET /v1/jobs/{id}/timings and word-level subtitles read the words each chunk recorded, placed
in the job's file with its pauses; the live events carry each chunk's words as it finishes.
Through the in-process app on a SQLite file: no Redis, worker or model."""

import json

import pytest

from core.audio.formats import SAMPLE_RATE
from core.audio.timeline import pause_samples
from core.text.chunk_plan import plan_chunks
from storage.db import transaction
from storage.job_end import ending_jobs, job_end_effects
from storage.jobs import ChunkTiming, NewJob, create_job, finish_chunk, start_chunk
from tests.support.fast import FastApi, made_chunk

MISSING = "0" * 32
TEXT = "It was the best of times. It was the worst of times."
# Per chunk: its audio length and its words' samples in that audio
CHUNK_SAMPLES = 48_000


def words_of(text: str) -> list[list]:
    """Each word a tenth of a second, a twentieth apart."""
    return [
        [word.strip("."), 2400 + 3600 * n, 2400 + 3600 * n + 2400]
        for n, word in enumerate(text.split())
    ]


def finished_job(api: FastApi, succeed: bool = True) -> str:
    chunks = plan_chunks(
        [TEXT], lang="en-us", markup="none", check_voice=str, max_tokens=40, first_chunk_tokens=40
    )
    assert len(chunks) == 2
    spec = NewJob(voice="jf_alpha", speed=1.0, lang="en-us", format="wav", queue="kokoro")
    url = api.settings.sqlalchemy_url
    with transaction(url) as session:
        job, _ = create_job(session, spec, chunks, release=2)
        ids = [(c.id, c.text) for c in job_chunks(session, job.id)]
    for chunk_id, text in ids:
        with transaction(url) as session:
            start_chunk(session, chunk_id, job.id, "host", 1)
            finish_chunk(session, chunk_id, job.id, timing(chunk_id, words_of(text)))
    if succeed:
        with ending_jobs(url, job_end_effects(api.celery, None)) as ends:
            ends.succeed(job.id, audio_key="k", audio_bytes=1, audio_seconds=4.3)
    return job.id


def job_chunks(session, job_id):
    from sqlalchemy import select

    from storage.models import Chunk

    return session.scalars(select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.index))


def timing(chunk_id: int, words: list[list]) -> ChunkTiming:
    return made_chunk(f"chunk-{chunk_id}", CHUNK_SAMPLES / SAMPLE_RATE, words=words)


def test_timings_place_each_word_in_the_file(api):
    job_id = finished_job(api)
    response = api.http.get(f"/v1/jobs/{job_id}/timings")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["estimated"] is False
    words = body["words"]
    assert " ".join(w["word"] for w in words) == TEXT.replace(".", "")
    assert {w["chunk"] for w in words[:6]} == {0} and {w["chunk"] for w in words[6:]} == {1}
    assert words[0] == {"word": "It", "start": 0.1, "end": 0.2, "chunk": 0, "chapter": 0}
    # The second chunk starts after the first and the pause after it, to the sample
    offset = (CHUNK_SAMPLES + pause_samples("sentence")) / SAMPLE_RATE
    assert words[6]["start"] == pytest.approx(offset + 0.1, abs=1e-6)

    cues = api.http.get(f"/v1/jobs/{job_id}/subtitles", params={"level": "word"})
    assert cues.status_code == 200
    assert cues.text.startswith("1\n00:00:00,100 --> 00:00:00,200\nIt\n")
    assert cues.text.count(" --> ") == len(words)
    sentences = api.http.get(f"/v1/jobs/{job_id}/subtitles", params={"format": "vtt"})
    # A sentence from its first word's start to its last word's end
    assert "00:00:00.100 --> 00:00:00.950\nIt was the best of times." in sentences.text


def test_chunk_events_carry_their_words_in_seconds_of_the_chunk(api):
    job_id = finished_job(api)
    events = api.http.get(f"/v1/jobs/{job_id}/events").text
    chunks = [
        json.loads(block.split("data: ", 1)[1])
        for block in events.split("\n\n")
        if "event: chunk" in block
    ]
    assert [c["chunk"] for c in chunks] == [0, 1]
    assert chunks[1]["words"][0] == {"word": "It", "start": 0.1, "end": 0.2}


def test_timings_are_409_until_the_job_has_succeeded_and_404_for_no_job(api):
    job_id = finished_job(api, succeed=False)
    response = api.http.get(f"/v1/jobs/{job_id}/timings")
    assert response.status_code == 409
    assert "once it has succeeded" in response.json()["detail"]
    assert api.http.get(f"/v1/jobs/{MISSING}/timings").status_code == 404
    bad_level = api.http.get(f"/v1/jobs/{job_id}/subtitles", params={"level": "letter"})
    assert bad_level.status_code == 422
