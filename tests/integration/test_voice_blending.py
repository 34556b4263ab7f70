"""Voice blending through the real API and worker: a blend of two voices is real speech that
sounds like neither alone, jobs keep the normalized spec, and bad blends are 422 with no job."""

import numpy as np
import pytest
from sqlalchemy import create_engine, func, select

from core.voices.specs import MAX_BLEND_VOICES
from storage.models import Job
from tests.audio_checks import assert_speech, read_audio

# What these measure is speech, not the database: one backend is enough
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SENTENCE = "Two voices become one when their styles are mixed."


def job_count(stack) -> int:
    engine = create_engine(stack.database_url)
    with engine.connect() as db:
        count = db.scalar(select(func.count()).select_from(Job))
    engine.dispose()
    return count


@pytest.fixture(scope="module")
def two_voices(stack) -> tuple[str, str]:
    with stack.client() as http:
        voices = [v["name"] for v in http.get("/v1/voices").json()]
    assert len(voices) >= 2
    return voices[0], voices[-1]


def speak(stack, voice: str) -> tuple[dict, np.ndarray, int]:
    with stack.client() as http:
        response = http.post("/v1/jobs", json={"text": SENTENCE, "voice": voice})
        assert response.status_code == 202, response.text
        job = stack.wait_for_job(response.json()["id"])
        assert job["status"] == "succeeded", job
        audio, rate = read_audio(http.get(f"/v1/jobs/{job['id']}/audio").content)
    return job, audio, rate


def same_samples(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


def test_a_blend_is_speech_unlike_either_voice(stack, two_voices):
    first, second = two_voices
    job_a, audio_a, _ = speak(stack, first)
    job_b, audio_b, _ = speak(stack, second)
    blend, audio_blend, rate = speak(stack, f" {first} : 1 , {second}:1 ")
    assert job_a["voice"] == first and job_b["voice"] == second
    # The job shows the normalized spec, however it was written
    assert blend["voice"] == f"{first}:0.5,{second}:0.5"
    assert_speech(audio_blend, rate, len(SENTENCE))
    assert not same_samples(audio_blend, audio_a)
    assert not same_samples(audio_blend, audio_b)
    # The same blend again is the same voice (the worker's cached style)
    _, again, _ = speak(stack, f"{first}:0.5,{second}:0.5")
    assert same_samples(again, audio_blend)


def test_blends_are_accepted_by_uploads_and_batches(stack, two_voices):
    first, second = two_voices
    with stack.client() as http:
        upload = http.post(
            "/v1/jobs",
            files={"file": ("note.txt", SENTENCE.encode(), "text/plain")},
            data={"voice": f"{first}:3,{second}:1"},
        )
        batch = http.post(
            "/v1/batches",
            json={"jobs": [{"text": SENTENCE, "voice": f"{second}:0.2,{first}:0.8"}]},
        )
        assert upload.status_code == 202, upload.text
        assert batch.status_code == 202, batch.text
        jobs = [upload.json(), *batch.json()["jobs"]]
        for job in jobs:
            http.post(f"/v1/jobs/{job['id']}/cancel")  # only the stored voice matters here
    assert jobs[0]["voice"] == f"{first}:0.75,{second}:0.25"
    assert jobs[1]["voice"] == f"{second}:0.2,{first}:0.8"


def bad_blends(first: str, second: str, voices: list[str]) -> dict[str, tuple[str, str]]:
    return {
        "unknown voice": (f"{first}:0.5,af_nobody:0.5", "unknown voice 'af_nobody' in the blend"),
        "zero weight": (f"{first}:0,{second}:1", "positive numbers"),
        "negative weight": (f"{first}:-0.5,{second}:1.5", "positive numbers"),
        "non-numeric weight": (f"{first}:lots,{second}:1", "positive numbers"),
        "duplicate voice": (f"{first}:0.5,{first}:0.5", "appears twice"),
        "too many voices": (
            ",".join([*voices, *voices][: MAX_BLEND_VOICES + 1]),
            f"at most {MAX_BLEND_VOICES} voices",
        ),
        "empty entry": (f"{first}:0.5,,{second}:0.5", "without a voice name"),
    }


def test_invalid_blends_are_422_and_make_no_job(stack, two_voices):
    first, second = two_voices
    with stack.client() as http:
        voices = [v["name"] for v in http.get("/v1/voices").json()]
        before = job_count(stack)
        for case, (spec, message) in bad_blends(first, second, voices).items():
            for response in (
                http.post("/v1/jobs", json={"text": SENTENCE, "voice": spec}),
                http.post(
                    "/v1/jobs",
                    files={"file": ("note.txt", SENTENCE.encode(), "text/plain")},
                    data={"voice": spec},
                ),
                http.post(
                    "/v1/batches",
                    json={"jobs": [{"text": SENTENCE}, {"voice": spec, "text": "Hi."}]},
                ),
            ):
                assert response.status_code == 422, (case, response.text)
                assert message in response.json()["detail"], (case, response.text)
        assert job_count(stack) == before
