"""Revisions against the real stack (API, Celery worker, Redis, database, model): a book made
once, then again with one word changed; what did not change is the same audio, sample for
sample, and deleting revisions removes chunk audio only when no revision holds it."""

import os
import signal

import numpy as np
import pytest

from tests.audio_checks import read_audio
from tests.integration.test_pipeline import BOOK
from tests.support.finished_books import assert_every_chunk_once_in_order, job_chunks
from tests.support.stack import start_worker, wait_for

CHAPTERS = [
    {"title": "One", "text": "The lamp was lit at dusk. Nobody spoke at supper."},
    {"title": "Two", "text": "Rain fell on the roof all night. Nobody came to the door."},
    {"title": "Three", "text": "In the morning the road was clear. They set out early."},
]


def chapter_audio(http, job: dict, chapter: int) -> np.ndarray:
    answer = http.get(f"/v1/jobs/{job['id']}/chapters/{chapter}/audio")
    assert answer.status_code == 200, answer.text
    audio, rate = read_audio(answer.content)
    assert rate == 24_000 and len(audio) > rate // 2
    return audio


def chunk_files(stack, job_ids) -> set[str]:
    """The chunk audio files the jobs made that are still stored."""
    return {f for job_id in job_ids for f in stack.job_files(job_id) if f.startswith("chunks/")}


def test_a_one_word_revision_makes_one_chunk_and_keeps_the_rest_sample_identical(reuse_stack):
    stack = reuse_stack
    with stack.client() as http:
        book = http.post("/v1/jobs", json={"chapters": CHAPTERS, "format": "flac"}).json()
        assert stack.wait_for_job(book["id"])["status"] == "succeeded", stack.worker_log_tail()
        new_text = CHAPTERS[1]["text"].replace("Nobody came", "No one came")
        change = {"chapters": {"1": new_text}}
        plan = http.post(f"/v1/jobs/{book['id']}/revisions?dry_run=true", json=change).json()
        assert plan["chunks_to_make"] == 1
        made = http.post(f"/v1/jobs/{book['id']}/revisions", json=change)
        assert made.status_code == 202, made.text
        revision = stack.wait_for_job(made.json()["id"])
        assert revision["status"] == "succeeded", stack.worker_log_tail()
        assert (revision["chunks_to_make"], revision["revision_of"]) == (1, book["id"])

        # Only the changed chapter was encoded again: the others are the first one's parts
        own_parts = [f for f in stack.job_files(revision["id"]) if f.startswith("parts/")]
        assert {f.rsplit("/", 1)[-1][:4] for f in own_parts} == {"0001"}
        for chapter in (0, 2):
            assert np.array_equal(
                chapter_audio(http, book, chapter), chapter_audio(http, revision, chapter)
            )
        assert not np.array_equal(chapter_audio(http, book, 1), chapter_audio(http, revision, 1))
        # The changed chapter is what a fresh job with the new text makes, every chunk made
        # afresh (reuse off): the model on CPU is deterministic, sample for sample
        fresh_chapters = [CHAPTERS[0], {**CHAPTERS[1], "text": new_text}, CHAPTERS[2]]
        fresh = http.post(
            "/v1/jobs", json={"chapters": fresh_chapters, "format": "flac", "reuse": False}
        ).json()
        fresh = stack.wait_for_job(fresh["id"])
        assert fresh["status"] == "succeeded" and fresh["chunks_reused"] == 0
        assert np.array_equal(chapter_audio(http, fresh, 1), chapter_audio(http, revision, 1))
        assert http.delete(f"/v1/jobs/{fresh['id']}").status_code == 204
        timings = http.get(f"/v1/jobs/{revision['id']}/timings").json()
        assert "one" in [w["word"] for w in timings["words"]]

        # The first goes: the revision still plays, and holds every chunk it used
        ours = (book["id"], revision["id"])
        files_before = chunk_files(stack, ours)
        assert http.delete(f"/v1/jobs/{book['id']}").status_code == 204
        assert http.get(f"/v1/jobs/{revision['id']}/audio").status_code == 200
        # Only the chunk the revision replaced went
        assert len(files_before - chunk_files(stack, ours)) == 1
        assert http.delete(f"/v1/jobs/{revision['id']}").status_code == 204
        # Chunks, parts, files: nothing of either is left
        assert stack.job_files(book["id"]) | stack.job_files(revision["id"]) == set()


def test_a_sentence_spoken_again_is_not_made_again(reuse_stack):
    stack = reuse_stack
    body = {"model": "tts-1", "input": "A sentence said twice is made once.", "voice": "alloy",
            "response_format": "wav"}  # fmt: skip
    with stack.client() as http:
        first = http.post("/v1/audio/speech", json=body)
        again = http.post("/v1/audio/speech", json=body)
        assert first.status_code == again.status_code == 200
        jobs = [stack.wait_for_job(r.headers["X-KQ-Job-Id"]) for r in (first, again)]
    assert jobs[0]["chunks_to_make"] >= 1 and jobs[1]["chunks_to_make"] == 0
    assert jobs[1]["chunks_reused"] == jobs[0]["progress"]["chunks_total"]
    first_audio, _ = read_audio(first.content)
    again_audio, _ = read_audio(again.content)
    assert np.array_equal(first_audio, again_audio)


# A worker killed whole: the database plays no part, so on the backend a deployment uses
@pytest.mark.timeout(600)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_revision_survives_its_worker_killed_whole(reuse_stack):
    """The whole worker (main process and every child) dies while a revision's chunks are made;
    a new worker takes over: the revision finishes with every chunk once and the reused ones
    untouched."""
    stack = reuse_stack
    chapters = [
        {"title": "Calm", "text": "The harbour was calm that evening. Gulls sat on the posts."},
        {"title": "Long", "text": BOOK[:1500]},
    ]
    with stack.client() as http:
        book = http.post("/v1/jobs", json={"chapters": chapters, "format": "flac"}).json()
        assert stack.wait_for_job(book["id"])["status"] == "succeeded", stack.worker_log_tail()
        # Another voice for the long chapter: all of its chunks are made again
        change = {"chapter_voices": {"1": "jm_kumo"}}
        revision = http.post(f"/v1/jobs/{book['id']}/revisions", json=change).json()
        assert revision["chunks_to_make"] >= 4

        def running_late():
            rows = job_chunks(stack.database_url, revision["id"])
            made = [r for r in rows if not r.reused]
            return any(r.status == "done" for r in made) and any(
                r.status == "running" for r in made
            )

        wait_for(running_late, 300, "the revision's chunks to be under way", 0.1)
        os.killpg(stack.worker.pid, signal.SIGKILL)
        stack.worker.wait(timeout=10)
        stack.worker = start_worker(stack.env, stack.worker_log)
        finished = stack.wait_for_job(revision["id"], timeout_s=400)
        assert finished["status"] == "succeeded", finished["error"]
        rows = assert_every_chunk_once_in_order(
            stack, finished, http.get(f"/v1/jobs/{revision['id']}/audio").content
        )
    reused = [r for r in rows if r.reused]
    assert reused and all(r.attempts == 0 for r in reused)  # never sent to a worker
    made = [r for r in rows if not r.reused]
    assert len(made) == revision["chunks_to_make"] and all(r.status == "done" for r in made)
