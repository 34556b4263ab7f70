"""The web app's and the dashboard's JavaScript (api/static): type-checked by TypeScript's
``tsc --noEmit`` (JSDoc types; nothing is compiled, the browser runs the files as they are), its
pure modules unit-tested with Node's own test runner (tests/web), every module it imports
served, and both pages served under the one Content-Security-Policy.

TypeScript comes from package-lock.json (``npm ci``, the Makefile's ``web-deps``); Node and npm
from the system. Without Node or npm the checks that need them are skipped, saying so.
"""

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routers import dashboard, web

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "api" / "static"
TSC = ROOT / "node_modules" / "typescript" / "bin" / "tsc"
# tsconfig.json: the pages' scripts (DOM); tsconfig.sw.json: the service worker (no DOM)
TS_PROJECTS = ("tsconfig.json", "tsconfig.sw.json")
NODE_TIMEOUT_S = 120
# `import ... from "x"` and `export ... from "x"` statements (not JSDoc's `@import`)
MODULE_IMPORT = re.compile(r'^(?:import|export)\b[^;"]*?\bfrom\s*"([^"]+)"', re.M)
PAGES_AND_ENTRY_SCRIPTS = {"/": "/app/js/main.js", "/dashboard": "/dashboard/dashboard.js"}

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=NODE_TIMEOUT_S, check=False
    )


def typescript() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: TypeScript cannot be installed")
    if not TSC.is_file():
        pytest.fail("TypeScript is not installed here: run `make web-deps` (npm ci)")
    return TSC


@needs_node
@pytest.mark.parametrize("project", TS_PROJECTS)
def test_the_web_apps_javascript_type_checks(project):
    checked = run(["node", str(typescript()), "--noEmit", "-p", project])
    assert checked.returncode == 0, f"tsc -p {project}:\n{checked.stdout}{checked.stderr}"


@needs_node
def test_every_script_under_static_is_type_checked():
    listed: set[Path] = set()
    for project in TS_PROJECTS:
        files = run(["node", str(typescript()), "--listFilesOnly", "-p", project])
        assert files.returncode == 0, files.stdout + files.stderr
        listed |= {Path(line).resolve() for line in files.stdout.splitlines() if line}
    scripts = {path.resolve() for path in STATIC.rglob("*.js")}
    assert scripts - listed == set(), "scripts that no tsconfig includes"
    unmarked = [path for path in scripts if not path.read_text().startswith("// @ts-check\n")]
    assert not unmarked, f"first line is not `// @ts-check` (editors check by it): {unmarked}"


@needs_node
def test_the_pure_modules_pass_their_unit_tests():
    tested = run(["node", "--test", "tests/web/"])
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"^# pass [1-9]", tested.stdout, re.M), tested.stdout


@pytest.fixture(scope="module")
def http() -> TestClient:
    # Only the routers that serve api/static: no database, broker or settings
    app = FastAPI()
    app.include_router(web.router)
    app.include_router(dashboard.router)
    return TestClient(app)


def test_the_app_and_the_dashboard_are_served_under_one_policy(http):
    answers = [http.get(path) for path in ("/", "/dashboard", "/app/js/main.js", "/app-sw.js")]
    answers.append(http.get("/dashboard/dashboard.js"))
    for answer in answers:
        assert answer.status_code == 200, answer.url
    policies = {answer.headers["content-security-policy"] for answer in answers}
    assert policies == {web.CONTENT_SECURITY_POLICY}
    assert "unsafe-inline" not in web.CONTENT_SECURITY_POLICY
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("page", PAGES_AND_ENTRY_SCRIPTS)
def test_every_module_a_page_loads_is_served_as_javascript(http, page):
    entry = PAGES_AND_ENTRY_SCRIPTS[page]
    html = http.get(page).text
    script = entry.rsplit("/", 1)[-1]
    assert re.search(rf'<script type="module" src="[^"]*{re.escape(script)}">', html), html
    seen: set[str] = set()
    waiting = [entry]
    while waiting:
        url = waiting.pop()
        if url in seen:
            continue
        seen.add(url)
        answer = http.get(url)
        assert answer.status_code == 200, f"{url} is not served"
        assert answer.headers["content-type"].startswith("text/javascript"), url
        # Resolved as the browser resolves an import: against the importing module's URL
        waiting += [urljoin(url, found) for found in MODULE_IMPORT.findall(answer.text)]
    if page == "/dashboard":
        assert "/app/js/auth.js" in seen  # the one home of the key's storage
    else:
        assert len(seen) > 20


def test_the_dashboard_keeps_no_copy_of_the_key_storage():
    source = (STATIC / "dashboard.js").read_text()
    assert "sessionStorage" not in source and "kokoro-queue-api-key" not in source
    assert "SPEC" not in source  # it points at docs in the repository
