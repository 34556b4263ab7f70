"""A chunk's audio and the samples of its words, from one run of the (timed) model.

``Kokoro.create(phonemes, is_phonemes=True)`` is done here step by step, exactly as
kokoro-onnx does it (same batches of at most 510 phonemes, inputs, style row, trimming and
pauses between batches), so that the durations output of the derived model
(worker/timed_model.py) can be read along with the audio: the audio is the same as
``create``'s. Without durations (a model they could not be found in) the words are timed by
estimate, the audio shared evenly among the phoneme tokens.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import onnxruntime as ort
from kokoro_onnx import Kokoro
from kokoro_onnx.chunker import pause_after, split_phonemes
from kokoro_onnx.config import MAX_PHONEME_LENGTH, SAMPLE_RATE
from kokoro_onnx.session import input_dtypes
from kokoro_onnx.trim import trim as trim_audio

from core.speech.languages import is_english
from core.speech.phonemizer import phonemize
from core.speech.word_timing import (
    SAMPLES_PER_FRAME,
    TimedWord,
    even_edges,
    timed_words,
    token_edges,
)
from core.text.normalize import spoken_form

# kokoro-onnx's create() defaults: the silence after a batch that ends a sentence or a clause
SENTENCE_PAUSE_S = 0.25
CLAUSE_PAUSE_S = 0.1
# Distinct words a worker keeps the phonemes of (each a short string)
WORD_PHONEMES_CACHED = 50_000


@dataclass(frozen=True)
class TimedAudio:
    audio: np.ndarray  # float32 mono at SAMPLE_RATE, as Kokoro.create returns it
    tokens: str  # one character per model token read (batches joined by a space)
    edges: list[int]  # where each token starts, then where the last ends (len(tokens) + 1)
    estimated: bool  # the edges are an even split, not the model's durations
    batch_frames: list[tuple[int, int]] = field(default_factory=list)  # (frames, samples)


def _speed_value(speed: float, dtype: np.dtype) -> float | int:
    # As kokoro-onnx adapts speed: an export with an integer speed input gets it rounded
    if dtype.kind in "iu" and float(speed) != int(speed):
        return max(1, round(speed))
    return speed


def synthesize_timed(
    kokoro: Kokoro,
    durations_output: str | None,
    phonemes: str,
    style: str | np.ndarray,
    speed: float,
    run_options: ort.RunOptions | None = None,
) -> TimedAudio:
    """What ``kokoro.create(phonemes, voice=style, speed=speed, is_phonemes=True)`` returns,
    with where each token is in it."""
    if not 0.5 <= speed <= 2.0:
        raise ValueError(f"Speed should be between 0.5 and 2.0, got {speed}")
    voice = kokoro.get_voice_style(style) if isinstance(style, str) else style
    session = kokoro.sess
    dtypes = input_dtypes(session)
    # Older exports name the token input "tokens", newer ones "input_ids" (as kokoro-onnx)
    tokens_input = "input_ids" if "input_ids" in dtypes else "tokens"
    audio_output = session.get_outputs()[0].name
    outputs = [audio_output, durations_output] if durations_output else [audio_output]
    batches = split_phonemes(" ".join(phonemes.split()), MAX_PHONEME_LENGTH)
    if not batches:
        raise ValueError(f"Nothing to synthesize: {phonemes!r} has no phonemes")
    parts, known, edges, frames = [], [], [], []
    offset = 0
    for number, batch in enumerate(batches):
        tokens = kokoro.tokenizer.tokenize(batch)
        if not tokens:
            raise ValueError(f"No phonemes of {batch!r} are in the model vocabulary")
        inputs = {
            tokens_input: np.array([[0, *tokens, 0]], dtype=dtypes[tokens_input]),
            # One style row per token count, n tokens use row n - 1 (as kokoro-onnx)
            "style": np.asarray(voice[min(len(tokens), len(voice)) - 1], dtype=dtypes["style"]),
            "speed": np.array([_speed_value(speed, dtypes["speed"])], dtype=dtypes["speed"]),
        }
        result = session.run(outputs, inputs, run_options)
        raw = np.asarray(result[0]).ravel()
        if durations_output:
            durations = np.asarray(result[1]).ravel().astype(np.int64)
            frames.append((int(durations.sum()), len(raw)))
            batch_edges = np.array(token_edges(durations.tolist(), SAMPLES_PER_FRAME))
        else:
            batch_edges = np.array(even_edges(len(tokens), len(raw)))
        audio, (head, _) = trim_audio(raw)
        batch_edges = np.clip(batch_edges - head, 0, len(audio))
        if number < len(batches) - 1:
            pause = pause_after(batch, SENTENCE_PAUSE_S, CLAUSE_PAUSE_S)
            audio = np.concatenate([audio, np.zeros(int(pause * SAMPLE_RATE), dtype=audio.dtype)])
            known.append(kokoro.tokenizer.known(batch) + " ")  # the pause: a token of its own
        else:
            known.append(kokoro.tokenizer.known(batch))
        edges += (batch_edges + offset).tolist()
        parts.append(audio)
        offset += len(audio)
    # A batch's last edge (its end) starts the pause token after it; the next batch's first
    # edge ends it: one edge per token and one for the end, as for a single run
    return TimedAudio(
        np.concatenate(parts), "".join(known), edges, durations_output is None, frames
    )


@lru_cache(maxsize=WORD_PHONEMES_CACHED)
def word_phonemes(word: str, lang: str) -> str:
    """A spoken word phonemized on its own (to find its sounds among the chunk's)."""
    return phonemize(word, lang)


@lru_cache(maxsize=WORD_PHONEMES_CACHED)
def _said_alone(word: str, lang: str) -> str:
    return spoken_form(word, lang) if is_english(lang) else word


def chunk_words(written: str, spoken: str, lang: str, timed: TimedAudio) -> list[TimedWord]:
    """The chunk's written words with their samples in ``timed.audio``."""
    phonemes_of: Callable[[str], str] = lambda word: word_phonemes(word, lang)  # noqa: E731
    return timed_words(
        written,
        spoken,
        timed.tokens,
        timed.edges,
        phonemes_of,
        said_alone=lambda word: _said_alone(word, lang),
    )
