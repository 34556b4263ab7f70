"""Fixtures of the fast layer's API tests."""

from collections.abc import Iterator

import pytest

from tests.support.fast import FastApi, api_for, fast_settings, without_shell_settings


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[FastApi]:
    """The in-process app on a SQLite file of the module's own, with default settings and none
    of the shell's KQ_* variables. A module that needs other settings defines its own."""
    with without_shell_settings():
        yield api_for(fast_settings(tmp_path_factory.mktemp("api")))


@pytest.fixture
def unchanged(api):
    """Asserts that the test stored, wrote and sent nothing (``api`` is the module's app)."""
    before = api.stored()
    yield
    assert api.stored() == before
