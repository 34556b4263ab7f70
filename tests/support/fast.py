"""Stand-ins and rows for the fast layer: a broker that records what it would be sent, and jobs
stored straight through the storage functions."""

from contextlib import contextmanager
from types import SimpleNamespace

from core.chunk_plan import plan_chunks
from core.settings import Settings
from storage.db import transaction
from storage.jobs import NewJob, create_job

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
