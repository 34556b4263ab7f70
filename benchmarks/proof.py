"""What proof-listening costs: the same book made with proofing off and on, in one run.

Each mode runs in a fresh stack with default settings (`kokoro-queue up`'s), after a warm-up
job of its own mode (a proofed warm-up loads the recognizer in the worker children), from
``POST /v1/jobs`` to the finished file, every chunk synthesized (``reuse: false``). The modes
alternate (off, on, on, off, ...) so that a machine slowing down or speeding up weighs on both
alike; each mode's figure is its median. Also the worker children's peak memory in each mode
(`/v1/stats`: with the recognizer loaded when on) and what the proofed runs found. Writes
benchmarks/results/proof.json and the ``bench:proof`` block of docs/benchmarks.md.

    .venv/bin/python benchmarks/proof.py                       # benchmarks/prose.txt, one round
    .venv/bin/python benchmarks/proof.py --text book.txt --rounds 2

On a shared two-core machine the default text takes about ten minutes a round (four jobs, each
in a stack of its own); a page of 232 words took four minutes.
"""

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import PROSE, ServiceUnderTest, cores, save_results  # noqa: E402
from core.text.sentences import normalize_text  # noqa: E402
from infra.settings import Settings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "proof.json"
ORDER = ("off", "on", "on", "off")
WARM_UP = "The workers warm up and listen. " * 8
GOAL_RATIO = 1.25


def wait(service: ServiceUnderTest, job_id: str) -> dict:
    while True:
        job = service.http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)  # a tighter poll takes CPU from the workers it measures


def run_once(mode: str, text: str, redis_url: str) -> dict:
    proof = mode == "on"
    with tempfile.TemporaryDirectory(prefix=f"kq-bench-proof-{mode}-") as tmp:
        service = ServiceUnderTest(Path(tmp), redis_url)
        try:
            warm = service.http.post("/v1/jobs", json={"text": WARM_UP, "proof": proof})
            if warm.status_code != 202:
                raise RuntimeError(f"proof {mode}: the warm-up was refused: {warm.text}")
            wait(service, warm.json()["id"])
            started = time.perf_counter()
            body = {"text": text, "reuse": False, "proof": proof}
            job = wait(service, service.http.post("/v1/jobs", json=body).json()["id"])
            wall = time.perf_counter() - started
            if job["status"] != "succeeded":
                raise RuntimeError(f"proof {mode}: the job ended {job['status']}: {job['error']}")
            workers = service.http.get("/v1/stats").json()["workers"]
            rss = [w["peak_rss_mb"] for w in workers if w.get("peak_rss_mb")]
            found = job["proof"] or {}
            return {
                "wall_seconds": round(wall, 2),
                "audio_seconds": job["audio_seconds"],
                "chunks": job["progress"]["chunks_total"],
                "peak_child_rss_mb": max(rss) if rss else None,
                **{
                    name: found.get(name)
                    for name in ("chunks_checked", "remade", "flagged_count", "book_wer")
                    if proof
                },
            }
        finally:
            service.stop()


def readme_table(result: dict) -> str:
    runs = result["runs"]
    rows = "\n".join(
        f"| {mode} | {', '.join(str(r['wall_seconds']) for r in runs[mode])} | "
        f"{result['median'][mode]} | {max(r['peak_child_rss_mb'] or 0 for r in runs[mode])} |"
        for mode in ("off", "on")
    )
    found = runs["on"][-1]
    return "\n".join(
        [
            f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, "
            f"{result['processes']} worker processes, {result['chars']:,} characters "
            f"({result['text']}, {found['chunks']} chunks), every chunk synthesized.",
            "",
            "| proof | wall s per run | median s | peak worker child RSS, MB |",
            "|---|---|---:|---:|",
            rows,
            "",
            f"- on ÷ off, median wall time: **{result['ratio']}** (goal: at most {GOAL_RATIO})",
            f"- the proofed run: {found['chunks_checked']} chunks checked, {found['remade']} "
            f"remade, {found['flagged_count']} flagged, book WER {found['book_wer']}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, default=PROSE)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--rounds", type=int, default=1, help="times the order runs")
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    text = normalize_text(args.text.read_text(encoding="utf-8"))
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for _ in range(args.rounds):
        for mode in ORDER:
            runs[mode].append(run_once(mode, text, args.redis_url))
            print(mode, runs[mode][-1], flush=True)
    median = {
        mode: round(statistics.median(r["wall_seconds"] for r in rs), 2)
        for mode, rs in runs.items()
    }
    try:
        shown = str(args.text.resolve().relative_to(ROOT))
    except ValueError:
        shown = args.text.name
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "cores": cores(),
        "processes": Settings().worker_concurrency,
        "text": f"`{shown}`",
        "chars": len(text),
        "runs": runs,
        "median": median,
        "ratio": round(median["on"] / median["off"], 3),
        "goal_ratio": GOAL_RATIO,
    }
    table = readme_table(result)
    save_results(result, args.output, "proof", table, not args.no_readme)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
