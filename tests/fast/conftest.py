"""Fixtures of the fast layer's API tests."""

import pytest


@pytest.fixture
def unchanged(api):
    """Asserts that the test stored, wrote and sent nothing (``api`` is the module's app)."""
    before = api.stored()
    yield
    assert api.stored() == before
