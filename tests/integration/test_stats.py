"""Throughput figures: /v1/stats over a job's window agrees with the job's own wall clock, and
/metrics exposes the same counts to Prometheus."""

import re
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, or_, select

from core.jobs.states import FINISHED_JOB_STATES, ChunkStatus
from storage.models import Chunk, Job
from tests.integration.test_pipeline import BOOK
from tests.support.stack import wait_for


def chunks_in_flight(stack) -> list[tuple]:
    """Chunks of earlier tests that this stack's worker may still finish: those of unfinished
    jobs, and the running chunk of a job cancelled meanwhile (a worker finishes what it
    started). Stacks of other tests share the database; their workers are gone."""
    engine = create_engine(stack.database_url)
    with engine.connect() as db:
        rows = db.execute(
            select(Chunk.job_id, Chunk.index, Chunk.status, Job.status)
            .join(Job, Chunk.job_id == Job.id)
            .where(
                Job.queue == stack.env["KQ_QUEUE"],
                Chunk.status.in_((ChunkStatus.QUEUED, ChunkStatus.RUNNING)),
                or_(Job.status.not_in(FINISHED_JOB_STATES), Chunk.status == ChunkStatus.RUNNING),
            )
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def chunk_rtf_parts(stack, job_id: str) -> list[tuple[float, float]]:
    engine = create_engine(stack.database_url)
    with engine.connect() as db:
        rows = db.execute(
            select(Chunk.inference_ms, Chunk.audio_seconds).where(Chunk.job_id == job_id)
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_stats_window_matches_the_jobs_wall_clock(stack):
    text = BOOK[:900]
    # Chunks of earlier tests (a cancelled job's running chunk too) finish outside this window
    wait_for(lambda: not chunks_in_flight(stack), 300, "earlier tests' chunks to finish")
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
    # The inference real-time factors are the chunks' own (inference time over audio time):
    # each percentile is one of them, the median between the middle two (speed itself is
    # measured by the benchmarks, not here)
    rtfs = sorted(
        round(ms / 1000 / seconds, 4) for ms, seconds in chunk_rtf_parts(stack, job["id"])
    )
    p50, p95 = report["inference_rtf"]["p50"], report["inference_rtf"]["p95"]
    assert {p50, p95} <= set(rtfs) and 0 < p50 <= p95 <= rtfs[-1]
    assert rtfs[(len(rtfs) - 1) // 2] <= p50 <= rtfs[len(rtfs) // 2]
    assert report["queue_wait_ms"]["p50"] is not None
    # Normalizing to the spoken form is a sliver of a chunk's time; the model is nearly all
    shares = report["chunk_time_share"]
    assert 0 < shares["normalize"] < 0.01 and shares["inference"] > 0.9
    assert abs(sum(shares.values()) - 1) < 1e-3
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

        def value(name: str, text: str | None = None) -> float:
            match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text or body, re.M)
            assert match, f"{name} missing from /metrics"
            return float(match.group(1))

        # Once no chunk is waiting, both counts of waiting chunks (the broker's lists and the
        # database's queued rows) come down to none, and so does the oldest one's age
        def drained():
            now = http.get("/metrics").text
            names = ('kq_queue_depth{source="broker"}', 'kq_queue_depth{source="database"}')
            return [value(n, now) for n in names] == [0, 0] and now

        drained_body = wait_for(drained, 120, "the queue to drain in /metrics")
        assert value("kq_oldest_queued_chunk_age_seconds", drained_body) == 0

    chunks = value("kq_chunks_done_total")
    assert chunks >= 1
    assert value('kq_jobs{state="succeeded"}') >= 1
    assert value("kq_inference_seconds_count") == chunks
    assert value('kq_inference_seconds_bucket{le="+Inf"}') == chunks
    assert value("kq_inference_seconds_sum") > 0
    assert value("kq_audio_seconds_total") > 1
