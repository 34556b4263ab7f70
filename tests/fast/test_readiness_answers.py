"""`/readyz` is open to anyone without a key: it says what is not ready, never where the
database or the broker live (hosts, ports, users in the drivers' error texts); those go to the
API's log for its operator. Through the in-process app with a failing session and broker."""

import logging
from contextlib import contextmanager

import pytest
from sqlalchemy.exc import OperationalError

from api.deps import get_session
from tests.support.fast import FastApi, api_for, fast_settings, without_shell_settings

DATABASE_ERROR = (
    'connection to server at "db.internal.example" (10.20.30.40), port 5432 failed: '
    'FATAL: password authentication failed for user "kq_admin"'
)
BROKER_ERROR = "Error 111 connecting to redis.internal.example:6380. Connection refused."
SECRETS = ("db.internal.example", "10.20.30.40", "5432", "kq_admin", "redis.internal", "6380")


class FailingSession:
    def execute(self, *_, **__):
        raise OperationalError("SELECT 1", {}, Exception(DATABASE_ERROR))


class UnreachableBroker:
    @contextmanager
    def connection_for_write(self):
        raise ConnectionError(BROKER_ERROR)
        yield


@pytest.fixture
def api(tmp_path) -> FastApi:
    with without_shell_settings():
        api = api_for(fast_settings(tmp_path))
    api.http.base_url = "http://127.0.0.1:8000"
    return api


def test_readyz_names_what_failed_but_not_where_it_lives(api, caplog):
    """Bug: the answer carried the drivers' error texts: hosts, ports, a user name."""

    async def failing_session():
        yield FailingSession()

    api.http.app.dependency_overrides[get_session] = failing_session
    api.http.app.state.celery = UnreachableBroker()
    with caplog.at_level(logging.WARNING):
        answer = api.http.get("/readyz")
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["ready"] is False
    assert body["checks"] == {
        "database": "error: database unreachable",
        "broker": "error: broker unreachable",
        "workers": "unknown: broker unreachable",
    }
    for secret in SECRETS:
        assert secret not in answer.text
    # The operator still learns why, from the log
    logged = caplog.text
    assert "db.internal.example" in logged and "redis.internal.example:6380" in logged
