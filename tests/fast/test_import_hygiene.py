"""Each layer imports only what it uses: the API starts without the spoken-form normalizer
(``inflect`` alone takes seconds to import; the routes that need it load it when called), the
storage layer without Celery or the normalizer, and no module of the project imports another
that imports it back, even from inside a function."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "cli", "core", "infra", "storage", "worker")
HEAVY = ("inflect", "core.text.normalize", "celery")


def loaded_after(statement: str) -> set[str]:
    """Which of HEAVY a fresh interpreter holds after running ``statement``."""
    probe = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_api_starts_without_the_normalizer():
    assert loaded_after("import api.main") & {"inflect", "core.text.normalize"} == set()


@pytest.mark.parametrize(
    "module", ["storage.jobs", "storage.job_end", "storage.reconcile", "storage.chunk_status"]
)
def test_the_storage_layer_loads_neither_celery_nor_the_normalizer(module):
    assert loaded_after(f"import {module}") == set()


MODEL_RUNTIME = ("onnxruntime", "kokoro_onnx", "espeakng_loader", "phonemizer")


@pytest.mark.parametrize(
    "statement",
    [
        # What Celery's main process imports before it forks its pool children
        "import worker.app, worker.tasks, worker.assembly, worker.samples, worker.webhooks, "
        "worker.deliveries, worker.epub_audio",
        # The supervisor of one-process workers, and the CLI that starts it (and Flower, `up`)
        "import worker.supervisor, cli.main, cli.stack",
    ],
)
def test_a_process_that_forks_never_loads_the_model_runtime(statement):
    probe = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps([m for m in {MODEL_RUNTIME!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []


@pytest.mark.parametrize(
    "module", ["core.speech.languages", "core.text.markup", "core.jobs.states"]
)
def test_small_core_modules_stay_small(module):
    assert loaded_after(f"import {module}") == set()


# The import graph


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def project_module(name: str) -> str | None:
    """The project module that importing ``name`` runs (a name inside it resolves to it)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def runtime_imports(tree: ast.AST):
    """Every import statement that may run, functions included, but not those of ``if
    TYPE_CHECKING:`` blocks, which never run."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        todo.extend(ast.iter_child_nodes(node))


def imports_of(name: str) -> set[str]:
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {project_module(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(project_module(full) if full in MODULES else project_module(base))
    return found - {None, name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back():
    graph = {name: imports_of(name) for name in MODULES}
    assert sum(map(len, graph.values())) > len(MODULES)  # the reader found the imports
    assert import_cycles(graph) == []


# The layers: core is pure logic (it reads no settings and talks to nothing), infra holds what
# every process shares, storage sits under the API and the workers, which never import each other

ALLOWED = {
    "core": {"core"},
    "infra": {"core", "infra"},
    "storage": {"core", "infra", "storage"},
    "api": {"core", "infra", "storage", "api"},
    "worker": {"core", "infra", "storage", "worker"},
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_under_it(layer):
    crossings = sorted(
        f"{name} -> {target}"
        for name in MODULES
        if name.split(".")[0] == layer
        for target in imports_of(name)
        if target.split(".")[0] not in ALLOWED[layer]
    )
    assert crossings == []


def test_core_modules_live_in_named_rooms():
    loose = sorted(p.name for p in (ROOT / "core").glob("*.py") if p.name != "__init__.py")
    assert loose == [], "put each core module in a room: text, speech, voices, audio or jobs"
    rooms = {p.name for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()}
    assert rooms == {"text", "speech", "voices", "audio", "jobs", "books", "publish", "cast"}
