"""What a status poll costs the API: the statements it sends to the database
(benchmarks/api_load.py, phase D, measures its latency under load)."""

import time

import pytest
from sqlalchemy import event

from api.auth import KEYS_CHECK_TTL_S
from storage.api_keys import create_key, revoke_key
from storage.db import get_engine, transaction
from tests.support.fast import api_for, fast_settings, store_job, without_shell_settings


@pytest.fixture
def api(tmp_path):
    with without_shell_settings():
        settings = fast_settings(tmp_path)
        app = api_for(settings)
        job, _ = store_job(settings, callback=None)
        yield app, job.id


class Statements:
    """The SQL statements the app's engine sends."""

    def __init__(self, url: str):
        self.sent: list[str] = []
        self.engine = get_engine(url)

    def _record(self, conn, cursor, statement, *_):
        self.sent.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def selects(self) -> list[str]:
        return [sql for sql in self.sent if sql.lstrip().upper().startswith("SELECT")]


def test_a_keyless_status_poll_reads_the_job_and_nothing_else(api):
    app, job_id = api
    assert app.http.get(f"/v1/jobs/{job_id}").status_code == 200  # the key check is now fresh
    with Statements(app.settings.sqlalchemy_url) as statements:
        for _ in range(5):
            assert app.http.get(f"/v1/jobs/{job_id}").status_code == 200
    # One SELECT a poll: the job. Whether keys exist is read at most once a KEYS_CHECK_TTL_S
    assert len(statements.selects()) <= 5 + 1, statements.sent


def test_a_key_created_on_a_keyless_server_is_required_within_the_ttl(api):
    app, job_id = api
    assert app.http.get(f"/v1/jobs/{job_id}").status_code == 200
    with transaction(app.settings.sqlalchemy_url) as session:
        key = create_key(session, "late").key
    time.sleep(KEYS_CHECK_TTL_S + 0.05)
    assert app.http.get(f"/v1/jobs/{job_id}").status_code == 401
    # The key's own jobs are its own: the anonymous job is not
    headers = {"Authorization": f"Bearer {key}"}
    assert app.http.get(f"/v1/jobs/{job_id}", headers=headers).status_code == 404


def test_a_revoked_key_fails_at_once(api):
    app, _ = api
    with transaction(app.settings.sqlalchemy_url) as session:
        create_key(session, "staying")  # with no key left the server would be keyless again
        made = create_key(session, "short-lived")
        key_id = made.row.id
    headers = {"Authorization": f"Bearer {made.key}"}
    assert app.http.get("/v1/jobs", headers=headers).status_code == 200
    with transaction(app.settings.sqlalchemy_url) as session:
        revoke_key(session, key_id)
    answer = app.http.get("/v1/jobs", headers=headers)
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
