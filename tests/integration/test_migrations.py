"""Migrations upgrade and downgrade cleanly on SQLite and, when configured, PostgreSQL."""

import os

import pytest
from sqlalchemy import create_engine, inspect

from storage.db import get_engine
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from tests.support.stack import backends, postgres_database

TABLES = {"jobs", "chunks", "worker_sessions", "batches"}


@pytest.fixture(params=backends())
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        yield from postgres_database(os.environ["KQ_TEST_POSTGRES_URL"])


def test_upgrade_downgrade_upgrade(empty_database):
    url = empty_database
    engine = create_engine(url)
    try:
        upgrade(url)
        assert current_revision(url) == head_revision(url)
        assert set(inspect(engine).get_table_names()) >= TABLES
        downgrade(url, "base")
        assert current_revision(url) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(url)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
        get_engine(url).dispose()  # current_revision's pooled connection, before the DB drops
