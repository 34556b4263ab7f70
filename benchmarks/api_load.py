"""API load benchmark: an API that stays fast while every core synthesizes.

(A) status polls: ``GET /v1/jobs/{id}`` at a fixed arrival rate (open loop: each request goes
    out at its scheduled time whether or not earlier ones have answered, and its latency counts
    from that time, so a stalled server cannot hide behind a waiting client) across a few
    hundred jobs, first on idle workers, then while a long book keeps every worker process
    synthesizing (checked: chunks finished in the window, CPU time of each process);
(B) acceptance: 10,000 one-sentence ``POST /v1/jobs`` from 20 API keys with 32 requests in
    flight, on the same stack while it keeps synthesizing; the jobs stay queued behind the book
    and are thrown away with the stack (its queue is deleted from Redis, its database dropped);
(C) the database with 100 and with 100,000 jobs (1 to 5 chunks each, inserted directly):
    status and list latency through an API process of their own (no worker), and the plans of
    the exact queries behind them (captured from storage's functions at the driver);
(D) the default stack (`kokoro-queue up` with nothing configured: SQLite, one API process):
    status polls at the same rate from 8 client threads (an httpx client each, as pollers in an
    application send them) while it synthesizes a 20,000-character book.

Default database: a fresh PostgreSQL database on postgresql+psycopg://root@127.0.0.1:5432 when
it answers (created and dropped here), else SQLite in the temporary data dir. The stack runs 2
API processes (``--api-workers``). Writes benchmarks/results/api_load.json and the ``bench:api``
table; phase D writes benchmarks/results/api_load_default.json and the ``bench:api-default`` one.

    .venv/bin/python benchmarks/api_load.py [--database-url URL|sqlite] [--duration 30]
    .venv/bin/python benchmarks/api_load.py --phases D

This script orchestrates the phases; the parts live beside it: ``load_generator.py`` (the
open-loop client), ``cpu_accounting.py`` (CPU per process), ``api_load_busy.py`` (A and B),
``api_load_sizes.py`` (C), ``api_load_data.py`` (its fake rows), ``fresh_databases.py`` and
``api_load_report.py`` (the table, JSON and the block in docs/benchmarks.md).
"""

import argparse
import json
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (benchmarks/ first on sys.path): the repository root makes the project's
# packages, benchmarks.* and tests.support importable
sys.path.insert(0, str(ROOT))

from benchmarks.api_load_busy import (  # noqa: E402
    measure_default_stack,
    measure_under_synthesis,
)
from benchmarks.api_load_report import report, report_default_stack, say  # noqa: E402
from benchmarks.api_load_sizes import measure_sizes  # noqa: E402
from benchmarks.fresh_databases import (  # noqa: E402
    DEFAULT_POSTGRES,
    fresh_database,
    postgres_answers,
    redact,
)
from benchmarks.throughput import cores  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL to create fresh databases on, or 'sqlite' "
        f"(default: {DEFAULT_POSTGRES} if it answers, else SQLite)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--rate", type=float, default=200.0, help="status polls per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of phase A")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--poll-jobs", type=int, default=300, help="job ids polled in phase A")
    parser.add_argument("--book-copies", type=int, default=12, help="prose.txt copies in the book")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs submitted in phase B")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--api-workers", type=int, default=2, help="API processes (KQ_API_WORKERS)")
    parser.add_argument(
        "--requests-per-connection",
        type=int,
        default=20,
        help="requests a client connection carries before it closes (0: no limit)",
    )
    parser.add_argument("--sizes", default="100,100000", help="jobs in the database, phase C")
    parser.add_argument("--rounds", type=int, default=300, help="requests per kind, phase C")
    parser.add_argument(
        "--default-book-chars", type=int, default=20_000, help="the book of phase D"
    )
    parser.add_argument(
        "--client-threads", type=int, default=8, help="phase D's client threads (0: asyncio)"
    )
    parser.add_argument("--phases", default="AB,C", help="AB, C, both (AB,C), or D alone")
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]

    if args.database_url == "sqlite":
        server = None
    elif args.database_url:
        server = args.database_url
    else:
        server = DEFAULT_POSTGRES if postgres_answers(DEFAULT_POSTGRES) else None
    database = f"PostgreSQL ({redact(server)}, fresh databases)" if server else "SQLite"
    say(f"{cores()} cores; database: {database}")

    result: dict = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}".strip(),
        "cores": cores(),
        "database": database,
        "plan_kind": "EXPLAIN ANALYZE" if server else "EXPLAIN QUERY PLAN",
    }
    with tempfile.TemporaryDirectory(prefix="kq-api-load-") as tmp:
        data_dir = Path(tmp)
        if args.phases == "D":
            result.update(measure_default_stack(args, data_dir))
            result["database"], result["plan_kind"] = "SQLite", None
            report_default_stack(result, readme=not args.no_readme)
            return 0
        if "AB" in args.phases:
            with fresh_database(server, data_dir, "load") as url:
                result.update(measure_under_synthesis(args, data_dir, url))
        if "C" in args.phases:
            result["sizes"] = measure_sizes(args, data_dir, server)
            result["sizes_compared"] = [args.sizes[0], args.sizes[-1]]

    if "AB" not in args.phases or "C" not in args.phases:
        print(json.dumps(result, indent=2))
        return 0
    report(result, readme=not args.no_readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
