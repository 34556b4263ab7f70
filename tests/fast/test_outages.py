"""The database or the broker goes away and comes back: the in-process app answers 503 with
Retry-After (not 500) while it cannot be reached, stores nothing, and serves again once it is
back."""

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from api.database_unavailable import RETRY_AFTER_S, is_database_unavailable
from tests.support.fast import LOOPBACK, TEXT, api_for, fast_settings

# Nothing listens on port 1: every connection attempt is refused, as a stopped server's are
UNREACHABLE = "postgresql+psycopg://kq@127.0.0.1:1/kq"


def test_every_request_gets_503_with_retry_after_while_the_database_is_unreachable(tmp_path):
    api = api_for(fast_settings(tmp_path), client=LOOPBACK)
    app = api.http.app
    before = api.http.post("/v1/jobs", json={"text": TEXT})
    assert before.status_code == 202, before.text
    job_id = before.json()["id"]
    stored = api.stored()

    app.state.settings = api.settings.model_copy(update={"database_url": UNREACHABLE})
    answers = {
        "list": api.http.get("/v1/jobs"),
        "read": api.http.get(f"/v1/jobs/{job_id}"),
        "submit": api.http.post("/v1/jobs", json={"text": TEXT}),
    }
    for name, answer in answers.items():
        assert answer.status_code == 503, (name, answer.text)
        assert answer.headers["Retry-After"] == str(RETRY_AFTER_S), name
        assert "retry" in answer.json()["detail"], name
        assert "KQ_DATABASE_URL" in answer.json()["detail"], name

    app.state.settings = api.settings  # it is back
    assert api.stored() == stored  # no row, file or task from the requests in the gap
    assert api.http.get(f"/v1/jobs/{job_id}").status_code == 200
    assert len(api.http.get("/v1/jobs").json()["jobs"]) == 1


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (OperationalError("SELECT 1", {}, Exception("connection refused")), True),
        (InterfaceError("SELECT 1", {}, Exception("connection already closed")), True),
        (DBAPIError("SELECT 1", {}, Exception("server closed"), connection_invalidated=True), True),
        (IntegrityError("INSERT", {}, Exception("duplicate key")), False),  # a bug: 500
        (ValueError("not a database error"), False),
    ],
)
def test_only_errors_of_an_unreachable_database_become_503(error, unavailable):
    assert is_database_unavailable(error) == unavailable


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/jobs", {"text": TEXT}),
        ("/v1/batches", {"jobs": [{"text": TEXT}, {"text": TEXT + " Another."}]}),
    ],
)
def test_a_submission_while_the_broker_is_unreachable_is_503_and_stores_nothing(
    tmp_path, path, body
):
    api = api_for(fast_settings(tmp_path), client=LOOPBACK)
    stored = api.stored()
    api.celery.broker_down = True
    refused = api.http.post(path, json=body)
    assert refused.status_code == 503, refused.text
    assert "queue is unreachable" in refused.json()["detail"]
    assert "nothing was stored" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    assert api.stored() == stored  # no job, chunk or batch row, no file, no task

    api.celery.broker_down = False  # it is back: the same request is taken
    assert api.http.post(path, json=body).status_code == 202
