"""Throughput: ``/v1/stats`` (JSON report) and ``/metrics`` (Prometheus)."""

from datetime import MINYEAR, UTC, datetime

from fastapi import APIRouter, Depends, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from api.auth import authenticate
from api.deps import ApiKeyDep, SessionDep, SettingsDep
from api.errors import unprocessable
from api.openapi import errors
from core.jobs.states import JobStatus
from core.speech.proof import VERDICTS as PROOF_VERDICTS
from infra.queue import broker_queue_depth
from storage.db import utcnow
from storage.metrics import metric_values
from storage.stats import throughput_report

router = APIRouter(tags=["stats"])


@router.get(
    "/v1/stats",
    dependencies=[Depends(authenticate)],
    responses=errors(
        (422, "Not a date and time with a timezone, or `since` is not before `until`")
    ),
)
def stats(
    session: SessionDep,
    settings: SettingsDep,
    principal: ApiKeyDep,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict:
    """Throughput over chunks finished in [since, until] (ISO 8601; default the last hour)."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise unprocessable(f"`{name}` needs a timezone, e.g. 2026-01-01T00:00:00Z")
    since, until = _in_utc(since), _in_utc(until)
    if since and since >= (until or utcnow()):
        raise unprocessable("`since` must be before `until` (default: now)")
    # The figures are about the service; the recent jobs listed are the caller's own
    return throughput_report(
        session, since, until, broker_queue_depth(settings), owner=principal.owner
    )


def _in_utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC, held to the years 1 to 9999 that a datetime can hold: a time an offset
    puts beyond them (0001-01-01T00:00:00+14:00) selects what the first or last moment does."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year == MINYEAR else datetime.max).replace(tzinfo=UTC)


class _DatabaseCollector:
    def __init__(self, values: dict, broker_depth: int | None):
        self.values = values
        self.broker_depth = broker_depth

    def collect(self):
        v = self.values
        jobs = GaugeMetricFamily("kq_jobs", "Jobs by state", labels=["state"])
        for state in JobStatus:
            jobs.add_metric([state.value], v["jobs"].get(state.value, 0))
        yield jobs
        yield CounterMetricFamily("kq_chunks_done", "Chunks synthesized", value=v["chunks_done"])
        yield CounterMetricFamily(
            "kq_chunks_reused", "Chunks whose audio was made before", value=v["chunks_reused"]
        )
        proofed = CounterMetricFamily(
            "kq_proof_chunks",
            "Chunks heard back by proof-listening, by verdict",
            labels=["verdict"],
        )
        for verdict in PROOF_VERDICTS:
            proofed.add_metric([verdict], v["proof_verdicts"].get(verdict, 0))
        yield proofed
        stored = GaugeMetricFamily("kq_storage_bytes", "Audio kept in storage", labels=["kind"])
        stored.add_metric(["chunk_audio"], v["storage"]["chunk_audio_bytes"])
        stored.add_metric(["finished_files"], v["storage"]["finished_file_bytes"])
        yield stored
        yield CounterMetricFamily("kq_audio_seconds", "Audio produced", value=v["audio_seconds"])
        yield CounterMetricFamily("kq_chars_done", "Characters synthesized", value=v["chars_done"])
        yield HistogramMetricFamily(
            "kq_inference_seconds",
            "Model inference time per chunk",
            buckets=[(str(b), n) for b, n in v["inference_buckets"]] + [("+Inf", v["chunks_done"])],
            sum_value=v["inference_seconds_sum"],
        )
        depth = GaugeMetricFamily("kq_queue_depth", "Chunks waiting", labels=["source"])
        depth.add_metric(["database"], v["chunks_queued"])
        if self.broker_depth is not None:
            depth.add_metric(["broker"], self.broker_depth)
        yield depth
        oldest = v["oldest_queued_at"]
        age = (utcnow() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "kq_oldest_queued_chunk_age_seconds", "Age of the oldest waiting chunk", value=age
        )


@router.get("/metrics", include_in_schema=False)
def metrics(session: SessionDep, settings: SettingsDep) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector(metric_values(session), broker_queue_depth(settings)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
