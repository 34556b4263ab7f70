"""The service says what a careful narrator would: a page of book prose full of numbers, dates,
times, money, units, titles, Roman numerals, initialisms, symbols, a phone number and a web
address, synthesized by the service, is recognised by Whisper as well as the same page written
out in words by hand and synthesized the same way.

Speech recognition judges what was heard, not what text went in: a worker that reads "1921" as
"one nine two one" or "Dr." as "D R" is caught here even when every text-level test passes.
"""

from pathlib import Path

import pytest

from core.text.sentences import normalize_text
from tests.audio_checks import assert_speech, read_audio
from tests.support.asr import (
    transcribe,
    transcript_text,
    word_diffs,
    word_error_rate,
    words_for_scoring,
)

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parent / "data"
VOICE = "jf_alpha"
LANG = "en-us"
# The page may be heard worse than its hand-written words by at most this much
MAX_EXTRA_WER = 0.02
# Whisper tiny.en on the accented jf_alpha voice heard the hand-written words page at a WER of
# 0.05-0.07 when this was written (a few names and words it mishears: Okafor, bequest,
# Carinthia); far above that, the ASR or the voice is broken and the comparison means nothing
MAX_WORDS_WER = 0.15
JOB_TIMEOUT_S = 1500.0  # two 2-minute pages on two shared cores


def submit(http, text: str) -> str:
    response = http.post(
        "/v1/jobs", json={"text": text, "format": "wav", "voice": VOICE, "lang": LANG}
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def download(stack, http, job_id: str) -> bytes:
    finished = stack.wait_for_job(job_id, timeout_s=JOB_TIMEOUT_S)
    assert finished["status"] == "succeeded", finished["error"]
    response = http.get(finished["links"]["audio"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    return response.content


def report(name: str, reference: list[str], hypothesis: list[str]) -> str:
    lines = [f"{name}: WER {word_error_rate(reference, hypothesis):.4f}"]
    for diff in word_diffs(reference, hypothesis):
        lines.append(
            f"  @{diff.position}: said {' '.join(diff.said)!r}, heard {' '.join(diff.heard)!r}"
        )
    return "\n".join(lines)


# The database plays no part in what is said: SQLite only. Two pages of synthesis and two
# transcriptions take 15-20 minutes on two busy cores
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_page_is_heard_as_well_as_its_words(stack, record_property, tmp_path):
    page = (DATA / "spoken_page.txt").read_text()
    words_page = (DATA / "spoken_page_words.txt").read_text()
    reference = words_for_scoring(words_page)
    assert 1200 <= len(page) <= 1800 and len(reference) > 300

    with stack.client() as http:
        # Both at once: the worker runs two chunks at a time, and the pages are independent
        jobs = {"page": submit(http, page), "words": submit(http, words_page)}
        audio = {name: download(stack, http, job_id) for name, job_id in jobs.items()}

    wer: dict[str, float] = {}
    reports: list[str] = []
    for name, data in audio.items():
        samples, rate = read_audio(data)
        assert rate == 24_000
        # Speech all through, about as long as the words said (the page is shorter as written)
        assert_speech(samples, rate, len(normalize_text(words_page)))
        (tmp_path / f"{name}.wav").write_bytes(data)
        heard = transcribe(samples, rate)
        hypothesis = words_for_scoring(transcript_text(heard))
        wer[name] = word_error_rate(reference, hypothesis)
        reports.append(report(name, reference, hypothesis))
        record_property(f"wer_{name}", round(wer[name], 4))
    summary = "\n".join(reports)
    print(summary)

    assert wer["words"] <= MAX_WORDS_WER, summary
    assert wer["page"] <= wer["words"] + MAX_EXTRA_WER, summary
