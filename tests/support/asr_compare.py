"""How well does the spoken page come across, synthesized straight with kokoro-onnx?

    .venv/bin/python -m tests.support.asr_compare [--voice jf_alpha] [--save DIR]

Synthesizes the test page three ways -- as written, through ``core.text.normalize.spoken_form``
(when that module is there), and written out in words by hand -- transcribes each with Whisper
tiny.en and prints each one's word error rate against the hand-written words, with the runs of
words that differ. No service, queue or database: this measures the text handling and the voice,
so the normalizer's gaps show up before it is wired into the worker.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import soundfile as sf

from tests.support.asr import (
    SERVICE_RATE,
    transcribe,
    transcript_text,
    word_diffs,
    word_error_rate,
    words_for_scoring,
)

DATA = Path(__file__).resolve().parent.parent / "integration" / "data"
PAGE = DATA / "spoken_page.txt"
WORDS_PAGE = DATA / "spoken_page_words.txt"
THREADS = 2  # the test machines are shared: stay within two cores
PARAGRAPH_PAUSE_S = 0.5


def kokoro():
    from kokoro_onnx import Kokoro

    from infra.model_files import resolve_model_files
    from infra.settings import Settings

    files = resolve_model_files(Settings())
    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(files.model), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return Kokoro.from_session(session, str(files.voices))


def synthesize(engine, text: str, voice: str, lang: str) -> np.ndarray:
    # A paragraph at a time, as the service's chunks are at most a few sentences
    pause = np.zeros(int(PARAGRAPH_PAUSE_S * SERVICE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if paragraph:
            audio, rate = engine.create(paragraph, voice=voice, lang=lang)
            assert rate == SERVICE_RATE
            parts += [audio.astype(np.float32), pause]
    return np.concatenate(parts)


def spoken_form_or_none():
    try:
        from core.text.normalize import spoken_form
    except ImportError:
        return None
    return spoken_form


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voice", default="jf_alpha")
    parser.add_argument("--lang", default="en-us")
    parser.add_argument("--save", type=Path, help="also write each version's WAV and transcript")
    parser.add_argument(
        "--only", nargs="+", choices=("raw", "normalized", "words"), help="just these versions"
    )
    args = parser.parse_args()

    page = PAGE.read_text()
    words_page = WORDS_PAGE.read_text()
    reference = words_for_scoring(words_page)
    versions = {"raw": page}
    spoken_form = spoken_form_or_none()
    if spoken_form is not None:
        versions["normalized"] = spoken_form(page, args.lang)
    versions["words"] = words_page

    if args.only:
        versions = {name: text for name, text in versions.items() if name in args.only}
    engine = kokoro()
    print(f"reference: {len(reference)} words; voice {args.voice}, lang {args.lang}")
    for name, text in versions.items():
        started = time.perf_counter()
        audio = synthesize(engine, text, args.voice, args.lang)
        synthesized = time.perf_counter()
        heard = transcribe(audio)
        transcribed = time.perf_counter()
        hypothesis = words_for_scoring(transcript_text(heard))
        seconds = len(audio) / SERVICE_RATE
        print(
            f"\n== {name}: WER {word_error_rate(reference, hypothesis):.4f} "
            f"({len(hypothesis)} words heard; {seconds:.1f} s of audio, synthesis "
            f"{synthesized - started:.1f} s, transcription {transcribed - synthesized:.1f} s)"
        )
        for diff in word_diffs(reference, hypothesis):
            expected, got = " ".join(diff.said), " ".join(diff.heard)
            print(f"  @{diff.position:4d}  said {expected!r:40} heard {got!r}")
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            sf.write(args.save / f"{name}.wav", audio, SERVICE_RATE)
            (args.save / f"{name}.txt").write_text(transcript_text(heard) + "\n")


if __name__ == "__main__":
    main()
