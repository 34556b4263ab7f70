"""Voice samples through the real API, broker, worker and model, with a voices file of the
official voices' names (af_heart, am_echo, ...): the voices are reported with their language,
gender and the default (af_heart); a sample is real 24 kHz speech made once by a worker, then
served from storage with no task at all; a blend's sample is speech unlike either voice's."""

import time
from collections.abc import Iterator

import numpy as np
import pytest

from core.audio.formats import SAMPLE_RATE
from core.voices.samples import SAMPLE_TEXTS
from infra.queue import SYNTHESIZE_SAMPLE
from tests.audio_checks import assert_speech, read_audio, rms
from tests.support.stack import Stack, running_stack
from tests.support.voices import write_voices

# What these measure is speech, not the database: one backend is enough
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Official names over the shipped vectors, each of its own (the shipped file has five)
VOICES = ("af_heart", "am_echo", "bm_fable", "af_bella", "jf_alpha")
# Workers run at idle priority: on a busy machine a sample may wait for a few chunks
SAMPLE_WAIT_S = 240
# A worker's log line goes out a moment after the task arrives
LOG_SETTLE_S = 2.0


@pytest.fixture(scope="module")
def english_stack(tmp_path_factory, redis_url, database_url) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("samples")
    voices = data_dir / "voices.npz"
    write_voices(voices, VOICES)
    with running_stack(
        data_dir,
        redis_url,
        database_url,
        KOKORO_VOICES_PATH=str(voices),
        KQ_SAMPLE_WAIT_S=str(SAMPLE_WAIT_S),
    ) as running:
        yield running


def sample_receipts(stack: Stack) -> int:
    """How many sample tasks the worker has received, by its own log."""
    lines = stack.worker_log.read_text(errors="replace").splitlines()
    return sum(f"Task {SYNTHESIZE_SAMPLE}[" in line and "received" in line for line in lines)


def get_sample(stack: Stack, voice: str, **params):
    with stack.client(timeout_s=SAMPLE_WAIT_S + 30) as http:
        response = http.get(f"/v1/voices/{voice}/sample", params=params)
    assert response.status_code == 200, response.text
    return response


def test_voices_say_language_gender_and_the_default(english_stack):
    with english_stack.client() as http:
        voices = {voice["name"]: voice for voice in http.get("/v1/voices").json()}
    assert set(voices) == set(VOICES)
    assert [name for name, voice in voices.items() if voice["default"]] == ["af_heart"]
    heart, echo, fable = voices["af_heart"], voices["am_echo"], voices["bm_fable"]
    assert (heart["language"], heart["gender"], heart["grade"]) == ("en-us", "female", "A")
    assert (echo["language"], echo["gender"]) == ("en-us", "male")
    assert (fable["language"], fable["language_name"], fable["gender"]) == (
        "en-gb",
        "British English",
        "male",
    )


def test_a_sample_is_made_once_by_a_worker_then_served_from_storage(english_stack):
    before = sample_receipts(english_stack)
    made = get_sample(english_stack, "af_heart")
    assert made.headers["X-KQ-Sample"] == "made"
    assert made.headers["content-type"] == "audio/wav"
    audio, rate = read_audio(made.content)
    assert rate == SAMPLE_RATE
    assert_speech(audio, rate, len(SAMPLE_TEXTS["en-us"]))
    assert sample_receipts(english_stack) == before + 1

    again = get_sample(english_stack, "af_heart")
    assert again.headers["X-KQ-Sample"] == "cached"
    assert again.content == made.content
    time.sleep(LOG_SETTLE_S)
    assert sample_receipts(english_stack) == before + 1  # no task: storage had it
    kept = list((english_stack.data_dir / "audio" / "samples").rglob("*.wav"))
    assert len(kept) == 1 and kept[0].read_bytes() == made.content


def test_a_blend_sample_is_speech_unlike_either_voice(english_stack):
    text = "Two voices become one when their styles are mixed."
    heart, _ = read_audio(get_sample(english_stack, "af_heart", text=text).content)
    echo, _ = read_audio(get_sample(english_stack, "am_echo", text=text).content)
    response = get_sample(english_stack, "af_heart:0.5,am_echo:0.5", text=text)
    assert response.headers["X-KQ-Sample"] == "made"
    blend, rate = read_audio(response.content)
    assert_speech(blend, rate, len(text))
    for alone in (heart, echo):
        assert not (alone.shape == blend.shape and np.array_equal(alone, blend))


def test_a_sample_in_ogg_opus_is_audio(english_stack):
    response = get_sample(english_stack, "bm_fable", format="opus", speed=1.2)
    assert response.headers["content-type"] == "audio/ogg"
    assert response.content[:4] == b"OggS"
    audio, _ = read_audio(response.content)
    assert rms(audio) > 0.01
