"""Throughput of the two worker modes in one run: Celery's prefork pool against one-process
workers started by exec (KQ_WORKER_POOL=processes, worker/supervisor.py), the same number of
processes, default settings otherwise.

Each mode runs the same text (benchmarks/prose.txt) from ``POST /v1/jobs`` to the finished
file, after a warm-up job, with every chunk synthesized (``reuse: false``). The modes alternate
(prefork, processes, processes, prefork, ...) so that a machine slowing down or speeding up
weighs on both alike; each mode's figure is its median. Writes
benchmarks/results/worker_pools.json and the ``bench:worker-pools`` block of docs/benchmarks.md.

    .venv/bin/python benchmarks/worker_pools.py
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import PROSE, ServiceUnderTest, save_results  # noqa: E402
from core.text.sentences import normalize_text  # noqa: E402
from infra.settings import Settings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "worker_pools.json"
ORDER = ("prefork", "processes", "processes", "prefork")


def run_once(pool: str, text: str, redis_url: str) -> float:
    with tempfile.TemporaryDirectory(prefix=f"kq-bench-{pool}-") as tmp:
        service = ServiceUnderTest(Path(tmp), redis_url, settings={"worker_pool": pool})
        try:
            service.http.post("/v1/jobs", json={"text": "The workers warm up. " * 8})
            started = time.perf_counter()
            job = service.http.post("/v1/jobs", json={"text": text, "reuse": False}).json()
            while (job := service.http.get(f"/v1/jobs/{job['id']}").json())["status"] not in (
                "succeeded",
                "failed",
                "cancelled",
            ):
                time.sleep(0.2)
            if job["status"] != "succeeded":
                raise RuntimeError(f"{pool}: the job ended {job['status']}: {job['error']}")
            return time.perf_counter() - started
        finally:
            service.stop()


def readme_table(result: dict) -> str:
    rows = "\n".join(
        f"| {pool} | {', '.join(str(s) for s in result['walls'][pool])} | "
        f"{result['median'][pool]} | {result['chars_per_second'][pool]} |"
        for pool in ("prefork", "processes")
    )
    return "\n".join(
        [
            f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, "
            f"{result['processes']} worker processes, {result['chars']:,} characters "
            "(`benchmarks/prose.txt`), every chunk synthesized.",
            "",
            "| worker mode | wall s per run | median s | chars/s |",
            "|---|---|---:|---:|",
            rows,
            "",
            f"- processes ÷ prefork, median wall time: **{result['ratio']}** (goal: within 3 %)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--rounds", type=int, default=1, help="times the order runs")
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    args = parser.parse_args(argv)
    text = normalize_text(PROSE.read_text(encoding="utf-8"))
    walls: dict[str, list[float]] = {"prefork": [], "processes": []}
    for _ in range(args.rounds):
        for pool in ORDER:
            walls[pool].append(round(run_once(pool, text, args.redis_url), 2))
            print(pool, walls[pool][-1], flush=True)
    median = {pool: round(statistics.median(w), 2) for pool, w in walls.items()}
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "cores": len(os.sched_getaffinity(0)),
        "processes": Settings().worker_concurrency,
        "chars": len(text),
        "walls": walls,
        "median": median,
        "chars_per_second": {p: round(len(text) / m, 1) for p, m in median.items()},
        "ratio": round(median["processes"] / median["prefork"], 3),
    }
    save_results(result, RESULTS, "worker-pools", readme_table(result), not args.no_readme)
    print(readme_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
