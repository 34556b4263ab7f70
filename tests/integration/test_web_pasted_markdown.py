"""Markdown pasted into the web app, in a real headless Chromium against the real stack: its
# headings are the book's chapters in the preview (a box unticked reads them as text), on the
book page and in the read-along, with no # said or shown; and a book without an author shows no
"null" anywhere (book page, read-along, downloads, library, batch rows, the window's title)."""

import re

import pytest

from tests.support.web_browser import chromium, open_page

JOB_TIMEOUT_S = 300
WAIT_MS = JOB_TIMEOUT_S * 1000
# The database is not what these tests are about
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CHAPTERS = ["The Harbour", "The Storm", "The Return"]
MARKDOWN = (
    "# The Harbour\n\nBoats *rocked* against the quay.\n\n"
    "# The Storm\n\nRain fell all night.\n\n"
    "# The Return\n\nThey sailed home at last.\n"
)
# "null" as a word: what the DOM writes for a missing value
NULL = re.compile(r"\bnull\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def assert_no_null(page, where: str) -> None:
    shown = page.inner_text("body")
    assert not NULL.search(shown), f"{where}: {shown}"
    assert not NULL.search(page.title()), f"{where}: title {page.title()!r}"
    names = page.eval_on_selector_all("a[download]", "links => links.map((a) => a.download)")
    assert not any(NULL.search(name) for name in names), f"{where}: {names}"


@SQLITE
@pytest.mark.timeout(600)
def test_pasted_headings_are_chapters_and_no_null_author_shows(stack, browser):
    with open_page(browser, stack.api_url) as watched:
        page = watched.page
        page.goto("/")
        page.wait_for_selector("#voice-list")
        page.fill("#field-text", MARKDOWN)
        page.fill("#field-title", "Three Headings")
        assert page.is_checked("#field-headings")

        # The preview lists the headings as the chapters, and says where they came from
        page.click("#preview-button")
        chapters = page.locator(".preview-chapters li .chapter-title")
        chapters.nth(2).wait_for()
        assert chapters.all_inner_texts() == CHAPTERS
        assert "3 chapters, from # headings" in page.inner_text(".preview-summary")
        assert "#" not in page.inner_text(".preview .spoken")

        # Unticked, the # lines are text: one piece, the #s in it
        page.uncheck("#field-headings")
        page.click("#preview-button")
        page.wait_for_function(
            "() => document.querySelector('.preview-summary')?.textContent.includes('1 chapter ')"
        )
        assert page.locator(".preview-chapters").count() == 0
        assert "# The Storm" in page.inner_text(".preview .spoken")
        page.check("#field-headings")

        page.click("#submit-button")
        page.wait_for_url(re.compile(r"#/jobs/[0-9a-f]+$"))
        job_id = page.url.rsplit("/", 1)[1]
        with stack.client() as http:
            job = http.get(f"/v1/jobs/{job_id}").json()
        assert job["chapters"] == CHAPTERS and job["author"] is None
        page.wait_for_selector("#job-status")
        assert_no_null(page, "the book page while it is made")

        # Once made: its chapters listed by their headings, a read-along without a # in it
        page.wait_for_function(
            "() => document.querySelector('#job-status').textContent.includes('Ready')",
            timeout=WAIT_MS,
        )
        titles = page.locator("#chapter-list .chapter-title")
        titles.nth(2).wait_for()
        assert [re.sub(r"^\d+\. ", "", t) for t in titles.all_inner_texts()] == CHAPTERS
        page.locator("#download-audio").wait_for()
        read_along = page.locator("section[aria-labelledby=read-heading]")
        page.wait_for_function(
            "() => !document.querySelector('section[aria-labelledby=read-heading] .muted')"
            "?.textContent.startsWith('Loading')"
        )
        # A page a chapter, headed by its title; the heading is not among the words said
        shown = read_along.inner_text()
        assert "Chapter 1: The Harbour" in shown and "Boats rocked against the quay" in shown
        assert "#" not in shown and "*" not in shown
        assert_no_null(page, "the finished book page")

        # The library, and a batch of books without authors
        with stack.client() as http:
            batch = http.post(
                "/v1/batches", json={"jobs": [{"text": MARKDOWN}, {"text": "A short tale."}]}
            )
            assert batch.status_code == 202, batch.text
        # The library lists the batches this browser sent: it is told of this one as the form
        # tells it of its own
        page.evaluate(
            "async (id) => (await import('/app/js/local-memory.js')).rememberBatch(id)",
            batch.json()["id"],
        )
        page.goto("/#/library")
        page.locator(f".job-row[data-job-id='{job_id}']").wait_for()
        page.locator(f".batch-row[data-batch-id='{batch.json()['id']}']").wait_for()
        assert_no_null(page, "the library")
