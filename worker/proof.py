"""Proof-listening in the worker: each chunk of a proofed job is heard back by a speech
recognizer right after it is made (docs/proof.md).

The recognizer (faster-whisper: Whisper in CTranslate2, int8 on the CPU, a thread or two) is
loaded once per worker process, on its first proofed chunk. Nothing of it is imported at the
top of this module: Celery's main process imports the tasks and then forks, and a process
that forks must not hold a model runtime (tests/fast/test_import_hygiene.py).

A chunk is checked before it is finished, so a doubtful one can be made again and only the
version kept is ever stored, streamed or assembled: except a job's first chunk, which is
finished first and checked after, so that proof-listening never holds back the first audio of
a job someone listens to while it is made. It can only be flagged, never remade.
"""

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.audio.formats import SAMPLE_RATE
from core.speech.languages import is_english
from core.speech.lexicon import job_lexicon
from core.speech.proof import (
    CLEAR,
    ChunkProof,
    hear,
    judge,
    judge_remake,
    judge_without_remake,
    remake_speed,
)
from core.text.markup import Override, overrides_from_json
from infra.asr_model import asr_model_dir, proof_unavailable
from infra.settings import Settings
from storage.db import transaction
from storage.jobs import ChunkWork
from storage.proof import record_late_proof

if TYPE_CHECKING:  # the engine module imports ONNX Runtime
    from worker.engine import Synthesis, SynthesisEngine

log = logging.getLogger(__name__)

# Threads of the recognizer in each worker process: the chunk's synthesis is done when it
# runs, so it takes the process's share of the cores, but no more than this (it gains little)
ASR_MAX_THREADS = 2
WHISPER_RATE = 16_000
# Test-only (docs/testing.md): chunk indices, comma-separated, whose synthesis is cut to the
# first third of their words, every time they are made: a chunk that is wrong whatever is tried,
# which proof-listening must flag. Read from the worker's environment only, never a setting.
SABOTAGE_ENV = "KQ_TEST_PROOF_SABOTAGE"
SABOTAGE_KEEPS = 1 / 3


class ProofUnavailableError(RuntimeError):
    """This worker cannot proof-listen (no faster-whisper, no model): the job fails, saying
    how to fix it, rather than finish unchecked."""


class Recognizer:
    """Whisper through faster-whisper: audio in, the words heard out."""

    def __init__(self, model_dir: Path, threads: int):
        # A local directory never downloads; offline mode makes sure of it
        os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        self.model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            num_workers=1,
            local_files_only=True,
        )
        self.model_dir = model_dir
        self.threads = threads
        self.load_ms = (time.perf_counter() - started) * 1000

    def transcribe(self, audio: np.ndarray, rate: int = SAMPLE_RATE) -> str:
        """The words heard in float32 mono ``audio`` at ``rate`` Hz."""
        segments, _ = self.model.transcribe(
            resampled(audio, rate, WHISPER_RATE),
            language="en",
            # Greedy and deterministic: the same audio is heard the same way every time, and
            # no earlier window steers a later one
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=True,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()


def resampled(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``audio`` at ``target`` Hz, through PyAV's resampler (the one the tests' files take)."""
    import av

    if rate == target or not len(audio):
        return np.asarray(audio, dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(audio, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
    )
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
    frames = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32)


_recognizer: tuple[int, Recognizer] | None = None


def process_recognizer(settings: Settings) -> Recognizer:
    """This process's recognizer, loaded on first use (never an inherited parent's)."""
    global _recognizer
    if _recognizer is not None and _recognizer[0] == os.getpid():
        return _recognizer[1]
    reason = proof_unavailable(settings)
    if reason:
        raise ProofUnavailableError(reason)
    recognizer = Recognizer(
        asr_model_dir(settings), min(settings.threads_per_child, ASR_MAX_THREADS)
    )
    log.info(
        "pid %s loaded the recognizer %s with %s threads in %.0f ms",
        os.getpid(),
        recognizer.model_dir,
        recognizer.threads,
        recognizer.load_ms,
    )
    _recognizer = (os.getpid(), recognizer)
    return recognizer


def sabotaged_chunks() -> frozenset[int]:
    """The chunk indices KQ_TEST_PROOF_SABOTAGE names (test-only)."""
    raw = os.environ.get(SABOTAGE_ENV, "")
    return frozenset(int(part) for part in raw.split(",") if part.strip().isdigit())


def cut_short(text: str) -> str:
    words = text.split()
    return " ".join(words[: max(1, round(len(words) * SABOTAGE_KEEPS))])


@dataclass(frozen=True)
class ChunkProofreader:
    """Proof-listening for one chunk of a proofed job."""

    settings: Settings
    index: int
    text: str
    lang: str
    overrides: Sequence[Override]
    sabotaged: bool = False

    @property
    def after_finish(self) -> bool:
        """Checked once finished, never remade: the job's first chunk, whose audio a stream
        plays first."""
        return self.index == 0

    def said(self) -> tuple[str, Sequence[Override]]:
        """The text the model is given, and its markup overrides: the chunk's own, or (test
        sabotage) its first words alone."""
        if self.sabotaged:
            return cut_short(self.text), ()
        return self.text, self.overrides

    def reference(self, result: "Synthesis") -> str:
        """What should be heard: the spoken form the model was given, or under sabotage the
        whole chunk's, which it was not."""
        if not self.sabotaged:
            return result.spoken
        from core.speech.spoken import spoken_text

        return spoken_text(self.text, self.lang, self.overrides).text

    def _hear(self, result: "Synthesis"):
        heard = process_recognizer(self.settings).transcribe(result.audio)
        return hear(self.reference(result), heard)

    def check(
        self, result: "Synthesis", remake: Callable[[float], "Synthesis"], speed: float
    ) -> tuple["Synthesis", ChunkProof | None]:
        """Hear ``result``; when doubtful, make it again at another speed and keep the version
        heard better. Returns the synthesis to store and the proof (None: nothing to check)."""
        first = self._hear(result)
        if first is None:
            return result, None
        proof = judge(first, self.settings.proof_max_cer)
        if proof is not None:
            return result, proof
        again = remake(remake_speed(speed))
        second = self._hear(again)
        if second is None:  # cannot happen for the same spoken form; keep what was heard
            return result, judge_without_remake(first, self.settings.proof_max_cer)
        proof = judge_remake(first, second, self.settings.proof_max_cer)
        return (again if proof.kept_remake else result), proof

    def check_finished(self, result: "Synthesis") -> ChunkProof | None:
        """Hear a chunk already finished: flag it when doubtful."""
        first = self._hear(result)
        return None if first is None else judge_without_remake(first, self.settings.proof_max_cer)


def chunk_proofreader(
    settings: Settings, proof: bool, index: int, text: str, lang: str, overrides
) -> ChunkProofreader | None:
    """The proofreader of a chunk of a proofed job (None for a job that is not, or is not
    English: the recognizer is English). Raises ProofUnavailableError, before anything is
    made, when this worker cannot proof-listen."""
    if not proof or not is_english(lang):
        return None
    if _recognizer is None or _recognizer[0] != os.getpid():
        reason = proof_unavailable(settings)
        if reason:
            raise ProofUnavailableError(reason)
    return ChunkProofreader(
        settings, index, text, lang, tuple(overrides), sabotaged=index in sabotaged_chunks()
    )


def made_chunk(
    engine: "SynthesisEngine", work: ChunkWork, settings: Settings
) -> tuple["Synthesis", ChunkProofreader | None, ChunkProof | None]:
    """Synthesize a chunk; for a proofed job's, hear it and (when doubtful) make it again
    before anything is stored. Returns the synthesis to store, the chunk's proofreader (None:
    not proofed) and its proof (None: not checked yet, or nothing to check)."""
    overrides = overrides_from_json(work.overrides)
    proofreader = chunk_proofreader(
        settings, work.proof, work.index, work.text, work.lang, overrides
    )
    text, said_overrides = proofreader.said() if proofreader else (work.text, overrides)
    lexicon = job_lexicon(settings.lexicon_path, work.pronunciations)

    def make(speed: float) -> "Synthesis":
        return engine.synthesize(
            text, work.voice, speed, work.lang, lexicon=lexicon, overrides=said_overrides
        )

    result = make(work.speed)
    if proofreader is None or proofreader.after_finish:
        return result, proofreader, None
    started = time.perf_counter()
    kept, proof = proofreader.check(result, make, work.speed)
    if proof is not None and proof.verdict != CLEAR:
        log.info(
            "chunk %s of job %s %s (letters wrong %.2f, then %.2f) in %.0f ms",
            work.index,
            work.job_id,
            proof.verdict,
            proof.first.cer,
            proof.kept.cer,
            (time.perf_counter() - started) * 1000,
        )
    return kept, proofreader, proof


def check_finished_chunk(
    proofreader: ChunkProofreader,
    result: "Synthesis",
    database_url: str,
    chunk_id: int,
    job_id: str,
) -> None:
    """Hear a chunk already finished (a job's first) and record what was heard. Its audio is
    out and its task done, so a failure here is logged, never the chunk's (a retry would find
    it done and do nothing): it stays made, unchecked."""
    try:
        proof = proofreader.check_finished(result)
        if proof is not None:
            with transaction(database_url) as session:
                record_late_proof(session, job_id, chunk_id, proof.as_row(), proof.verdict)
    except Exception:  # the recognizer's errors are untyped (CTranslate2, PyAV); the database's
        log.exception("chunk %s of job %s could not be proof-listened", proofreader.index, job_id)
