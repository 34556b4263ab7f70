"""The databases the API load benchmark measures on: a fresh one per phase, on a PostgreSQL
server (created here and dropped afterwards) or in a SQLite file."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from storage.db import get_engine
from tests.support.postgres import scratch_database

DEFAULT_POSTGRES = "postgresql+psycopg://root@127.0.0.1:5432/postgres"


def postgres_answers(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # any driver or connection error: no PostgreSQL here
        return False


@contextmanager
def fresh_database(server: str | None, tmp: Path, tag: str) -> Iterator[str]:
    """A new empty database: on the PostgreSQL server ``server`` (dropped afterwards), or a
    SQLite file in ``tmp`` when ``server`` is None."""
    if server is None:
        yield f"sqlite:///{tmp / f'{tag}.db'}"
        return
    with scratch_database(server, f"kq_bench_{tag}") as url:
        try:
            yield url
        finally:
            # The benchmark's own pooled connections go before the database is dropped
            get_engine(url).dispose()


def redact(url: str) -> str:
    """``url`` with its password hidden, for the benchmark's output."""
    return make_url(url).render_as_string(hide_password=True)
