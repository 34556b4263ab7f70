"""The service's throughput against another revision of itself, in one run.

Both the revision (``--rev``, e.g. the commit before a change to the chunk path) and this
checkout run the throughput benchmark's service measurement (c): ``POST /v1/jobs`` to the
finished file, default settings, the same text, after a warm-up job. The runs alternate (rev, this,
this, rev, ...) so that a machine slowing down or speeding up during the run weighs on both
alike; each side's figure is its median. Writes benchmarks/results/throughput_vs_rev.json and
the ``bench:throughput-rev`` block of docs/benchmarks.md.

    .venv/bin/python benchmarks/throughput_vs_rev.py --rev 147b061
"""

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import PROSE, save_results  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "throughput_vs_rev.json"

# Run inside a checkout (the working directory), so that it measures that checkout's code: the
# API and worker processes it starts import from the same directory
_MEASURE = """
import json, sys, tempfile
from pathlib import Path
from benchmarks.throughput import ServiceUnderTest
from core.text.sentences import normalize_text
text = normalize_text(Path(sys.argv[1]).read_text(encoding="utf-8"))
WARM_UP = " ".join(["The workers warm up before the clock starts."] * 12)
with tempfile.TemporaryDirectory(prefix="kq-bench-rev-") as tmp:
    service = ServiceUnderTest(Path(tmp), sys.argv[2])
    try:
        # Both pool children load (and, where a revision does, prepare) their model first
        service.run_job(WARM_UP)
        wall, job, _ = service.run_job(text)
    finally:
        service.stop()
print(json.dumps({"wall_seconds": wall, "chars": len(text), "status": job["status"],
                  "audio_seconds": job["audio_seconds"]}))
"""


def export_revision(rev: str, target: Path) -> str:
    """Write the files of ``rev`` into ``target``; its full commit id."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = target / "rev.tar"
    subprocess.run(["git", "archive", "-o", str(archive), commit], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target / "src", filter="data")
    return commit


def measure(checkout: Path, text: Path, redis_url: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(text), redis_url],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the service run in {checkout} failed:\n{result.stderr[-3000:]}")
    run = json.loads(result.stdout.strip().splitlines()[-1])
    if run["status"] != "succeeded":
        raise RuntimeError(f"the job in {checkout} ended {run['status']}")
    run["chars_per_second"] = run["chars"] / run["wall_seconds"]
    return run


def readme_table(result: dict) -> str:
    rev, this = result["revision"], result["this_checkout"]
    return "\n".join(
        [
            f"Measured {result['date']}, 2 cores, `benchmarks/throughput_vs_rev.py`: the service "
            f"(run c above) at {rev['commit'][:7]} ({result['rev_label']}) against this "
            f"checkout, {result['rounds']} alternating runs each, medians.",
            "",
            "| service at | chars/s (median) | runs |",
            "|---|---:|---|",
            f"| {rev['commit'][:7]} | {rev['median_chars_per_second']} | "
            f"{', '.join(str(r) for r in rev['runs'])} |",
            f"| this checkout | {this['median_chars_per_second']} | "
            f"{', '.join(str(r) for r in this['runs'])} |",
            "",
            f"- this checkout ÷ {rev['commit'][:7]}: **{result['ratio']}**",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the revision to compare against")
    parser.add_argument("--label", default="", help="what the revision is, for the table")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side")
    parser.add_argument("--text", type=Path, default=PROSE)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    args = parser.parse_args(argv)

    runs: dict[str, list[float]] = {"rev": [], "this": []}
    with tempfile.TemporaryDirectory(prefix="kq-rev-") as tmp:
        commit = export_revision(args.rev, Path(tmp))
        checkouts = {"rev": Path(tmp) / "src", "this": ROOT}
        order = [("rev", "this"), ("this", "rev")] * ((args.rounds + 1) // 2)
        for pair in order[: args.rounds]:
            for side in pair:
                run = measure(checkouts[side], args.text.resolve(), args.redis_url)
                runs[side].append(round(run["chars_per_second"], 1))
                print(json.dumps({"side": side, **run}), flush=True)

    medians = {side: statistics.median(values) for side, values in runs.items()}
    result = {
        "date": datetime.now(UTC).date().isoformat(),
        "rev_label": args.label or args.rev,
        "rounds": args.rounds,
        "revision": {
            "commit": commit,
            "runs": runs["rev"],
            "median_chars_per_second": round(medians["rev"], 1),
        },
        "this_checkout": {
            "runs": runs["this"],
            "median_chars_per_second": round(medians["this"], 1),
        },
        "ratio": round(medians["this"] / medians["rev"], 3),
    }
    table = readme_table(result)
    print(table)
    save_results(result, RESULTS, "throughput-rev", table, readme=not args.no_readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
