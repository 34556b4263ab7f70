"""What casting a novel costs: ``core.cast.analyse_cast`` on a 500,000-character text.

The novel is the annotated passages of tests/data/cast (13 books by 11 authors) joined over and
over, paragraph by paragraph, to at least 500,000 characters (`--chars`). In the same run, the
baseline: ``core.text.sentences.split_sentences`` on the same text (what every job already
does to its text). Each is timed as the least of `--runs` runs (CPU time of this thread).
Target: the cast in at most 5 s on 2 cores. Writes benchmarks/results/cast.json and the
``bench:cast`` block of docs/benchmarks.md; the speaker accuracy on the annotated set is
tests/fast/test_cast.py's (benchmarks/results/cast_accuracy.json).

    .venv/bin/python benchmarks/cast.py
"""

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import save_results  # noqa: E402
from core.cast import analyse_cast, speaker_spans  # noqa: E402
from core.text.sentences import split_sentences  # noqa: E402

PASSAGES = ROOT / "tests" / "data" / "cast"
RESULTS = ROOT / "benchmarks" / "results" / "cast.json"
NOVEL_CHARS = 500_000
TARGET_S = 5.0


def novel(chars: int) -> str:
    """The annotated passages, joined in turn until the text has ``chars`` characters."""
    passages = [path.read_text(encoding="utf-8") for path in sorted(PASSAGES.glob("*.txt"))]
    parts: list[str] = []
    size = 0
    while size < chars:
        passage = passages[len(parts) % len(passages)].strip()
        parts.append(passage)
        size += len(passage) + 2
    return "\n\n".join(parts)


def least_cpu_seconds(run, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.thread_time()
        run()
        best = min(best, time.thread_time() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=NOVEL_CHARS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    args = parser.parse_args(argv)

    text = novel(args.chars)
    analysis = analyse_cast(text)
    cast_s = least_cpu_seconds(lambda: analyse_cast(text), args.runs)
    spans_s = least_cpu_seconds(lambda: speaker_spans(text, analysis), args.runs)
    baseline_s = least_cpu_seconds(lambda: split_sentences(text), args.runs)
    result = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "chars": len(text),
        "quotes": len(analysis.quotes),
        "characters": len(analysis.characters),
        "runs": args.runs,
        "analyse_cast_s": round(cast_s, 3),
        "speaker_spans_s": round(spans_s, 3),
        "split_sentences_s": round(baseline_s, 3),
        "cast_chars_per_s": round(len(text) / cast_s),
        "cast_vs_sentences": round(cast_s / baseline_s, 1),
        "target_s": TARGET_S,
        "met": cast_s <= TARGET_S,
    }
    table = (
        f"Measured {result['measured'][:10]} on {result['machine']}, Python "
        f"{result['python']}: a {len(text):,}-character novel (the annotated passages of "
        f"`tests/data/cast` joined in turn), {len(analysis.quotes):,} quotes, "
        f"{len(analysis.characters)} characters; least CPU time of {args.runs} runs.\n\n"
        "| run | s | characters/s |\n|---|---:|---:|\n"
        f"| `analyse_cast` | {cast_s:.3f} | {len(text) / cast_s:,.0f} |\n"
        f"| `speaker_spans` | {spans_s:.3f} | {len(text) / spans_s:,.0f} |\n"
        f"| baseline: `split_sentences` | {baseline_s:.3f} | {len(text) / baseline_s:,.0f} |\n\n"
        f"- the cast of a {len(text):,}-character novel in **{cast_s:.2f} s** (target ≤ "
        f"{TARGET_S:.0f} s: {'met' if result['met'] else 'NOT met'}), "
        f"{result['cast_vs_sentences']}× the time the text's sentences take to split"
    )
    print(table)
    save_results(result, RESULTS, "cast", table, not args.no_readme)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
