"""The web app at `/`, driven in a real headless Chromium (Playwright) against the real stack:
a book made from an EPUB with a voice chosen by ear, followed live, played, jumped through and
downloaded; the API's 4xx answers shown at their field; sign-in with keys; cancel and delete
from the library; a batch as one row; axe-core accessibility; screenshots for docs/web.md;
no console errors anywhere (every page is opened through `open_page`, which checks)."""

import re
from pathlib import Path

import av
import pytest

from tests.epub_factory import CHAPTERS, build_epub
from tests.support.finished_books import job_chunks
from tests.support.stack import running_stack
from tests.support.web_browser import (
    DESKTOP,
    PHONE,
    axe_source,
    chromium,
    open_page,
    screenshot,
    serious_violations,
)

APP = Path(__file__).resolve().parents[2] / "api" / "static" / "app"
# 155 KB since the book page edits a chapter and fixes a word through one Check/Re-make flow;
# 156 KB since pasted text's # headings are chapters (the preview lists them, a box opts out);
# 168 KB since a book has details and a cover (a form section, the book page, library thumbnails);
# 172 KB since a new book has a cast step (characters, their voices and quotes, corrections)
MAX_APP_BYTES = 172 * 1024
JOB_TIMEOUT_S = 300
WAIT_MS = JOB_TIMEOUT_S * 1000
KEY_A = "web-alice-0123456789abcdef"
KEY_B = "web-bob-0123456789abcdef"
# The database is not what these tests are about
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# Long enough to be still running when the test cancels it (about a minute of work), short
# sentences so each chunk is quick
LONG_TEXT = " ".join(
    f"Sentence number {n} of the long story walks slowly along the shore." for n in range(1, 61)
)


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def axe_script(pytestconfig, tmp_path_factory) -> str:
    # Kept in pytest's cache between runs when it is on, so npm is asked once
    cache = getattr(pytestconfig, "cache", None)
    return axe_source(cache.mkdir("axe-core") if cache else tmp_path_factory.mktemp("axe-core"))


@pytest.fixture(scope="module")
def finished_book(stack) -> dict:
    """The three-chapter EPUB as an m4b, made through the API (for the pages' pictures)."""
    with stack.client() as http:
        response = http.post(
            "/v1/jobs",
            files={"file": ("harbour.epub", build_epub(), "application/epub+zip")},
            data={"format": "m4b"},
        )
        assert response.status_code == 202, response.text
    job = stack.wait_for_job(response.json()["id"], timeout_s=JOB_TIMEOUT_S)
    assert job["status"] == "succeeded", job["error"]
    return job


def job_count(stack, api_key: str | None = None) -> int:
    with stack.client(api_key=api_key) as http:
        return len(http.get("/v1/jobs", params={"limit": 200}).json()["jobs"])


@SQLITE
@pytest.mark.timeout(600)
def test_a_book_from_an_epub_is_heard_followed_played_and_downloaded(stack, browser, tmp_path):
    book = tmp_path / "harbour.epub"
    book.write_bytes(build_epub())
    with open_page(browser, stack.api_url) as watched:
        page = watched.page
        page.goto("/")
        page.set_input_files("#field-files", book)
        assert page.input_value("#field-format") == "m4b"  # the default for books

        # Hear a voice before choosing it: its sample is fetched and played
        row = page.locator("#voice-list .voice-row").nth(1)
        voice = row.locator("input[name=voice]").get_attribute("value")
        with page.expect_response(lambda r: "/sample" in r.url) as sample:
            row.locator(".sample-button").click()
        assert sample.value.status == 200
        assert sample.value.headers["content-type"].startswith("audio/")
        page.wait_for_function(
            "(voice) => { const a = document.querySelector('#voice-sample-audio');"
            " return a.dataset.voice === voice && a.currentTime > 0.1; }",
            arg=voice,
            timeout=WAIT_MS,
        )
        row.locator("label").click()
        assert page.is_checked(f"#voice-{voice}")
        page.fill("#field-author", "Ada Example")
        page.select_option("#field-loudness", "acx")

        # The preview lists the book's chapters before anything is submitted
        page.click("#preview-button")
        chapters = page.locator(".preview-chapters li")
        chapters.nth(2).wait_for()
        assert [chapters.nth(n).locator(".chapter-title").inner_text() for n in range(3)] == [
            title for title, _ in CHAPTERS
        ]

        page.evaluate("window.__sameDocument = true")
        page.click("#submit-button")
        page.wait_for_url(re.compile(r"#/jobs/[0-9a-f]+$"))
        job_id = page.url.rsplit("/", 1)[1]

        # The bar moves and reaches 100 % in the same document: live, no reload
        page.wait_for_function(
            "() => document.querySelector('#job-progress-bar')?.value === 100", timeout=WAIT_MS
        )
        values = [
            v["value"]
            for v in page.evaluate("window.__progressValues")
            if v["id"] == "job-progress-bar"
        ]
        assert values == sorted(values), values
        assert any(0 < value < 100 for value in values), values
        assert values[-1] == 100
        assert page.evaluate("window.__sameDocument") is True
        page.wait_for_function(
            "() => document.querySelector('#job-status').textContent.includes('Ready')",
            timeout=WAIT_MS,
        )
        assert "3 of 3 chapters" in page.inner_text(".progress-words")
        with stack.client() as http:
            job = http.get(f"/v1/jobs/{job_id}").json()
            chapter_times = http.get(f"/v1/jobs/{job_id}/chapters").json()
        assert job["voice"] == voice and job["author"] == "Ada Example"
        assert job["loudness"] == "acx"
        # Each chapter's measured level is on the page, within ACX's bounds
        rows = page.locator("#levels-table tbody tr")
        rows.nth(2).wait_for()
        assert rows.count() == 3
        for n, (title, _) in enumerate(CHAPTERS):
            cells = [
                rows.nth(n).locator("th").inner_text(),
                rows.nth(n).locator("td").first.inner_text(),
            ]
            assert title in cells[0]
            assert -23 <= float(cells[1].split()[0]) <= -18, cells

        # Play it: the audio advances; jump to chapter 3: it plays from that chapter's start
        jumps = page.locator("#chapter-list .chapter-jump")
        jumps.nth(2).wait_for()
        jumps.nth(0).click()
        page.wait_for_function(
            "() => document.querySelector('#player').currentTime > 0.5", timeout=30_000
        )
        third = chapter_times[2]["start_seconds"]
        jumps.nth(2).click()
        page.wait_for_function(
            "(start) => { const t = document.querySelector('#player').currentTime;"
            " return t >= start - 0.05 && t < start + 2; }",
            arg=third,
            timeout=10_000,
        )
        # Read-along follows into chapter 3, word by word (it follows the player's next time
        # update, so it is waited for, not read at once)
        page.wait_for_function(
            "() => document.querySelector('#read-along-text')?.innerText.includes('lantern')"
            " && document.querySelector('#read-along-text .word.current-word') !== null",
            timeout=10_000,
        )

        with page.expect_download() as download:
            page.click("#download-audio")
        saved = tmp_path / "book.m4b"
        download.value.save_as(saved)
    with av.open(str(saved)) as container:
        markers = container.chapters()
    assert [marker["metadata"]["title"] for marker in markers] == [t for t, _ in CHAPTERS]


@SQLITE
def test_bad_input_shows_the_api_answer_at_its_field_and_stores_nothing(stack, browser):
    before = job_count(stack)
    with open_page(browser, stack.api_url, expected_statuses=(422,)) as watched:
        page = watched.page
        page.goto("/")
        page.wait_for_selector("#voice-list")

        # Empty text: the API's 422 is shown under the text box, which is marked invalid
        with page.expect_response(lambda r: r.url.endswith("/v1/jobs")) as answer:
            page.click("#submit-button")
        assert answer.value.status == 422
        error = page.locator("#error-text")
        error.wait_for()
        assert "text is empty" in error.inner_text()
        assert page.get_attribute("#field-text", "aria-invalid") == "true"

        # A voice the server does not have, forced into the form
        page.fill("#field-text", "A short sentence to read.")
        page.evaluate("document.querySelector('input[name=voice]:checked').value = 'nobody'")
        with page.expect_response(lambda r: r.url.endswith("/v1/jobs")) as answer:
            page.click("#submit-button")
        assert answer.value.status == 422
        voice_error = page.locator("#error-voice")
        voice_error.wait_for()
        assert "unknown voice 'nobody'" in voice_error.inner_text()
        assert page.inner_text("#error-text") == ""  # the earlier error is gone
        assert "#/jobs" not in page.url  # still on the form
    assert job_count(stack) == before


@pytest.fixture(scope="module")
def keyed_stack(tmp_path_factory, redis_url):
    # A database of its own: keys in it would lock out the other tests' keyless client
    data_dir = tmp_path_factory.mktemp("web-keys")
    keys = f"alice={KEY_A},bob={KEY_B}"
    database = f"sqlite:///{data_dir / 'keys.db'}"
    with running_stack(data_dir, redis_url, database, KQ_API_KEYS=keys) as running:
        yield running


@pytest.mark.timeout(600)
def test_with_keys_people_sign_in_and_see_only_their_own_books(keyed_stack, browser, tmp_path):
    ids = {}
    for key, title in ((KEY_A, "Alice's book"), (KEY_B, "Bob's book")):
        with keyed_stack.client(api_key=key) as http:
            response = http.post("/v1/jobs", json={"text": "Hello there.", "title": title})
            assert response.status_code == 202, response.text
            ids[key] = response.json()["id"]
    assert keyed_stack.wait_for_job(ids[KEY_A], api_key=KEY_A)["status"] == "succeeded"

    with open_page(browser, keyed_stack.api_url, expected_statuses=(401, 404)) as watched:
        page = watched.page
        page.goto("/#/library")
        page.wait_for_selector("#sign-in-form")
        assert page.is_hidden("#main-nav")
        assert page.locator(".job-row").count() == 0

        page.fill("#api-key", "not-a-key")
        page.click("#sign-in-form button[type=submit]")
        page.wait_for_selector("#api-key-error:has-text('not accepted')")

        page.fill("#api-key", KEY_A)
        page.click("#sign-in-form button[type=submit]")
        page.wait_for_selector(f".job-row[data-job-id='{ids[KEY_A]}']")
        assert page.locator(f"[data-job-id='{ids[KEY_B]}']").count() == 0
        assert "Bob's book" not in page.inner_text("main")
        assert page.evaluate("sessionStorage.getItem('kokoro-queue-api-key')") == KEY_A

        # Another key's book is "not found", never shown
        page.goto(f"/#/jobs/{ids[KEY_B]}")
        page.wait_for_selector("h1:has-text('No such book')")

        # The player and downloads cannot send headers: the service worker adds the key
        page.goto(f"/#/jobs/{ids[KEY_A]}")
        page.wait_for_selector("#download-srt")
        page.wait_for_function("() => document.querySelector('#player').src.includes('/audio')")
        page.evaluate("document.querySelector('#player').play()")
        page.wait_for_function(
            "() => document.querySelector('#player').currentTime > 0.2", timeout=30_000
        )
        with page.expect_download() as download:
            page.click("#download-srt")
        subtitles = tmp_path / "hello.srt"
        download.value.save_as(subtitles)
        assert "Hello there." in subtitles.read_text()

        page.click("#sign-out")
        page.wait_for_selector("#sign-in-form")
        assert page.evaluate("sessionStorage.getItem('kokoro-queue-api-key')") is None


@SQLITE
@pytest.mark.timeout(600)
def test_a_running_book_plays_while_made_then_is_cancelled_and_deleted(stack, browser):
    with stack.client() as http:
        response = http.post(
            "/v1/jobs", json={"text": LONG_TEXT, "title": "A long walk", "format": "mp3"}
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]

    with open_page(browser, stack.api_url) as watched:
        page = watched.page
        # The job page plays the live stream while the book is still being made
        page.goto(f"/#/jobs/{job_id}")
        page.wait_for_selector("#player")
        assert "/stream" in page.get_attribute("#player", "src")
        page.evaluate("document.querySelector('#player').play()")
        page.wait_for_function(
            "() => document.querySelector('#player').currentTime > 0.3", timeout=WAIT_MS
        )
        with stack.client() as http:
            assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "running"

        page.goto("/#/library")
        row = page.locator(f".job-row[data-job-id='{job_id}']")
        row.wait_for()
        row.locator("[data-action=cancel]").click()
        page.wait_for_selector(f".job-row[data-job-id='{job_id}'][data-status='cancelled']")
        assert "Cancelled" in row.locator(".status").inner_text()
        assert row.locator("[data-action=cancel]").is_hidden()

        row.locator("[data-action=delete]").click()
        page.locator("dialog.confirm").wait_for()
        page.click("#confirm-yes")
        row.wait_for(state="detached")
    with stack.client() as http:
        assert http.get(f"/v1/jobs/{job_id}").status_code == 404


@SQLITE
def test_two_files_become_one_batch_row_with_both_books(stack, browser, tmp_path):
    files = []
    for name, text in (("first-tale", "The first tale."), ("second-tale", "The second tale.")):
        path = tmp_path / f"{name}.md"
        path.write_text(f"# {name}\n\n{text}\n")
        files.append(path)
    with open_page(browser, stack.api_url) as watched:
        page = watched.page
        page.goto("/")
        page.wait_for_selector("#voice-list")
        page.set_input_files("#field-files", files)
        assert page.is_disabled("#field-title")  # each book keeps its own
        with page.expect_response(lambda r: r.url.endswith("/v1/batches")) as answer:
            page.click("#submit-button")
        assert answer.value.status == 202
        batch = answer.value.json()
        page.wait_for_url(re.compile(r"#/library$"))
        rows = page.locator(".batch-row")
        rows.first.wait_for()
        assert rows.count() == 1
        assert rows.first.get_attribute("data-batch-id") == batch["id"]
        books = rows.first.locator(".batch-jobs li")
        assert sorted(books.nth(n).locator("a").inner_text() for n in range(2)) == [
            "first-tale",
            "second-tale",
        ]
        # Not listed a second time among the single books
        for job in batch["jobs"]:
            assert page.locator(f".job-row[data-job-id='{job['id']}']").count() == 0


@SQLITE
@pytest.mark.timeout(600)
def test_pages_pass_axe_and_are_pictured_for_the_docs(stack, browser, axe_script, finished_book):
    pages = {
        "new-job": "/#/",
        "library": "/#/library",
        "job": f"/#/jobs/{finished_book['id']}",
    }
    ready = {"new-job": ".preview", "library": ".job-row", "job": "#chapter-list"}
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for scheme in ("light", "dark"):
            # bypass_csp: axe is injected as an inline script, which the app's policy forbids
            with open_page(
                browser,
                stack.api_url,
                viewport=viewport,
                color_scheme=scheme,
                bypass_csp=True,
            ) as watched:
                page = watched.page
                for name, address in pages.items():
                    page.goto(address)
                    if name == "new-job":
                        page.wait_for_selector("#voice-list")
                        page.fill("#field-text", "On 4 July 1921, Dr. Smith paid $40 for 3 kg.")
                        page.click("#preview-button")
                    page.wait_for_selector(ready[name], timeout=30_000)
                    problems = serious_violations(page, axe_script)
                    assert not problems, f"{name} ({size}, {scheme}):\n" + "\n".join(problems)
                    if scheme == "light":
                        if name == "job":  # a word of chapter 2 marked in the read-along
                            page.evaluate(
                                "() => { document.querySelector('#player').currentTime ="
                                " document.querySelector('#chapter-list li:nth-child(2)')"
                                ".dataset.start * 1 + 1.5; }"
                            )
                            page.wait_for_selector(".word.current-word")
                        page.evaluate("window.scrollTo(0, 0)")
                        screenshot(page, f"web-{name}-{size}", full_page=size == "desktop")


TWO_CHAPTERS = {
    "chapters": [
        {"title": "One", "text": "Hermione walked to the station. The train was late."},
        {"title": "Two", "text": "The rain fell all night. Nobody came."},
    ],
    "format": "flac",
}
# Not the phonemizer's own hɜːmˈaɪəni: said so, the part would be made again yet sound the same
HERMIONE_IPA = "hɜːmiˈoʊn"


def word_times(http, job_id: str, word: str) -> list[tuple[float, float]]:
    words = http.get(f"/v1/jobs/{job_id}/timings").json()["words"]
    return [(w["start"], w["end"]) for w in words if w["word"] == word]


@SQLITE
@pytest.mark.timeout(600)
def test_fix_a_word_and_remake(reuse_stack, browser):
    stack = reuse_stack
    with stack.client() as http:
        response = http.post("/v1/jobs", json=TWO_CHAPTERS)
        assert response.status_code == 202, response.text
        first_id = response.json()["id"]
    first = stack.wait_for_job(first_id, timeout_s=JOB_TIMEOUT_S)
    assert first["status"] == "succeeded", first["error"]
    with stack.client() as http:
        plan = http.post(
            f"/v1/jobs/{first_id}/revisions",
            params={"dry_run": "true"},
            json={"pronunciations": {"Hermione": {"phonemes": HERMIONE_IPA}}},
        ).json()
    assert plan["chunks_to_make"] == 1, plan

    with open_page(browser, stack.api_url) as watched:
        page = watched.page
        page.goto(f"/#/jobs/{first_id}")
        # Pick the word in the read-along: the dialog opens with it
        page.click("#fix-pick")
        page.locator("#read-along-text .word", has_text="Hermione").first.click()
        page.locator("dialog.fix-dialog").wait_for()
        assert page.input_value("#fix-word") == "Hermione"
        # A respelling is heard first, in the book's voice
        page.fill("#fix-spelling", "her-MY-oh-nee")
        with page.expect_response(lambda r: "/sample?" in r.url) as sample:
            page.click("#fix-hear")
        assert sample.value.status == 200 and "text=her-MY-oh-nee" in sample.value.url
        page.wait_for_function(
            "() => document.querySelector('dialog.fix-dialog audio').currentTime > 0.1",
            timeout=WAIT_MS,
        )
        # IPA too: the word said with these phonemes
        page.check("#fix-kind-phonemes")
        page.fill("#fix-spelling", f"/{HERMIONE_IPA}/")
        with page.expect_response(lambda r: "/sample?" in r.url) as sample:
            page.click("#fix-hear")
        assert sample.value.status == 200 and "phonemes=" in sample.value.url
        assert "text=Hermione" in sample.value.url
        page.fill("#fix-spelling", HERMIONE_IPA)
        assert page.is_disabled("#fix-remake")  # not before a Check
        with page.expect_response(lambda r: "dry_run=true" in r.url) as checked:
            page.click("#fix-check")
        assert checked.value.status == 200
        parts = f"{plan['chunks_to_make']} of {plan['chunks_total']} parts"
        page.wait_for_selector(f"#fix-plan:has-text('{parts} will be made again')")
        assert "Chapter 1 (One), part 1: Hermione walked" in page.inner_text("#fix-plan")

        with page.expect_response(
            lambda r: r.url.endswith("/revisions") and r.request.method == "POST"
        ) as made:
            page.click("#fix-remake")
        assert made.value.status == 202
        new_id = made.value.json()["id"]
        page.wait_for_url(re.compile(rf"#/jobs/{new_id}$"))
        page.locator("dialog.fix-dialog").wait_for(state="detached")
        new = stack.wait_for_job(new_id, timeout_s=JOB_TIMEOUT_S)
        assert new["status"] == "succeeded", new["error"]
        assert new["revision_of"] == first_id and new["chunks_to_make"] == 1

        # The page says what it revises and what it reused, and lists the book's revisions
        reused = f"{new['chunks_reused']} of {new['chunks_reused'] + 1} parts reused"
        page.wait_for_selector(f"#revision-of:has-text('Revision of revision 1: {reused}')")
        revisions = page.locator("#revision-list li a")
        assert revisions.count() == 2
        assert revisions.nth(0).get_attribute("href") == f"#/jobs/{first_id}"
        assert revisions.nth(1).get_attribute("aria-current") == "page"

        # The library shows the two together, the earlier one under the newer
        page.goto("/#/library")
        newer = page.locator(f".job-row[data-job-id='{new_id}']")
        newer.wait_for()
        assert newer.locator(".revision-badge").inner_text() == "revision 2"
        earlier = page.locator(f".job-row[data-job-id='{new_id}'] + .job-row")
        assert earlier.get_attribute("data-job-id") == first_id
        assert "older-revision" in earlier.get_attribute("class")
        assert earlier.locator(".revision-badge").inner_text() == "revision 1"

    with stack.client() as http:
        chapter_two = [
            http.get(f"/v1/jobs/{job_id}/chapters/1/audio").content for job_id in (first_id, new_id)
        ]
        assert chapter_two[0] and chapter_two[0] == chapter_two[1]
        before, after = (word_times(http, job_id, "Hermione") for job_id in (first_id, new_id))
    assert before and after and before != after


@SQLITE
def test_the_cast_step_gives_characters_voices_and_corrects_a_quote(stack, browser):
    scene = (
        '"You are late," said Mary.\n\n"The gate broke," Tom answered.\n\n'
        '"And the sheep?" asked Mary.\n\n"Safe," said Tom.'
    )
    with open_page(browser, stack.api_url) as watched:
        page = watched.page
        page.goto("/")
        page.wait_for_selector("#voice-list")
        page.fill("#field-text", scene)
        page.click("#cast-button")
        rows = page.locator(".cast-character")
        rows.first.wait_for()
        assert [rows.nth(n).get_attribute("data-character") for n in range(2)] == ["Mary", "Tom"]
        page.select_option(".cast-character[data-character='Tom'] .cast-voice", "jm_kumo")
        page.select_option(".cast-character[data-character='Mary'] .cast-voice", "jf_nezumi")
        # "Safe" is Mary's, says the reader of the proofs
        mary_quote = page.locator(".cast-character[data-character='Tom'] li[data-quote]").last
        mary_quote.locator("xpath=ancestor::details").first.locator("summary").click()
        mary_quote.locator(".cast-speaker").select_option("Mary")
        with page.expect_response(lambda r: r.url.endswith("/v1/jobs")) as answer:
            page.click("#submit-button")
        assert answer.value.status == 202, answer.value.text()
        job = answer.value.json()
        page.wait_for_url(re.compile(r"#/jobs/"))
    rows = job_chunks(stack.database_url, job["id"])
    said = {r.text: (r.speaker, r.voice) for r in rows}
    assert said['"You are late,"'] == ("Mary", "jf_nezumi")
    assert said['"The gate broke,"'] == ("Tom", "jm_kumo")
    assert said['"Safe,"'] == ("Mary", "jf_nezumi")


def test_the_app_is_small():
    files = [*APP.rglob("*.js"), *APP.rglob("*.css")]
    total = sum(path.stat().st_size for path in files)
    assert len(files) > 5 and total <= MAX_APP_BYTES, f"{total} bytes in {len(files)} files"


@SQLITE
def test_the_app_is_served_with_a_strict_policy(stack):
    with stack.client() as http:
        page = http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy
        assert '<script type="module" src="/app/js/main.js">' in page.text
        assert "<script>" not in page.text  # no inline script
        script = http.get("/app/js/main.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert http.get("/app-sw.js").status_code == 200
        for missing in ("/app/js/nothing.js", "/app/index.html", "/app/%2e%2e/routers/web.py"):
            assert http.get(missing).status_code == 404, missing
        # The API and its other pages stay where they were
        assert http.get("/docs").status_code == 200
        assert http.get("/dashboard").status_code == 200
