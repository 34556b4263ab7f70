"""Throughput figures: /v1/stats over a job's window agrees with the job's own wall clock, and
/metrics exposes the same counts to Prometheus."""

import re
import time
from datetime import UTC, datetime, timedelta

from tests.integration.test_pipeline import BOOK


def test_stats_window_matches_the_jobs_wall_clock(stack):
    text = BOOK[:900]
    time.sleep(1)  # chunks of earlier tests finish outside this window
    with stack.client() as http:
        since = datetime.now(UTC)
        started = time.monotonic()
        job = http.post("/v1/jobs", json={"text": text}).json()
        finished = stack.wait_for_job(job["id"])
        wall = time.monotonic() - started
        assert finished["status"] == "succeeded"
        until = datetime.now(UTC) + timedelta(milliseconds=1)
        report = http.get(
            "/v1/stats", params={"since": since.isoformat(), "until": until.isoformat()}
        ).json()
    assert report["chunks_done"] == finished["progress"]["chunks_total"]
    assert report["chars_done"] == finished["progress"]["chars_total"]
    own_rate = finished["progress"]["chars_total"] / wall
    # The report's active span runs from submission to the last chunk; the client's wall
    # clock adds the assembly and one poll interval at most
    assert abs(report["chars_per_second"] - own_rate) / own_rate < 0.15
    assert report["audio_seconds"] <= finished["audio_seconds"]
    assert 0 < report["inference_rtf"]["p50"] <= report["inference_rtf"]["p95"] < 2
    assert report["queue_wait_ms"]["p50"] is not None
    worker_chunks = sum(w["chunks"] for w in report["workers"])
    assert worker_chunks == report["chunks_done"]
    assert all(w["peak_rss_mb"] > 100 for w in report["workers"])
    assert [p["provider"] for p in report["providers"]] == ["CPUExecutionProvider"]
    assert report["jobs"]["succeeded"] >= 1
    assert report["recent_jobs"][0]["id"] == job["id"]


def test_metrics_expose_counts_in_prometheus_format(stack):
    with stack.client() as http:
        job = http.post("/v1/jobs", json={"text": "Metrics count this chunk."}).json()
        assert stack.wait_for_job(job["id"])["status"] == "succeeded"
        body = http.get("/metrics").text

    def value(name: str) -> float:
        match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", body, re.M)
        assert match, f"{name} missing from /metrics"
        return float(match.group(1))

    chunks = value("kq_chunks_done_total")
    assert chunks >= 1
    assert value('kq_jobs{state="succeeded"}') >= 1
    assert value("kq_inference_seconds_count") == chunks
    assert value('kq_inference_seconds_bucket{le="+Inf"}') == chunks
    assert value("kq_inference_seconds_sum") > 0
    assert value("kq_audio_seconds_total") > 1
    assert value('kq_queue_depth{source="broker"}') >= 0
