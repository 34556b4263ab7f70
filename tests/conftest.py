"""The test layers: each test is marked by its directory, so that `-m "not integration"` (make
test-fast) needs no Redis, worker or model. The integration fixtures are
tests/integration/conftest.py's, the processes they start tests/support/stack.py's.
"""

from pathlib import Path

LAYER_MARKERS = {"fast": "fast", "integration": "integration"}


def pytest_collection_modifyitems(config, items):
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        relative = Path(item.path).resolve().relative_to(tests_dir)
        marker = LAYER_MARKERS.get(relative.parts[0]) if len(relative.parts) > 1 else None
        if marker:
            item.add_marker(marker)
