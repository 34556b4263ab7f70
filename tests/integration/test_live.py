"""A job followed live: Server-Sent Events per finished chunk (resumable), and its audio
streamed in order while it is made, equal to the final file's samples."""

import io
import json
import struct
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import av
import numpy as np
import pytest
from sqlalchemy import create_engine, select

from cli.client import Client
from core.audio.formats import StreamFormat
from storage.models import Chunk
from tests.audio_checks import read_audio
from tests.integration.test_pipeline import BOOK
from tests.support.finished_books import chapter_gains

EVENT_LATENESS_S = 1.0
# How long following one job live may take in all, every connection of a test together (under
# pytest-timeout's 900 s). A stream that stops sending fails sooner, at the client's read
# timeout; one that keeps sending (keep-alive comments every 15 s) would otherwise never end
LIVE_DEADLINE_S = 600.0

# Events and streams come from Redis and storage: the database is not what these test
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def live_deadline() -> float:
    return time.monotonic() + LIVE_DEADLINE_S


def until_deadline(items: Iterable, deadline: float, what: str) -> Iterator:
    """``items`` as they come, failing the test once the clock passes ``deadline``."""
    for item in items:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out {what}: the test's {LIVE_DEADLINE_S:.0f} s are up")
        yield item


def read_events(response, deadline: float, limit: int | None = None) -> list[dict]:
    """Parse an SSE stream into {id, event, data, at}; stop after ``limit`` chunk events."""
    events, fields = [], {}
    for line in until_deadline(response.iter_lines(), deadline, "reading events"):
        if line == "":
            if "event" in fields:
                events.append(fields | {"at": datetime.now(UTC)})
                if limit and sum(e["event"] == "chunk" for e in events) >= limit:
                    return events
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    return events


def chunk_rows(stack, job_id: str) -> list:
    engine = create_engine(stack.database_url)
    with engine.connect() as db:
        rows = db.execute(select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.index)).all()
    engine.dispose()
    return rows


@SQLITE
def test_events_one_per_chunk_in_order_promptly_and_resumable(stack):
    deadline = live_deadline()
    with stack.client(timeout_s=300) as http:
        job = http.post("/v1/jobs", json={"text": BOOK}).json()
        total = job["progress"]["chunks_total"]
        url = f"/v1/jobs/{job['id']}/events"
        with http.stream("GET", url) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            first = read_events(response, deadline, limit=3)
        # Reconnect where the first connection stopped, as EventSource would
        with http.stream("GET", url, headers={"Last-Event-ID": first[-1]["id"]}) as response:
            rest = read_events(response, deadline)

    chunk_events = [e for e in first + rest if e["event"] == "chunk"]
    assert [int(e["id"]) for e in chunk_events] == list(range(1, total + 1))  # no gap, no repeat
    assert rest[-1]["event"] == "finished"
    final = json.loads(rest[-1]["data"])
    assert final["status"] == "succeeded" and final["audio_seconds"] > 0
    data = [json.loads(e["data"]) for e in chunk_events]
    assert sorted(d["chunk"] for d in data) == list(range(total))  # one event per chunk
    assert [d["chunks_done"] for d in data] == list(range(1, total + 1))
    assert data[-1]["percent"] == 100.0
    assert all(a["chars_done"] < b["chars_done"] for a, b in zip(data, data[1:], strict=False))

    rows = {r.index: r for r in chunk_rows(stack, job["id"])}
    for event, payload in zip(chunk_events, data, strict=True):
        row = rows[payload["chunk"]]
        assert row.done_seq == int(event["id"])
        assert abs(payload["audio_seconds"] - row.audio_seconds) < 1e-6
        lateness = (event["at"] - row.finished_at).total_seconds()
        assert lateness < EVENT_LATENESS_S, (event["id"], lateness)

    # After the end, a resume gets only what it missed: here just the final event
    with (
        stack.client() as http,
        http.stream("GET", url, headers={"Last-Event-ID": str(total)}) as response,
    ):
        after_end = read_events(response, deadline)
    assert [e["event"] for e in after_end] == ["finished"]


def parse_streamed_wav(data: bytes) -> np.ndarray:
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    channels, rate = struct.unpack("<HI", data[22:28])
    assert (channels, rate) == (1, 24_000)
    assert data[36:40] == b"data"
    return np.frombuffer(data[44:], dtype="<i2").astype(np.float32) / 32768.0


@SQLITE
def test_stream_starts_before_the_job_ends_and_equals_the_final_file(stack):
    with stack.client(timeout_s=300) as http:
        job = http.post("/v1/jobs", json={"text": BOOK, "format": "wav"}).json()
        received, status_at_first_audio = bytearray(), None
        with http.stream("GET", f"/v1/jobs/{job['id']}/stream?format=wav") as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "audio/wav"
            pieces = until_deadline(response.iter_bytes(), live_deadline(), "streaming")
            for piece in pieces:
                received += piece
                if status_at_first_audio is None and len(received) > 44:
                    status_at_first_audio = http.get(f"/v1/jobs/{job['id']}").json()["status"]
        assert status_at_first_audio in ("queued", "running")  # playback could start early
        finished = stack.wait_for_job(job["id"])
        assert finished["status"] == "succeeded"
        final, rate = read_audio(http.get(f"/v1/jobs/{job['id']}/audio").content)

    streamed = parse_streamed_wav(bytes(received))
    rows = chunk_rows(stack, job["id"])
    # Same length (one frame of slack per join); the same samples at the chunks' own level
    assert abs(len(streamed) - len(final)) <= len(rows) - 1
    (gain,) = chapter_gains(rows).values()
    np.testing.assert_allclose(streamed[: len(final)] * gain, final[: len(streamed)], atol=3e-4)


def test_stream_formats_decode_to_the_whole_job(stack):
    text = "Streaming formats are checked here. Each one must decode to the whole job."
    with stack.client(timeout_s=300) as http:
        job = http.post("/v1/jobs", json={"text": text}).json()
        assert stack.wait_for_job(job["id"])["status"] == "succeeded"
        final, rate = read_audio(http.get(f"/v1/jobs/{job['id']}/audio").content)
        seconds = len(final) / rate
        for fmt in StreamFormat:
            answer = http.get(f"/v1/jobs/{job['id']}/stream", params={"format": fmt.value})
            assert answer.status_code == 200 and answer.headers["content-type"] == fmt.media_type
            decoded_seconds = decoded_duration(answer.content, fmt)
            # Compressed codecs pad a few frames at the ends
            assert abs(decoded_seconds - seconds) < 0.15, (fmt, decoded_seconds, seconds)


def decoded_duration(data: bytes, fmt: StreamFormat) -> float:
    if fmt is StreamFormat.PCM:
        return len(data) / 2 / 24_000
    if fmt is StreamFormat.WAV:
        return len(parse_streamed_wav(data)) / 24_000
    # A stream's header cannot know its length (FLAC says "unknown"): decode it all
    demuxer = {StreamFormat.AAC: "aac", StreamFormat.OPUS: "ogg"}.get(fmt, fmt.value)
    with av.open(io.BytesIO(data), format=demuxer) as container:
        frames = list(container.decode(audio=0))
    return sum(f.samples for f in frames) / frames[0].sample_rate


def test_cli_client_follows_events_to_the_end(stack):
    with stack.client() as http:
        job = http.post("/v1/jobs", json={"text": BOOK[:600]}).json()
    client = Client(stack.api_url)
    events = list(until_deadline(client.events(job["id"]), live_deadline(), "following"))
    assert [name for name, _ in events[:-1]] == ["chunk"] * job["progress"]["chunks_total"]
    assert events[-1][0] == "finished" and events[-1][1]["status"] == "succeeded"
    assert [data["chunks_done"] for _, data in events[:-1]] == list(
        range(1, job["progress"]["chunks_total"] + 1)
    )
