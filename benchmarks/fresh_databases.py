"""The databases the API load benchmark measures on: a fresh one per phase, on a PostgreSQL
server (created here and dropped afterwards) or in a SQLite file."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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
    name = f"kq_bench_{tag}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        from storage.db import get_engine

        get_engine(make_url(server).set(database=name).render_as_string(False)).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
