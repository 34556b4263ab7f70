"""`kokoro-queue report`: the throughput figures as JSON and as tables."""

import json
import subprocess
import sys

from tests.support.stack import ROOT

HEADLINES = (
    "jobs",
    "chunks done",
    "audio seconds",
    "chars/s",
    "audio s per wall s",
    "inference RTF p50 / p95",
    "queue wait p50 / p95",
    "queue depth",
)


def run_report(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "report", *args], cwd=ROOT,
        env={**stack.env, "KQ_API_URL": stack.api_url}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def report(stack, *args: str) -> str:
    result = run_report(stack, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_report_prints_json_and_tables(stack):
    with stack.client() as http:
        job = http.post("/v1/jobs", json={"text": "The report counts this job."}).json()
    assert stack.wait_for_job(job["id"])["status"] == "succeeded"

    stats = json.loads(report(stack, "--json"))
    assert stats["chunks_done"] >= 1 and stats["jobs"]["succeeded"] >= 1
    assert stats["workers"] and stats["providers"]

    tables = report(stack)
    for label in HEADLINES:
        assert label in tables, label
    worker = stats["workers"][0]
    assert f"{worker['host']}:{worker['pid']}" in tables
    assert stats["providers"][0]["provider"] in tables

    since = json.loads(report(stack, "--json", "--since", "2020-01-01T00:00:00Z"))
    assert since["window"]["since"].startswith("2020-01-01T00:00:00")
    assert since["chunks_done"] >= stats["chunks_done"]


def test_report_explains_a_since_without_timezone(stack):
    result = run_report(stack, "--since", "2026-01-01T00:00:00")
    assert result.returncode == 1
    assert "timezone" in result.stderr
