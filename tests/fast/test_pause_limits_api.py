"""Markup silence at the API: pauses past the cap of one gap are a 422 that names the limit
(KQ_MAX_PAUSE_GAP_S) and where it was passed, for a job and for a preview. Through the
in-process app (TestClient) on a SQLite file with a broker stand-in."""

import pytest

from tests.support.fast import FastApi, api_for, fast_settings, without_shell_settings

PAUSE = "[pause:10s]"  # the longest one pause may be


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> FastApi:
    with without_shell_settings():
        yield api_for(fast_settings(tmp_path_factory.mktemp("pause-api")))


@pytest.mark.parametrize("endpoint", ["/v1/jobs", "/v1/text/preview"])
def test_the_api_answers_422_naming_the_limit_and_where(api, endpoint):
    text = "Hello." + PAUSE * (10_000 if endpoint == "/v1/jobs" else 8_000)
    answer = api.http.post(endpoint, json={"text": text, "markup": "tags"})
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert "KQ_MAX_PAUSE_GAP_S" in detail and "at character 72" in detail, detail
