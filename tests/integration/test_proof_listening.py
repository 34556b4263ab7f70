"""Proof-listening on the real stack: every chunk of a proofed job heard back by Whisper in the
worker, a doubtful one made again, one still doubtful flagged at its place in the finished file.

Clean book prose must be flagged rarely (at most 2 % of its chunks); a chunk made wrong on
purpose (the test-only KQ_TEST_PROOF_SABOTAGE, read by the worker: that chunk is synthesized cut
to its first third, every time it is made) must be the one flag, placed within 50 ms of where
its sentence starts in the finished file: where the audio rises out of the pause before it, and
where Whisper, listening to the file from there, hears the chunk's first words.
"""

import re

import numpy as np
import pytest

from tests.audio_checks import read_audio
from tests.support.asr import transcribe, words_for_scoring
from tests.support.book_text import source_chapters
from tests.support.stack import running_stack, wait_for

pytestmark = pytest.mark.integration

RATE = 24_000
JOB_TIMEOUT_S = 1500.0  # 2,000 words on two shared cores, each chunk heard back
MAX_FLAGGED_SHARE = 0.02
PLACE_TOLERANCE_S = 0.05
# Audio above this is speech (worker/audio.py trims chunks at it)
SPEECH_LEVEL = 1e-3
# Quiet this long before a sentence: a pause between chunks (0.12 s after a clause)
QUIET_BEFORE_S = 0.1
MIN_PROSE_WORDS = 2000

# Small and plain, a paragraph a chunk (the first within the first chunk's 40 tokens): each is
# heard clearly, so the one made wrong on purpose stands out
SABOTAGED_INDEX = 2
SHORT_PAGE = [
    "The rain had stopped.",
    "My aunt opened the shutters and looked down at the wet stones of the square.",
    "A boy came running past the bakery with a basket of warm bread on his arm, and the old "
    "dog that slept by the fountain lifted its head to watch him go.",
    "By eight o'clock the market was full of voices and the smell of oranges.",
    "We bought apples, a little cheese, and a loaf for the journey home.",
]


def book_prose() -> str:
    """Moby-Dick (public domain), chapters 14, 12 and 11, paragraph by paragraph until there
    are at least MIN_PROSE_WORDS words. Not the chapters the threshold was measured on (5 to 8,
    docs/proof.md). Chapter 12 does not come first: a job's first chunk is cut short (its first
    clause) and never remade, and there, "Queequeg was a native of Rokovoko," is two misheard
    names in six words."""
    chapters = source_chapters()
    paragraphs: list[str] = []
    for number in (14, 12, 11):
        for paragraph in chapters[number].paragraphs:
            if sum(len(p.split()) for p in paragraphs) >= MIN_PROSE_WORDS:
                return "\n\n".join(paragraphs)
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def submit(http, text: str) -> str:
    response = http.post("/v1/jobs", json={"text": text, "format": "wav", "proof": True})
    assert response.status_code == 202, response.text
    assert response.json()["proof"]["chunks_checked"] == 0
    return response.json()["id"]


def finished(stack, http, job_id: str) -> tuple[dict, np.ndarray]:
    job = stack.wait_for_job(job_id, timeout_s=JOB_TIMEOUT_S)
    assert job["status"] == "succeeded", job["error"]
    audio, rate = read_audio(http.get(f"/v1/jobs/{job_id}/audio").content)
    assert rate == RATE
    return job, audio


def onsets(audio: np.ndarray) -> np.ndarray:
    """Where the audio rises out of at least QUIET_BEFORE_S of silence, in seconds."""
    loud = np.flatnonzero(np.abs(audio) > SPEECH_LEVEL)
    gaps = np.diff(loud) > QUIET_BEFORE_S * RATE
    return np.concatenate([[loud[0]], loud[1:][gaps]]) / RATE


def assert_placed(flag: dict, audio: np.ndarray) -> None:
    """The flag starts where its sentence does: at a rise out of silence, within tolerance."""
    assert flag["start_s"] is not None, flag
    nearest = float(np.min(np.abs(onsets(audio) - flag["start_s"])))
    assert nearest <= PLACE_TOLERANCE_S, (flag["start_s"], nearest)
    assert flag["audio"].endswith(f"/audio#t={flag['start_s']:.2f}")


def checked_report(http, job_id: str, chunks: int) -> dict:
    """The job's report once every chunk is counted: its first chunk is heard after it is
    finished, which may be after the job has succeeded."""

    def complete():
        proof = http.get(f"/v1/jobs/{job_id}").json()["proof"]
        return proof if proof["chunks_checked"] == chunks else None

    return wait_for(complete, 60, f"job {job_id}'s proof report to count {chunks} chunks")


# One database is enough: what is checked is the worker's hearing and the report's placing
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_clean_book_prose_is_seldom_flagged(stack, record_property):
    prose = book_prose()
    assert len(prose.split()) >= MIN_PROSE_WORDS
    with stack.client() as http:
        job_id = submit(http, prose)
        job, audio = finished(stack, http, job_id)
        total = job["progress"]["chunks_total"]
        proof = checked_report(http, job_id, total)
        listed = http.get(f"/v1/jobs/{job_id}/proof", params={"limit": 500}).json()

    for name in ("chunks_checked", "remade", "flagged_count", "book_wer"):
        record_property(f"proof_{name}", proof[name])
    print("proof of clean prose:", {k: v for k, v in proof.items() if k != "flagged"})
    assert proof["placed"]
    assert proof["flagged_count"] <= MAX_FLAGGED_SHARE * total, proof["flagged"]
    # The book as a whole was heard well: the recognizer and the voice work
    assert proof["book_wer"] is not None and proof["book_wer"] < 0.2
    assert listed["flags"] == proof["flagged"] and listed["next_after"] is None
    for flag in proof["flagged"]:
        assert_placed(flag, audio)


@pytest.fixture(scope="module")
def sabotaging_stack(tmp_path_factory, redis_url):
    """A stack whose worker synthesizes chunk SABOTAGED_INDEX of every proofed job wrong."""
    database = f"sqlite:///{tmp_path_factory.mktemp('sabotage-db') / 'kq.db'}"
    with running_stack(
        tmp_path_factory.mktemp("sabotage"),
        redis_url,
        database,
        worker_env={"KQ_TEST_PROOF_SABOTAGE": str(SABOTAGED_INDEX)},
    ) as running:
        yield running


@pytest.mark.timeout(1200)
def test_a_chunk_made_wrong_is_the_one_flagged_where_its_sentence_starts(sabotaging_stack):
    stack = sabotaging_stack
    with stack.client() as http:
        job_id = submit(http, "\n\n".join(SHORT_PAGE))
        job, audio = finished(stack, http, job_id)
        assert job["progress"]["chunks_total"] == len(SHORT_PAGE)
        proof = checked_report(http, job_id, len(SHORT_PAGE))
        listed = http.get(f"/v1/jobs/{job_id}/proof").json()
        metrics = http.get("/metrics").text

    assert [flag["index"] for flag in proof["flagged"]] == [SABOTAGED_INDEX], proof
    assert proof["flagged_count"] == 1 and proof["placed"]
    assert proof["remade"] >= 1  # the sabotaged chunk was made again before it was flagged
    flag = proof["flagged"][0]
    assert flag["written"] == SHORT_PAGE[SABOTAGED_INDEX]
    assert flag["wer"] > 0.5  # two thirds of it were never said
    assert listed["flags"] == proof["flagged"]
    assert re.search(r'kq_proof_chunks_total\{verdict="flagged"\} [1-9]', metrics)

    assert_placed(flag, audio)
    # What is heard from there is the flagged sentence's start (all of it that was said)
    start = round(flag["start_s"] * RATE)
    heard = words_for_scoring(" ".join(w.text for w in transcribe(audio[start : start + 4 * RATE])))
    assert heard[:5] == words_for_scoring(SHORT_PAGE[SABOTAGED_INDEX])[:5], heard
