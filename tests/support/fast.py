"""Stand-ins and rows for the fast layer: a broker that records what it would be sent, the
in-process app on a SQLite file, and jobs stored straight through the storage functions."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import create_app
from core.text.chunk_plan import plan_chunks
from infra.settings import Settings
from storage.db import session_factory, transaction
from storage.jobs import ChunkTiming, NewJob, create_job
from storage.migrate import upgrade
from storage.models import Batch, Chunk, Job

TEXT = "The first sentence is short. " + "Then a much longer sentence follows it here. " * 30


class RecordingCelery:
    """Records what would be sent; with ``broker_down`` sending chunks fails as a broker that
    cannot be reached does."""

    def __init__(self, broker_down: bool = False):
        self.sent: list[tuple[str, list, str]] = []
        self.broker_down = broker_down
        self.events = SimpleNamespace(Dispatcher=lambda enabled: SimpleNamespace(app=self))

    @contextmanager
    def producer_or_acquire(self):
        if self.broker_down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        yield self

    @contextmanager
    def batch(self):
        yield

    def send_task(self, name, args=None, queue=None, **_):
        self.sent.append((name, list(args or []), queue))

    def sent_named(self, name: str) -> list[tuple[str, list, str]]:
        return [task for task in self.sent if task[0] == name]


def store_job(
    settings: Settings, *, callback: str | None = "https://hooks.example.com/kq", queue="kokoro"
):
    chunks = plan_chunks(
        [TEXT], lang="en-us", markup="none", check_voice=str, max_tokens=60,
        first_chunk_tokens=20,
    )  # fmt: skip
    spec = NewJob(
        voice="jf_alpha", speed=1.0, lang="en-us", format="wav", queue=queue, callback_url=callback
    )
    with transaction(settings.sqlalchemy_url) as session:
        job, released = create_job(session, spec, chunks, release=2)
    return job, released


LOOPBACK = ("127.0.0.1", 40000)


@dataclass
class FastApi:
    """The in-process app with its settings and the broker stand-in it sends to."""

    http: TestClient
    celery: RecordingCelery
    settings: Settings

    def stored(self) -> tuple:
        """Everything a request could have left behind: rows, audio files, sent tasks."""
        with session_factory(self.settings.sqlalchemy_url)() as session:
            rows = tuple(
                session.scalar(select(func.count()).select_from(model))
                for model in (Job, Chunk, Batch)
            )
        root = self.settings.storage_dir
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        return rows, files, len(self.celery.sent)


def api_for(settings: Settings, client: tuple[str, int] = LOOPBACK) -> FastApi:
    """The app of ``settings`` (its database migrated), called from ``client``'s address."""
    upgrade(settings.sqlalchemy_url)
    app = create_app(settings)
    celery = app.state.celery = RecordingCelery()
    # A loopback Host: without keys the API refuses other names (DNS rebinding)
    return FastApi(
        TestClient(app, client=client, base_url="http://127.0.0.1:8000"), celery, settings
    )


def fast_settings(data_dir: Path, **fields) -> Settings:
    """Settings on a SQLite file in ``data_dir``, with a broker address that is never reached
    (RecordingCelery stands in)."""
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'kq.db'}",
        redis_url="redis://127.0.0.1:1/0",
        **{"api_reader_processes": 0, **fields},  # in-process: reading in threads
    )


def detail_text(response) -> str:
    """`detail` as one string: a sentence, or FastAPI's list of {loc, msg, type}."""
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)


@contextmanager
def without_shell_settings() -> Iterator[None]:
    """The service's settings also come from KQ_* variables: while this lasts, the shell's
    cannot choose the database, storage, keys or lexicon of an in-process app."""
    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith("KQ_")]:
            env.delenv(name)
        yield


def made_chunk(audio_key: str, audio_seconds: float, **details) -> ChunkTiming:
    """What a worker records for a chunk it made, with made-up timings: ``details`` sets the
    rest (words, proof, levels...), or replaces a made-up figure (peak...)."""
    made_up = {
        "tokens": 10,
        "peak": 0.5,
        "normalize_ms": 0,
        "phonemize_ms": 0,
        "inference_ms": 0,
        "encode_ms": 0,
        "worker_host": "host",
        "worker_pid": 1,
        "provider": "CPUExecutionProvider",
        "worker_rss_mb": 1,
    }
    return ChunkTiming(audio_key=audio_key, audio_seconds=audio_seconds, **(made_up | details))
