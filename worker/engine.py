"""The Kokoro synthesis engine: one ONNX Runtime session per worker process, made after fork."""

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from kokoro_onnx import Kokoro

from core.audio.formats import SAMPLE_RATE
from core.speech.lexicon import EMPTY_LEXICON, Lexicon
from core.speech.phonemizer import phonemize
from core.speech.spoken import speak
from core.speech.word_timing import TimedWord
from core.text.markup import Override
from core.voices.specs import is_blend, parse_voice
from infra.model_files import ModelFiles
from infra.settings import get_settings
from worker.providers import COREML, CPU, choose_providers, coreml_compile_lock
from worker.run_options import run_options
from worker.timed_model import timed_model
from worker.timed_synthesis import chunk_words, synthesize_timed

log = logging.getLogger(__name__)

WARMUP_TEXT = "Warming up."
# Blended style vectors kept per engine (each 510x256 float32, about half a megabyte)
MAX_CACHED_BLENDS = 16


@dataclass(frozen=True)
class Synthesis:
    audio: np.ndarray  # float32 mono at SAMPLE_RATE
    spoken: str
    tokens: int
    normalize_ms: float
    phonemize_ms: float
    inference_ms: float
    # The written words with their samples in ``audio`` (core/speech/word_timing.py); estimated when
    # the model gave no durations
    words: tuple[TimedWord, ...] = ()
    words_estimated: bool = False

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    # ORT does not see container CPU limits; concurrency x intra-op threads <= cores
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # The CPU memory arena stays on: without it this model ran 2x slower and 3x larger
    options.enable_cpu_mem_arena = True
    return options


def build_session(
    model_path: str,
    threads: int,
    requested: str | None,
    options: Callable[[str], dict[str, str]] = lambda _: {},
) -> ort.InferenceSession:
    """A session on the first provider that builds, falling back towards CPU. A session with
    CoreML among its providers is made under the compile lock of its cache directory
    (``coreml_compile_lock``): one process of the host compiles, the others then load the
    compiled model. Without CoreML there is no lock."""
    providers = choose_providers(ort.get_available_providers(), requested)
    last_error: Exception | None = None
    for index, provider in enumerate(providers):
        tried = providers[index:]
        try:
            with _compile_lock(tried, options):
                return ort.InferenceSession(
                    model_path,
                    sess_options=session_options(threads),
                    providers=[(p, options(p)) for p in tried],
                )
        except Exception as error:  # ORT raises its own, untyped, errors
            last_error = error
            if provider != CPU:
                log.warning(
                    "provider %s failed to build a session (%s); falling back", provider, error
                )
    raise RuntimeError(f"no ONNX Runtime provider could load {model_path}") from last_error


def _compile_lock(
    providers: list[str], options: Callable[[str], dict[str, str]]
) -> AbstractContextManager[None]:
    """The CoreML compile lock when ``providers`` include CoreML with a cache; else nothing."""
    if COREML not in providers:
        return nullcontext()
    cache_dir = options(COREML).get("ModelCacheDirectory")
    return coreml_compile_lock(Path(cache_dir)) if cache_dir else nullcontext()


class SynthesisEngine:
    def __init__(
        self,
        files: ModelFiles,
        threads: int,
        providers: str | None = None,
        options: Callable[[str], dict[str, str]] = lambda _: {},
    ):
        started = time.perf_counter()
        # The model with its phoneme durations as an extra output: word timings for free
        timed = timed_model(files.model, get_settings().models_dir)
        self.durations_output = timed.durations_output
        session = build_session(str(timed.path), threads, providers, options)
        self.kokoro = Kokoro.from_session(session, str(files.voices))
        self.provider = session.get_providers()[0]
        # KQ_ONNX_ARENA_SHRINKAGE: every run gives the arena's unused blocks back afterwards
        self.run_options = run_options(get_settings().onnx_arena_shrinkage, self.provider)
        self.threads = threads
        self.model_path = str(files.model)
        self.load_ms = (time.perf_counter() - started) * 1000
        self.warmup_ms = 0.0
        self._blends: dict[str, np.ndarray] = {}

    def warm_up(self, voice: str) -> None:
        """One short synthesis so the first real chunk does not pay for graph initialization."""
        started = time.perf_counter()
        self.synthesize(WARMUP_TEXT, voice, 1.0, "en-us")
        self.warmup_ms = (time.perf_counter() - started) * 1000

    def voice_style(self, voice: str) -> str | np.ndarray:
        """What kokoro-onnx gets for a voice spec: a plain name as it is, a blend
        (``a:0.7,b:0.3``) as the weighted sum of its voices' style vectors, cached per spec."""
        if not is_blend(voice):
            return voice
        style = self._blends.get(voice)
        if style is None:
            blend = parse_voice(voice, self.kokoro.get_voices())
            style = sum(
                weight * self.kokoro.get_voice_style(name).astype(np.float32)
                for name, weight in blend.parts
            )
            style = np.asarray(style, dtype=np.float32)
            if len(self._blends) >= MAX_CACHED_BLENDS:
                self._blends.pop(next(iter(self._blends)))
            self._blends[voice] = style
        return style

    def synthesize(
        self,
        text: str,
        voice: str,
        speed: float,
        lang: str,
        *,
        lexicon: Lexicon = EMPTY_LEXICON,
        overrides: Sequence[Override] = (),
    ) -> Synthesis:
        """Speak a chunk's written text: its spoken form (core/speech/spoken.py), then the model."""
        spoken = speak(
            text,
            lang,
            lexicon=lexicon,
            phonemize=lambda plain: phonemize(plain, lang),
            overrides=overrides,
        )
        phonemes = spoken.phonemes
        phonemized = time.perf_counter()
        tokens = len(self.kokoro.tokenizer.known(phonemes))
        timed = None
        if tokens == 0:
            # Only punctuation or symbols espeak does not read: nothing to say, not an error
            audio = np.zeros(0, dtype=np.float32)
        else:
            # kokoro-onnx's create(phonemes, is_phonemes=True), batches of at most 510 tokens
            # and all, run step by step to read the token durations too (the same audio)
            timed = synthesize_timed(
                self.kokoro,
                self.durations_output,
                phonemes,
                self.voice_style(voice),
                speed,
                self.run_options,
            )
            audio = timed.audio
        finished = time.perf_counter()
        return Synthesis(
            audio=np.asarray(audio, dtype=np.float32),
            spoken=spoken.spoken,
            tokens=tokens,
            normalize_ms=spoken.normalize_ms,
            phonemize_ms=spoken.phonemize_ms,
            inference_ms=(finished - phonemized) * 1000,
            words=tuple(chunk_words(text, spoken.spoken, lang, timed)) if timed else (),
            words_estimated=timed.estimated if timed else False,
        )
