"""The wheel holds the service alone. benchmarks/ and tests/ are checkout-only: neither is in the
wheel nor in the Docker image (.dockerignore), so a module of the wheel that imports them, or
names them as a path (as the old ``kokoro-queue bench`` did with
``Path(__file__).parent.parent / "benchmarks" / "throughput.py"``), fails after ``pip install``.
"""

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A module name or path that starts with a checkout-only directory: "benchmarks",
# "benchmarks/", "benchmarks/throughput.py", "tests.support.seeding"; not prose that merely
# begins with the word ("tests. Then ...")
CHECKOUT_ONLY = re.compile(r"^(?:benchmarks|tests)(?:/?$|[./]\w)")
# What the build reads; the venv and caches would only slow the copy
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "var",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
)


def checkout_only_references(source: str) -> list[str]:
    """Imports of benchmarks/tests and string constants naming them (docstrings aside: they
    may point a reader at a benchmark)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            names = [node.value]
        else:
            continue
        found += [f"line {node.lineno}: {name!r}" for name in names if CHECKOUT_ONLY.match(name)]
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy: an in-tree build would leave build/ and egg-info in the checkout.
    # With build isolation, as `pip install` and the Dockerfile build it: pip fetches the
    # setuptools that [build-system] asks for, not the venv's own
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = work.glob("kokoro_queue-*.whl")
    return path


@pytest.mark.slow  # builds the wheel: about 12 s on 2 cores
def test_no_module_of_the_wheel_imports_or_names_benchmarks_or_tests(wheel):
    with zipfile.ZipFile(wheel) as archive:
        modules = {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.endswith(".py")
        }
    tops = {name.split("/")[0] for name in modules}
    assert {"api", "cli", "core", "infra", "storage", "worker"} <= tops
    assert not tops & {"benchmarks", "tests"}
    found = {
        name: refs for name, source in modules.items() if (refs := checkout_only_references(source))
    }
    assert not found, f"modules of the wheel that need the checkout: {found}"


def test_the_check_finds_imports_and_paths_but_not_prose():
    # What cli/main.py held before `kokoro-queue bench` was removed, and the other ways in
    caught = checkout_only_references(
        "import benchmarks.throughput\n"
        "from tests.support.queues import drop_queue\n"
        "import importlib\n"
        "importlib.import_module('benchmarks.api_load')\n"
        "def cmd_bench(args):\n"
        "    script = Path(__file__).resolve().parent.parent / 'benchmarks' / 'throughput.py'\n"
        "    other = ROOT / 'benchmarks/throughput.py'\n"
        "    return f'benchmarks/{args.name}'\n"
    )
    assert sorted(int(ref.split(":")[0].removeprefix("line ")) for ref in caught) == [
        1,
        2,
        4,
        6,
        7,
        8,
    ]
    assert not checkout_only_references(
        '"""Measured by benchmarks/throughput.py."""\n'
        "# benchmarks/api_load.py favoured 8\n"
        "def f():\n"
        '    """See tests/integration/test_cli.py."""\n'
        "    return 'tests. Then more', 'testsuite', 'throughput benchmark (benchmarks/)'\n"
        "from benchmarking import x\n"
    )


def test_every_test_module_has_a_basename_of_its_own():
    """The test folders are not packages: pytest imports each module by its basename, so two
    of one name (say tests/fast/test_x.py and tests/integration/test_x.py) stop collection
    of the whole suite, which the fast layer alone would not notice."""
    names: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
