"""Word timings are where the words are heard: a page of book prose synthesized by the service,
its words' starts (GET /v1/jobs/{id}/timings) against where Whisper hears each word begin.

Whisper's word timestamps have an error of their own, so it is measured in the same test: single
words synthesized with known silences between them (markup breaks) start exactly where the
audio rises out of each silence, and Whisper's starts for them are compared with those.
"""

import json
import statistics
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pytest

from tests.audio_checks import read_audio
from tests.support.asr import Word, transcribe, words_for_scoring

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parent / "data"
JOB_TIMEOUT_S = 1500.0
# Our word starts against Whisper's: the median and 95th percentile of the absolute difference
MAX_MEDIAN_START_S = 0.130
MAX_P95_START_S = 0.350
LAST_WORD_SLACK_S = 0.05
# Audio above this is speech (worker/audio.py trims chunks at it)
SPEECH_LEVEL = 1e-3
# Single words, each its own chunk, a known silence after each
PROBE_WORDS = [
    "Morning",
    "garden",
    "letter",
    "silver",
    "window",
    "captain",
    "river",
    "paper",
    "orange",
    "basket",
    "doctor",
    "winter",
    "people",
    "marble",
    "candle",
    "season",
    "forest",
    "travel",
    "number",
    "money",
    "children",
    "kitchen",
    "holiday",
    "summer",
    "yellow",
    "evening",
    "mountain",
    "question",
    "anchor",
    "butter",
]
# Short, as between sentences: Whisper puts a word's start into a long silence before it
PROBE_GAP_S = 0.25


def submit(http, body: dict) -> str:
    response = http.post("/v1/jobs", json={"format": "wav", **body})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def finished_audio(stack, http, job_id: str) -> np.ndarray:
    job = stack.wait_for_job(job_id, timeout_s=JOB_TIMEOUT_S)
    assert job["status"] == "succeeded", job["error"]
    audio, rate = read_audio(http.get(f"/v1/jobs/{job_id}/audio").content)
    assert rate == 24_000
    return audio


def heard_words(words: list[Word]) -> list[tuple[str, float]]:
    """Whisper's words with their starts, a piece it split off joined to its word."""
    out: list[tuple[str, float]] = []
    for word in words:
        if word.attached and out:
            out[-1] = (out[-1][0] + word.text, out[-1][1])
        else:
            out.append((word.text, word.start))
    return out


def start_differences(ours: list[tuple[str, float]], heard: list[tuple[str, float]]):
    """Whisper's start - ours for every word both have, aligned by spelling, in order."""

    def pieces(words):
        # A word said as several ('1921') starts with its first piece
        return [
            (piece, start if k == 0 else None)
            for text, start in words
            for k, piece in enumerate(words_for_scoring(text))
        ]

    a, b = pieces(ours), pieces(heard)
    matcher = SequenceMatcher(None, [p for p, _ in a], [p for p, _ in b], autojunk=False)
    differences = []
    for i, j, size in matcher.get_matching_blocks():
        for k in range(size):
            ours_start, heard_start = a[i + k][1], b[j + k][1]
            if ours_start is not None and heard_start is not None:
                differences.append(heard_start - ours_start)
    return differences


def onsets(audio: np.ndarray, rate: int = 24_000, quiet_s: float = 0.2) -> list[float]:
    """Where the audio rises out of at least ``quiet_s`` of silence (and its very start)."""
    loud = np.flatnonzero(np.abs(audio) > SPEECH_LEVEL)
    gaps = np.diff(loud) > quiet_s * rate
    return [loud[0] / rate, *(loud[1:][gaps] / rate)]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def summary(name: str, differences: list[float]) -> dict:
    absolute = [abs(d) for d in differences]
    return {
        f"{name}_words_compared": len(differences),
        f"{name}_median_start_diff_s": round(statistics.median(absolute), 4),
        f"{name}_p95_start_diff_s": round(percentile(absolute, 95), 4),
        # Whisper's bias: negative when it hears words start early
        f"{name}_median_signed_diff_s": round(statistics.median(differences), 4),
    }


def parse_vtt(text: str) -> list[tuple[float, float]]:
    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    return [
        (seconds(line.split(" --> ")[0]), seconds(line.split(" --> ")[1]))
        for line in text.splitlines()
        if " --> " in line
    ]


# Timing is the same whatever the database: SQLite only. Two jobs and two transcriptions on
# two busy cores take several minutes
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_word_starts_are_where_whisper_hears_them(stack, record_property):
    page = (DATA / "word_timing_page.txt").read_text()
    assert 1800 <= len(page) <= 2200
    probe = f" [pause:{PROBE_GAP_S}s] ".join(f"{word}." for word in PROBE_WORDS)

    with stack.client() as http:
        # Both at once: the worker runs two chunks at a time (the default voice for both)
        page_job = submit(http, {"text": page})
        probe_job = submit(http, {"text": probe, "markup": "tags"})
        page_audio = finished_audio(stack, http, page_job)
        probe_audio = finished_audio(stack, http, probe_job)

        timings = http.get(f"/v1/jobs/{page_job}/timings")
        assert timings.status_code == 200, timings.text
        ours = timings.json()
        subtitles = f"/v1/jobs/{page_job}/subtitles"
        word_vtt = http.get(subtitles, params={"format": "vtt", "level": "word"})
        sentence_vtt = http.get(subtitles, params={"format": "vtt"})
        events = http.get(f"/v1/jobs/{page_job}/events").text

    words = ours["words"]
    assert not ours["estimated"]
    assert len(words) > 300
    assert all(0 <= w["start"] < w["end"] for w in words)
    assert all(a["end"] <= b["start"] for a, b in zip(words, words[1:], strict=False))

    # The service's word starts against Whisper's
    service = start_differences(
        [(w["word"], w["start"]) for w in words], heard_words(transcribe(page_audio))
    )
    # Whisper's own error: each probe word starts where the audio rises out of its silence
    true_starts = onsets(probe_audio)
    assert len(true_starts) == len(PROBE_WORDS)
    recognizer = start_differences(
        list(zip(PROBE_WORDS, true_starts, strict=True)), heard_words(transcribe(probe_audio))
    )
    figures = summary("service", service) | summary("recognizer", recognizer)
    for name, value in figures.items():
        record_property(name, value)
    print("word timing:", json.dumps(figures))

    assert len(service) >= 0.8 * len(words), "too few words matched to compare starts"
    assert len(recognizer) >= 0.8 * len(PROBE_WORDS)
    absolute = [abs(d) for d in service]
    assert statistics.median(absolute) <= MAX_MEDIAN_START_S, figures
    assert percentile(absolute, 95) <= MAX_P95_START_S, figures

    # The last word ends with the speech
    speech_end = np.flatnonzero(np.abs(page_audio) > SPEECH_LEVEL)[-1] / 24_000
    assert abs(words[-1]["end"] - speech_end) <= LAST_WORD_SLACK_S

    # A cue per word, in order, never overlapping; sentences start and end with their words
    cues = parse_vtt(word_vtt.text)
    assert len(cues) == len(words)
    assert all(start <= end for start, end in cues)
    assert all(a[1] <= b[0] for a, b in zip(cues, cues[1:], strict=False))
    sentences = parse_vtt(sentence_vtt.text)
    assert sentences[0][0] == pytest.approx(words[0]["start"], abs=0.001)
    assert sentences[-1][1] == pytest.approx(words[-1]["end"], abs=0.001)
    assert all(a[1] <= b[0] for a, b in zip(sentences, sentences[1:], strict=False))

    # The live events carried the same words, chunk by chunk (in the order chunks finished)
    by_chunk = {}
    for block in events.split("\n\n"):
        if "event: chunk" in block:
            data = json.loads(block.split("data: ", 1)[1])
            by_chunk[data["chunk"]] = [w["word"] for w in data["words"]]
    assert [word for _, said in sorted(by_chunk.items()) for word in said] == [
        w["word"] for w in words
    ]
