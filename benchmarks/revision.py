"""What a correction costs: a real book made once, then revised three ways, in one run.

The book is benchmarks/data/moby_dick_4-15.md (11 chapters, about 67,000 characters), read by
the service's own Markdown reader. It is made once for real as an m4b (every chunk
synthesized), then as a FLAC (a revision that changes only the format: every chunk reused,
every chapter encoded). Each of the two is then revised: (a) one word changed in one chapter,
(b) a pronunciation added for a name said in three chapters, (c) one chapter's voice changed.
For each: the chunks made, the wall time from the POST to a downloadable file, and its ratio to
the first run. Default settings, the embedded model, a stack started as `kokoro-queue up` does.
Writes benchmarks/results/revision.json and the ``bench:revision`` block of docs/benchmarks.md.

    .venv/bin/python benchmarks/revision.py
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import ServiceUnderTest, save_results  # noqa: E402
from core.text.books import split_markdown  # noqa: E402

BOOK = ROOT / "benchmarks" / "data" / "moby_dick_4-15.md"
RESULTS = ROOT / "benchmarks" / "results" / "revision.json"
# (a) one word, in the fourth chapter; (b) a name said in the third, fourth and ninth
WORD_CHAPTER, WORD_BEFORE, WORD_AFTER = 3, " morning", " evening"
NAME, NAME_SAID = "Bedford", {"phonemes": "nˈuː bˈɛdfɚd"}
VOICE_CHAPTER, OTHER_VOICE = 5, "jm_kumo"


def wait_downloadable(service: ServiceUnderTest, job: dict, started: float) -> tuple[float, dict]:
    while True:
        job = service.http.get(f"/v1/jobs/{job['id']}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.2)
    if job["status"] != "succeeded":
        raise RuntimeError(f"job {job['id']} ended {job['status']}: {job.get('error')}")
    answer = service.http.get(f"/v1/jobs/{job['id']}/audio", headers={"Range": "bytes=0-0"})
    if answer.status_code >= 400:
        raise RuntimeError(f"the audio of {job['id']} is not downloadable: {answer.status_code}")
    return time.perf_counter() - started, job


def submit(service: ServiceUnderTest, body: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = service.http.post("/v1/jobs", json=body)
    answer.raise_for_status()
    return wait_downloadable(service, answer.json(), started)


def revise(service: ServiceUnderTest, job_id: str, change: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = service.http.post(f"/v1/jobs/{job_id}/revisions", json=change)
    answer.raise_for_status()
    return wait_downloadable(service, answer.json(), started)


def row(label: str, fmt: str, wall: float, job: dict, first_wall: float) -> dict:
    return {
        "label": label,
        "format": fmt,
        "chunks_made": job["chunks_to_make"],
        "chunks_total": job["progress"]["chunks_total"],
        "wall_seconds": round(wall, 2),
        "ratio_to_first": round(wall / first_wall, 4),
    }


def changes(chapters: list[dict]) -> list[tuple[str, dict]]:
    word_text = chapters[WORD_CHAPTER]["text"].replace(WORD_BEFORE, WORD_AFTER, 1)
    if word_text == chapters[WORD_CHAPTER]["text"]:
        raise RuntimeError(f"chapter {WORD_CHAPTER} has no {WORD_BEFORE!r} to change")
    return [
        ("(a) one word changed", {"chapters": {str(WORD_CHAPTER): word_text}}),
        (f"(b) a pronunciation of {NAME!r}", {"pronunciations": {NAME: NAME_SAID}}),
        (
            f"(c) chapter {VOICE_CHAPTER + 1}'s voice",
            {"chapter_voices": {str(VOICE_CHAPTER): OTHER_VOICE}},
        ),
    ]


def readme_table(result: dict) -> str:
    lines = [
        f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, the "
        f"embedded int8 model, default settings: {result['book_chars']:,} characters in "
        f"{result['chapters']} chapters (`benchmarks/data/{BOOK.name}`).",
        "",
        "| run | format | chunks made | wall s (POST to downloadable file) | ÷ first run |",
        "|---|---|---:|---:|---:|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['label']} | {r['format']} | {r['chunks_made']} of {r['chunks_total']} | "
            f"{r['wall_seconds']} | {r['ratio_to_first']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    parser.add_argument(
        "--book",
        type=Path,
        default=BOOK,
        help="another Markdown book (a quick try of the benchmark; implies --no-readme)",
    )
    args = parser.parse_args(argv)

    chapters = [
        {"title": c.title, "text": c.text} for c in split_markdown(args.book.read_text("utf-8"))
    ]
    book = {"chapters": chapters, "title": args.book.stem}
    runs = []
    with tempfile.TemporaryDirectory(prefix="kq-bench-revision-") as tmp:
        service = ServiceUnderTest(Path(tmp), args.redis_url)
        try:
            submit(service, {"text": "The workers warm up before the clock starts. " * 6})
            first_wall, first = submit(service, {**book, "format": "m4b"})
            runs.append(row("first run", "m4b", first_wall, first, first_wall))
            flac_wall, flac = revise(service, first["id"], {"format": "flac"})
            runs.append(row("the same book as FLAC", "flac", flac_wall, flac, first_wall))
            for base in (first, flac):
                for label, change in changes(chapters):
                    wall, job = revise(service, base["id"], change)
                    runs.append(row(label, base["format"], wall, job, first_wall))
        finally:
            service.stop()
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "cores": len(os.sched_getaffinity(0)),
        "book_chars": sum(len(c["text"]) for c in chapters),
        "chapters": len(chapters),
        "runs": runs,
    }
    if args.book == BOOK:
        save_results(result, RESULTS, "revision", readme_table(result), not args.no_readme)
    print(readme_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
