"""How fast the web app's library first draws with many jobs stored: seeds a fresh SQLite
database with fake jobs (tests/support/seeding.py), starts an API process on it (no worker is
needed to list jobs), and times in headless Chromium from navigation to the first page of rows
on screen, and to the next page after "Older".

    .venv/bin/python benchmarks/web_library.py [--jobs 1000] [--runs 7]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.auth import ANONYMOUS  # noqa: E402
from benchmarks.throughput import save_results  # noqa: E402
from core.jobs.states import JobStatus  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.support.seeding import insert_rows, job_rows  # noqa: E402
from tests.support.stack import free_port, stop_process, wait_for  # noqa: E402
from tests.support.web_browser import DESKTOP, chromium  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "web_library.json"

PAGE_ROWS = 20  # the library's page size (api/static/app/js/views/library.js)
STATUSES = [
    (JobStatus.SUCCEEDED, 0.9),
    (JobStatus.FAILED, 0.04),
    (JobStatus.CANCELLED, 0.04),
    (JobStatus.QUEUED, 0.02),
]

# Milliseconds from navigation start until the library shows a full page of rows
FIRST_RENDER = """() => new Promise((resolve) => {
    const done = () => document.querySelectorAll('.job-row').length >= PAGE_ROWS;
    if (done()) return resolve(performance.now());
    new MutationObserver((_, observer) => {
        if (done()) { observer.disconnect(); resolve(performance.now()); }
    }).observe(document.body, { childList: true, subtree: true });
})""".replace("PAGE_ROWS", str(PAGE_ROWS))

NEXT_PAGE = """() => new Promise((resolve) => {
    const first = document.querySelector('.job-row').dataset.jobId;
    const start = performance.now();
    new MutationObserver((_, observer) => {
        const row = document.querySelector('.job-row');
        if (row && row.dataset.jobId !== first) {
            observer.disconnect();
            resolve(performance.now() - start);
        }
    }).observe(document.body, { childList: true, subtree: true });
    document.querySelector('#page-older').click();
})"""


def seed(url: str, count: int) -> None:
    upgrade(url)
    rng = random.Random(17)
    start = datetime.now(UTC) - timedelta(days=30)
    jobs, chunks = job_rows(
        rng,
        range(count),
        [ANONYMOUS],  # a keyless server's one client, so the page lists them all
        start=start,
        step=timedelta(days=30) / count,
        status_weights=STATUSES,
        max_chunks=5,
        chunk_texts=["The lamp by the window had burned all night."],
        own_first=count,
    )
    for n, job in enumerate(jobs):
        job["title"] = f"Seeded book {n}"
    insert_rows(url, jobs, chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kq-web-bench-") as tmp:
        data_dir = Path(tmp)
        database = f"sqlite:///{data_dir / 'kq.db'}"
        began = time.perf_counter()
        seed(database, args.jobs)
        print(f"seeded {args.jobs} jobs in {time.perf_counter() - began:.1f} s")

        port = free_port()
        env = dict(os.environ, KQ_DATA_DIR=str(data_dir), KQ_DATABASE_URL=database)
        env["KQ_PORT"] = str(port)
        log = (data_dir / "api.log").open("w")
        api = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "api"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:

            def healthy():
                try:
                    return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(healthy, 60, "the API")
            first, following, listing = [], [], []
            with chromium() as browser:
                for _ in range(args.runs):
                    # A fresh context each run: nothing cached, as a first visit
                    context = browser.new_context(viewport=DESKTOP, base_url=base)
                    page = context.new_page()
                    page.goto("/#/library")
                    first.append(page.evaluate(FIRST_RENDER))
                    listing.append(
                        page.evaluate(
                            "() => performance.getEntriesByType('resource')"
                            ".filter((e) => e.name.includes('/v1/jobs?'))[0].duration"
                        )
                    )
                    following.append(page.evaluate(NEXT_PAGE))
                    context.close()
        finally:
            stop_process(api)

    def summary(values):
        middle, low, high = statistics.median(values), min(values), max(values)
        return f"median {middle:.0f} ms (min {low:.0f}, max {high:.0f})"

    lines = [
        f"Measured {datetime.now(UTC).date().isoformat()}, 2 cores, headless Chromium, "
        f"{args.runs} first visits, `benchmarks/web_library.py`:",
        "",
        f"- library first render, {PAGE_ROWS} rows of {args.jobs:,} jobs: "
        f"**{summary(first)}** (target < 1 s)",
        f"- of which `GET /v1/jobs?limit={PAGE_ROWS}`: {summary(listing)}; "
        f"the next page (Older): {summary(following)}",
    ]
    table = "\n".join(lines)
    print(table)
    result = {"jobs": args.jobs, "runs": args.runs, "first_render_ms": first,
              "listing_ms": listing, "next_page_ms": following}  # fmt: skip
    save_results(result, RESULTS, "web", table, readme=not args.no_readme)


if __name__ == "__main__":
    main()
