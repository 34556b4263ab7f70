"""Headless Chromium driven by Playwright for the page tests: Debian's `chromium`
(Playwright's own browser download is not reachable here), pages that fail the test on any
console error, axe-core for accessibility checks, and screenshots for the docs."""

import base64
import hashlib
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE_PACKAGE = "axe-core@4"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Every value the job progress bars take, recorded in the page from its first frame, so that a
# test sees the bar move however fast the job runs
# (a bar drawn with its value already set counts too: on a quick machine the page may first draw
# the bar part-way, and the next value it takes is 100)
RECORD_PROGRESS = """
window.__progressValues = [];
const record = (bar) => window.__progressValues.push({ id: bar.id, value: Number(bar.value) });
const isBar = (node) => node.matches && node.matches("progress.job-bar");
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.type === "attributes") {
      if (isBar(change.target)) record(change.target);
      continue;
    }
    for (const node of change.addedNodes) {
      if (isBar(node)) record(node);
      if (node.querySelectorAll) node.querySelectorAll("progress.job-bar").forEach(record);
    }
  }
}).observe(document, {
  subtree: true, childList: true, attributes: true, attributeFilter: ["value"],
});
"""


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # Samples and chapters are played by the test without a person's gesture
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield browser
        finally:
            browser.close()


def render(url: str, credentials: tuple[str, str] | None = None) -> str:
    """A page's DOM once its scripts have run and its requests have settled; ``credentials``
    answer an HTTP basic-auth challenge (Flower's)."""
    with chromium() as browser:
        login = {"username": credentials[0], "password": credentials[1]} if credentials else None
        context = browser.new_context(http_credentials=login)
        try:
            page = context.new_page()
            page.goto(url, wait_until="networkidle", timeout=60_000)
            return page.content()
        finally:
            context.close()


@dataclass
class WatchedPage:
    """A page and what went wrong in it: console errors and uncaught exceptions. The browser
    logs an HTTP error answer to a fetch as a console error too; those a test provokes on
    purpose (a 422 it sends, the 401 before sign-in) are listed in ``expected_statuses``."""

    page: Page
    expected_statuses: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(f"status of {status} " in text for status in self.expected_statuses):
            return
        self.errors.append(f"console: {text} ({message.location.get('url', '')})")

    def assert_clean(self) -> None:
        assert not self.errors, "\n".join(self.errors)


@contextmanager
def open_page(
    browser: Browser,
    base_url: str,
    *,
    viewport: dict | None = None,
    color_scheme: str = "light",
    expected_statuses: tuple[int, ...] = (),
    bypass_csp: bool = False,
    check_errors: bool = True,
) -> Iterator[WatchedPage]:
    """A fresh browser context (its own storage) with one page; on leaving, the test fails if
    the page logged a console error or threw."""
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport or DESKTOP,
        color_scheme=color_scheme,
        accept_downloads=True,
        bypass_csp=bypass_csp,
    )
    context.add_init_script(RECORD_PROGRESS)
    page = context.new_page()
    watched = WatchedPage(page, set(expected_statuses))
    page.on("console", watched.on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"pageerror: {error}"))
    try:
        yield watched
    finally:
        context.close()
    if check_errors:
        watched.assert_clean()


def axe_source(cache_dir: Path) -> str:
    """axe-core's browser build (MPL-2.0), fetched once from the npm registry: with `npm pack`,
    or where npm is not installed, the same tarball over HTTPS, checked against the registry's
    integrity hash."""
    script = cache_dir / "axe.min.js"
    if not script.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tarball = _npm_pack(cache_dir) if shutil.which("npm") else _registry_tarball(cache_dir)
        with tarfile.open(tarball) as archive:
            member = archive.getmember("package/axe.min.js")
            script.write_bytes(archive.extractfile(member).read())
        tarball.unlink()
    return script.read_text(encoding="utf-8")


def _npm_pack(cache_dir: Path) -> Path:
    packed = subprocess.run(
        ["npm", "pack", AXE_PACKAGE, "--json", "--pack-destination", str(cache_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return cache_dir / json.loads(packed.stdout)[0]["filename"]


def _registry_tarball(cache_dir: Path) -> Path:
    name, major = AXE_PACKAGE.split("@")
    metadata = httpx.get(f"https://registry.npmjs.org/{name}", timeout=60).json()
    newest = max(
        (v for v in metadata["versions"] if v.split(".")[0] == major and "-" not in v),
        key=lambda v: tuple(int(part) for part in v.split(".")),
    )
    dist = metadata["versions"][newest]["dist"]
    data = httpx.get(dist["tarball"], timeout=120, follow_redirects=True).content
    algorithm, expected = dist["integrity"].split("-", 1)
    assert base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == expected
    tarball = cache_dir / f"{name}-{newest}.tgz"
    tarball.write_bytes(data)
    return tarball


def serious_violations(page: Page, axe_script: str) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_script)
    result = page.evaluate(
        """async () => {
            const run = await axe.run(document, { resultTypes: ["violations"] });
            return run.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
            }));
        }"""
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide", full_page=full_page)
    return path
