"""The integration layer's fixtures: real Redis, a real database, a running stack, an S3 server.

Each test session uses its own Redis database index and queue name, its own SQLite file or
PostgreSQL database, and its own data dir; it removes only what it made.
"""

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from cli.embedded_redis import redis_answers, start_embedded_redis
from tests.support.stack import (
    LOCAL_REDIS,
    STARTUP_TIMEOUT_S,
    S3Server,
    Stack,
    backends,
    free_port,
    postgres_database,
    running_stack,
    stop_process,
    wait_for,
)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """The local Redis (a test-only database index) if it answers, else an embedded one."""
    url = os.environ.get("KQ_TEST_REDIS_URL")
    if url:
        yield url
        return
    if redis_answers(LOCAL_REDIS):
        yield LOCAL_REDIS
        return
    url = f"redis://127.0.0.1:{free_port()}/0"
    process = start_embedded_redis(url, tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session", params=backends())
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'kq.db'}"
        return
    server = os.environ.get("KQ_TEST_POSTGRES_URL")
    if not server:  # a test that asked for PostgreSQL alone (indirect parametrization)
        pytest.skip(
            "needs PostgreSQL: KQ_TEST_POSTGRES_URL is not set (make test sets it, starting a "
            "throwaway server when none answers)"
        )
    yield from postgres_database(server)


@pytest.fixture(scope="session")
def stack(tmp_path_factory, redis_url, database_url) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("data"), redis_url, database_url) as running:
        yield running


@pytest.fixture(scope="session")
def reuse_stack(tmp_path_factory, redis_url, database_url) -> Iterator[Stack]:
    """A stack that reuses chunk audio (KQ_CHUNK_REUSE=owner, the default of a real server):
    the only one that records what it made for reuse, so no other stack's storage is asked for
    a file it does not hold."""
    data_dir = tmp_path_factory.mktemp("reuse")
    with running_stack(data_dir, redis_url, database_url, KQ_CHUNK_REUSE="owner") as running:
        yield running


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """moto's standalone S3 server as a subprocess, spoken to over HTTP like any S3."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("s3") / "moto.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def answers():
        if process.poll() is not None:
            raise AssertionError(f"the S3 server exited early, see {log}")
        try:
            return httpx.get(endpoint, timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, STARTUP_TIMEOUT_S, "the S3 server to answer")
        yield S3Server(endpoint)
    finally:
        stop_process(process)
