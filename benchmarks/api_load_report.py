"""What the API load benchmark reports: progress lines, the table against its targets,
and the saved results (JSON and the ``bench:api`` block of docs/benchmarks.md, through
``benchmarks/throughput.py``'s ``save_results``)."""

from datetime import datetime

from benchmarks.api_load_data import MORE_KEYS, OWNER_KEYS
from benchmarks.throughput import ROOT, save_results

RESULTS = ROOT / "benchmarks" / "results" / "api_load.json"
DEFAULT_STACK_RESULTS = ROOT / "benchmarks" / "results" / "api_load_default.json"
TARGET_P99_MS = 25.0
# The default stack (SQLite, one API process) polled while it synthesizes
TARGET_DEFAULT_STACK_P99_MS = 20.0
TARGET_JOBS_PER_S = 200.0


def say(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def cpu_line(figures: dict) -> str:
    cpu = dict(figures.get("cpu_cores_used") or {})
    heaviest = cpu.pop("heaviest other processes", [])
    line = "CPU cores used: " + ", ".join(f"{name} {value}" for name, value in cpu.items())
    return line + (f" (of which {', '.join(heaviest)})" if heaviest else "")


def readme_table(result: dict) -> str:
    b = result["accept"]
    c = result["sizes"]
    small, large = (str(s) for s in result["sizes_compared"])
    met_b = b["accepted_per_s"] >= TARGET_JOBS_PER_S and not b["errors"]
    lines = [
        *poll_lines(result, TARGET_P99_MS),
        f"- `POST /v1/jobs`: {b['jobs']:,} one-sentence jobs from {b['keys']} API keys, "
        f"{b['concurrency']} requests in flight, every worker synthesizing: **"
        f"{b['accepted_per_s']} jobs/s accepted** (target ≥ {TARGET_JOBS_PER_S:.0f}, "
        f"{'met' if met_b else 'NOT met'}); latency p50 {b['p50_ms']} ms, p99 {b['p99_ms']} ms; "
        f"{b['errors']} errors; {cpu_line(b)}. The jobs stay queued behind the book and are "
        "discarded with the stack.",
        "",
        f"| one request at a time (median ms; jobs in the answer) | {int(small):,} jobs "
        f"| {int(large):,} jobs | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, ratio in c["ratios"].items():
        a_, b_ = c[small]["latency"][name], c[large]["latency"][name]
        lines.append(
            f"| `{name}` | {a_['median_ms']} ({a_['jobs_in_answer']}) | "
            f"{b_['median_ms']} ({b_['jobs_in_answer']}) | {ratio} |"
        )
    worst = max(c["ratios"].values())
    lines += [
        "",
        f"- {int(large):,} jobs against {int(small):,}: at most **{worst}×** (target ≤ 2×); the "
        f"measured key owns {c[small]['measured_key_jobs']:,} and "
        f"{c[large]['measured_key_jobs']:,} of them, {c[large]['chunks']:,} chunks in all, "
        f"{OWNER_KEYS + MORE_KEYS:,} API keys.",
    ]
    # The plans in full are in the results file; the table says which queries read an index
    plans = {name: plan_summary(plan["plan"]) for name, plan in c[large]["plans"].items()}
    indexed = [name for name, summary in plans.items() if "Index" in summary]
    scanned = [f"{name} ({summary})" for name, summary in plans.items() if name not in indexed]
    lines.append(
        f"- query plans with {int(large):,} jobs ({result['plan_kind']}, in full in "
        f"`benchmarks/results/api_load.json`): {len(indexed)} of {len(plans)} read an index"
        + (f"; the others: {'; '.join(scanned)}" if scanned else "")
    )
    return "\n".join(lines)


def poll_lines(result: dict, target_p99_ms: float) -> list[str]:
    """The status-poll table of phases A0 and A (or of phase D), against ``target_p99_ms``."""
    a0, a = result["idle"], result["synthesizing"]
    settings = result["settings"]
    met = a["p99_ms"] <= target_p99_ms and not a["errors"]
    return [
        f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, "
        f"{result['database']}; the API in {settings['api_workers']} process(es), "
        f"{settings['worker_concurrency']} worker processes × {settings['onnx_threads']} ONNX "
        f"thread at nice {settings['worker_nice']} (`KQ_WORKER_NICE`)"
        + (" under SCHED_IDLE (`KQ_WORKER_SCHED_IDLE`)." if settings["worker_sched_idle"] else "."),
        "",
        f"| `GET /v1/jobs/{{id}}`, {a.get('client', 'open loop')} | achieved /s | p50 ms "
        "| p95 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| {a0['target_rate']:.0f}/s for {a0['duration_s']:.0f} s, idle workers | "
        f"{a0['achieved_rate']} | {a0['p50_ms']} | {a0['p95_ms']} | {a0['p99_ms']} | "
        f"{a0['max_ms']} | {a0['errors']} |",
        f"| **{a['target_rate']:.0f}/s for {a['duration_s']:.0f} s, every worker synthesizing** "
        f"| {a['achieved_rate']} | {a['p50_ms']} | {a['p95_ms']} | **{a['p99_ms']}** | "
        f"{a['max_ms']} | {a['errors']} |",
        "",
        f"- p99 while synthesizing a {a['book_chars']:,}-character book: target ≤ "
        f"{target_p99_ms:.0f} ms, **{'met' if met else 'NOT met'}**. Meanwhile "
        f"{a['synthesis']['worker_processes_finishing_chunks']} worker processes finished "
        f"{a['synthesis']['chunks_finished_in_window']} chunks "
        f"({a['synthesis']['chars_per_second']} chars/s); {cpu_line(a)}.",
    ]


def report_default_stack(result: dict, readme: bool) -> None:
    """Phase D's table; its results file and, if ``readme``, the ``bench:api-default`` block."""
    table = "\n".join(poll_lines(result, TARGET_DEFAULT_STACK_P99_MS))
    print(table)
    save_results(result, DEFAULT_STACK_RESULTS, "api-default", table, readme=readme)


def plan_summary(plan: list[str]) -> str:
    """The scan and sort nodes of a plan and its run time, in one line."""
    nodes = []
    for line in plan:
        node = line.strip().removeprefix("->").strip()
        if node.startswith(
            ("Index Scan", "Index Only Scan", "Seq Scan", "Bitmap", "Sort ", "SEARCH", "SCAN")
        ) or node.startswith("USE TEMP"):
            nodes.append(f"`{node.split('  (')[0]}`")
        elif node.startswith("Execution Time"):
            nodes.append(node.replace("Execution Time: ", "").replace(" ms", " ms to run"))
    return "; ".join(nodes)


def report(result: dict, readme: bool) -> None:
    """Print the table; write the results and, if ``readme``, its block."""
    table = readme_table(result)
    print(table)
    save_results(result, RESULTS, "api", table, readme=readme)
