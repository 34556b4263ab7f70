"""Where should proof-listening doubt a chunk? Clean book prose heard back the way the worker
hears it, against chunks that are wrong, judged by words and by letters.

    .venv/bin/python benchmarks/proof_threshold.py [--chapters 5 6 7 8] [--voice jf_alpha]
    .venv/bin/python benchmarks/proof_threshold.py --rescore   # score the stored hearings again

Chapters of Moby-Dick (benchmarks/data/moby_dick_4-15.md) are cut into chunks by the service's
own planner, each chunk synthesized by the worker's engine and transcribed by the worker's
recognizer (worker/proof.py), and compared as the worker compares it (core/speech/proof.py).
Wrong chunks are made from the same hearings: each chunk's transcript against the next chunk's
spoken form (a chunk swapped for another's audio), and a transcript cut to its first two
thirds and to its first third (a model that stopped early). For each threshold, by word error
rate and by character error rate, it gives the share of clean chunks that would be doubted and
of wrong ones caught; then it makes every clean chunk doubtful at the default threshold again
at the remake speed, to count how many would stay flagged.

The hearings are kept in the results (benchmarks/results/proof_threshold.json), so a change to
the comparison is measured again with ``--rescore`` in seconds: no synthesis but the remakes.
A process of one thread: about 25 minutes for the four default chapters on a shared two-core
machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.speech.proof import (  # noqa: E402
    DEFAULT_MAX_CER,
    MIN_ERRORS_TO_DOUBT,
    Hearing,
    better,
    hear,
    is_doubtful,
    remake_speed,
)

SOURCE = ROOT / "benchmarks" / "data" / "moby_dick_4-15.md"
RESULTS = ROOT / "benchmarks" / "results" / "proof_threshold.json"
WER_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
CER_THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
THREADS = 1
LANG = "en-us"
_HEADING = re.compile(r"^# Chapter (\d+)\. [^\n]*$", re.MULTILINE)


def chapters(numbers: list[int]) -> list[str]:
    text = SOURCE.read_text()
    marks = list(_HEADING.finditer(text))
    found = {}
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        found[int(mark[1])] = text[mark.end() : following.start() if following else len(text)]
    return [found[n].strip() for n in numbers]


def planned(texts: list[str]):
    from core.text.chunk_plan import plan_chunks
    from infra.settings import Settings

    settings = Settings()
    return plan_chunks(
        texts,
        lang=LANG,
        markup="none",
        check_voice=lambda spec: spec,
        max_tokens=settings.chunk_tokens,
        first_chunk_tokens=settings.first_chunk_tokens,
    )


class Listener:
    """The worker's engine and recognizer, one thread each."""

    def __init__(self):
        from infra.asr_model import asr_model_dir
        from infra.model_files import resolve_model_files
        from infra.settings import Settings
        from worker.engine import SynthesisEngine
        from worker.proof import Recognizer

        settings = Settings()
        self.engine = SynthesisEngine(resolve_model_files(settings), THREADS)
        self.recognizer = Recognizer(asr_model_dir(settings), THREADS)
        self.synthesis_s = self.recognition_s = self.audio_s = 0.0

    def listen(self, text: str, voice: str, speed: float) -> tuple[str, str]:
        """(spoken form, what was heard) of ``text`` made at ``speed``."""
        started = time.perf_counter()
        result = self.engine.synthesize(text, voice, speed, LANG)
        made = time.perf_counter()
        heard = self.recognizer.transcribe(result.audio)
        self.synthesis_s += made - started
        self.recognition_s += time.perf_counter() - made
        self.audio_s += result.seconds
        return result.spoken, heard


def doubted_by_words(hearing: Hearing, threshold: float) -> bool:
    return hearing.wer > threshold and hearing.errors >= MIN_ERRORS_TO_DOUBT


def share(hearings: list[Hearing], doubt: Callable[[Hearing], bool]) -> float:
    return round(sum(map(doubt, hearings)) / len(hearings), 4)


def cut(hearing: Hearing, keep: float) -> Hearing | None:
    words = hearing.heard.split()
    return hear(hearing.spoken, " ".join(words[: round(len(words) * keep)]))


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    at = {"median": 0.5, "p90": 0.9, "p98": 0.98, "max": 1.0}
    return {name: round(ordered[int(q * (len(ordered) - 1))], 4) for name, q in at.items()}


def table(clean, wrong, thresholds, doubt) -> list[dict]:
    return [
        {
            "threshold": t,
            "clean_doubted": share(clean, lambda h, t=t: doubt(h, t)),
            **{
                f"{name}_caught": share(hearings, lambda h, t=t: doubt(h, t))
                for name, hearings in wrong.items()
            },
        }
        for t in thresholds
    ]


def remakes(listener: Listener, rows: list[dict], clean: list[Hearing], voice: str) -> list[dict]:
    """Every clean chunk doubtful at the default threshold, made again at the remake speed."""
    made = []
    for row, first in zip(rows, clean, strict=True):
        if not is_doubtful(first, DEFAULT_MAX_CER):
            continue
        spoken, heard = listener.listen(row["text"], voice, remake_speed(1.0))
        second = hear(spoken, heard)
        kept = second if better(first, second) else first
        made.append(
            {
                "index": row["index"],
                "first_cer": round(first.cer, 4),
                "remake_cer": round(second.cer, 4),
                "remake_heard": heard,
                "flagged": is_doubtful(kept, DEFAULT_MAX_CER),
            }
        )
        print(f"remake {row['index']:4d} CER {first.cer:.3f} -> {second.cer:.3f}", flush=True)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", type=int, nargs="+", default=[5, 6, 7, 8])
    parser.add_argument("--voice", default="jf_alpha")
    parser.add_argument("--limit", type=int, help="only the first N chunks (a quick try)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--rescore", action="store_true", help="score the hearings stored in --output again"
    )
    args = parser.parse_args()

    listener = Listener()
    if args.rescore:
        stored = json.loads(args.output.read_text())
        args.chapters, args.voice = stored["chapters"], stored["voice"]
        rows = stored["chunk_hearings"]
        texts = {c.index: c.text for c in planned(chapters(args.chapters))}
        for row in rows:
            row.setdefault("text", texts[row["index"]])
        timing = stored.get("timing") or {  # results written before timing had its own key
            key: stored[key]
            for key in (
                "audio_seconds",
                "synthesis_seconds",
                "recognition_seconds",
                "recognition_over_synthesis",
            )
        }
    else:
        rows = []
        chunks = planned(chapters(args.chapters))[: args.limit]
        print(f"{len(chunks)} chunks of chapters {args.chapters}, voice {args.voice}")
        for chunk in chunks:
            spoken, heard = listener.listen(chunk.text, args.voice, 1.0)
            rows.append(
                {"index": chunk.index, "text": chunk.text, "spoken": spoken, "heard": heard}
            )
            print(f"{chunk.index:4d} {heard[:70]}", flush=True)
        timing = {
            "audio_seconds": round(listener.audio_s, 1),
            "synthesis_seconds": round(listener.synthesis_s, 1),
            "recognition_seconds": round(listener.recognition_s, 1),
            "recognition_over_synthesis": round(listener.recognition_s / listener.synthesis_s, 3),
        }
    if "spoken" not in rows[0]:  # hearings stored before spoken forms were
        from core.speech.spoken import spoken_text

        for row in rows:
            row["spoken"] = spoken_text(row["text"], LANG).text
    pairs = [(row, h) for row in rows if (h := hear(row["spoken"], row["heard"])) is not None]
    rows, clean = [row for row, _ in pairs], [h for _, h in pairs]

    wrong = {
        "swapped": [
            h for a, b in zip(clean, clean[1:], strict=False) if (h := hear(b.spoken, a.heard))
        ],
        "cut_to_two_thirds": [h for c in clean if (h := cut(c, 2 / 3)) is not None],
        "cut_to_one_third": [h for c in clean if (h := cut(c, 1 / 3)) is not None],
    }
    made_again = remakes(listener, rows, clean, args.voice)
    summary = {
        "machine": f"{platform.machine()}, {platform.system()}",
        "voice": args.voice,
        "chapters": args.chapters,
        "recognizer": "Whisper tiny.en (CTranslate2, int8), greedy",
        "min_errors_to_doubt": MIN_ERRORS_TO_DOUBT,
        "default_max_cer": DEFAULT_MAX_CER,
        "chunks": len(clean),
        "words": sum(h.words for h in clean),
        "timing": timing,
        "clean_wer": percentiles([h.wer for h in clean]),
        "clean_cer": percentiles([h.cer for h in clean]),
        "book_wer": round(sum(h.errors for h in clean) / sum(h.words for h in clean), 4),
        "book_cer": round(sum(h.letter_errors for h in clean) / sum(h.letters for h in clean), 4),
        "wrong_cer_min": {
            name: round(min(h.cer for h in hearings), 4) for name, hearings in wrong.items()
        },
        "by_cer": table(clean, wrong, CER_THRESHOLDS, is_doubtful),
        "by_wer": table(clean, wrong, WER_THRESHOLDS, doubted_by_words),
        "doubted_at_default": sum(is_doubtful(h, DEFAULT_MAX_CER) for h in clean),
        "flagged_at_default": sum(r["flagged"] for r in made_again),
        "remakes_at_default": made_again,
        "median_chunk_words": statistics.median(h.words for h in clean),
        "chunk_hearings": [
            {
                **{k: row[k] for k in ("index", "spoken", "heard")},
                "wer": round(h.wer, 4),
                "cer": round(h.cer, 4),
            }
            for row, h in zip(rows, clean, strict=True)
        ],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "chunk_hearings"}, indent=2))


if __name__ == "__main__":
    main()
