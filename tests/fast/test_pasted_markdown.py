"""Pasted Markdown: a job's `text` with # headings is read as an uploaded .md file is, its
chapters titled by the headings and no # said, through POST /v1/jobs, the preview, batches and a
revision's whole text; `"headings": "text"` reads it as written; text without a heading (a
heading in a code block, "#1 in sales") is read as before."""

import pytest
from sqlalchemy import select

from core.jobs.limits import MAX_JOB_CHAPTERS
from core.text.books import MAX_TITLE_CHARS, pasted_chapters, split_markdown
from storage.db import session_factory
from storage.models import Chunk, Job
from tests.support.fast import detail_text
from tests.support.growth import MAX_GROWTH, growth

pytestmark = pytest.mark.fast

BOOK = (
    "A word before the first heading.\n\n"
    "# The Harbour\n\nBoats *rocked* against the quay. See [the map](http://example.com/m).\n\n"
    "# The Storm\n\nRain fell all night.\n\n## Morning\n\nThe sky cleared.\n\n"
    "# The Return ##\n\nThey sailed home at last.\n"
)
TITLES = ["Opening", "The Harbour", "The Storm", "The Return"]
PLAIN = "Chapter one is not a heading here.\n\nStars *shine* and #1 in sales is a hashtag.\n"
FENCED = "Run this:\n\n```sh\n# the comment of a script\necho hi\n```\n\nThen it is done.\n"


def chunk_texts(api, job_id: str) -> list[str]:
    with session_factory(api.settings.sqlalchemy_url)() as session:
        return list(
            session.scalars(select(Chunk.text).where(Chunk.job_id == job_id).order_by(Chunk.index))
        )


def stored_source(api, job_id: str) -> dict:
    with session_factory(api.settings.sqlalchemy_url)() as session:
        return session.get(Job, job_id).source


def submit(api, **body) -> dict:
    response = api.http.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def preview(api, **body) -> dict:
    response = api.http.post("/v1/text/preview", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# --- The API ---------------------------------------------------------------------------------


def test_headings_become_the_jobs_chapters_and_no_hash_is_said(api):
    job = submit(api, text=BOOK)
    assert job["chapters"] == TITLES
    texts = chunk_texts(api, job["id"])
    assert not any("#" in text for text in texts), texts
    said = " ".join(texts)
    # Read as an uploaded .md is: marks and link targets gone, a lower heading a line of its own
    assert "Boats rocked against the quay" in said and "example.com" not in said
    assert "Morning." in said
    # What a revision reads: the chapters, and the choice that made them
    source = stored_source(api, job["id"])
    assert "text" not in source and source["headings"] == "chapters"
    assert [c["title"] for c in source["chapters"]] == TITLES


def test_the_opening_chapter_is_titled_by_the_book(api):
    assert submit(api, text=BOOK, title="Sea Stories")["chapters"][0] == "Sea Stories"
    assert submit(api, text=BOOK.split("\n\n", 1)[1])["chapters"] == TITLES[1:]


def test_the_same_text_is_read_as_an_uploaded_md_file(api):
    job = submit(api, text=BOOK)
    upload = api.http.post(
        "/v1/jobs", files={"file": ("book.md", BOOK.encode(), "text/markdown")}, data={}
    )
    assert upload.status_code == 202, upload.text
    assert upload.json()["chapters"][1:] == job["chapters"][1:]  # the opening: the file's name
    assert chunk_texts(api, upload.json()["id"]) == chunk_texts(api, job["id"])


def test_headings_text_reads_the_hash_lines_as_written(api):
    job = submit(api, text=BOOK, headings="text")
    assert job["chapters"] is None
    texts = chunk_texts(api, job["id"])
    assert any("# The Harbour" in text for text in texts), texts
    assert any("*rocked*" in text for text in texts), texts  # not read as Markdown
    source = stored_source(api, job["id"])
    assert source["text"] == BOOK and source["headings"] == "text"


@pytest.mark.parametrize("text", [PLAIN, FENCED], ids=["hashtag", "code block"])
def test_text_without_a_heading_is_read_as_before(api, text):
    job = submit(api, text=text)
    assert job["chapters"] is None
    as_written = submit(api, text=text, headings="text")
    assert chunk_texts(api, job["id"]) == chunk_texts(api, as_written["id"])
    assert stored_source(api, job["id"])["text"] == text
    shown = preview(api, text=text)
    assert shown["chapters"] is None and shown["chapters_from_headings"] is False


def test_the_preview_lists_the_headings_as_chapters(api):
    shown = preview(api, text=BOOK)
    assert shown["chapters"] == TITLES
    assert shown["chapters_from_headings"] is True
    assert sorted({chunk["chapter"] for chunk in shown["chunks"]}) == [0, 1, 2, 3]
    assert "#" not in shown["spoken"]
    assert not any("#" in chunk["text"] or "#" in chunk["spoken"] for chunk in shown["chunks"])
    opted_out = preview(api, text=BOOK, headings="text")
    assert opted_out["chapters"] is None and opted_out["chapters_from_headings"] is False
    # Chapters given as such are listed, and not as headings
    given = preview(api, chapters=[{"title": "One", "text": "Words."}, {"text": "More."}])
    assert given["chapters"] == ["One", "Chapter 2"]
    assert given["chapters_from_headings"] is False


def test_tags_markup_splits_at_headings_and_keeps_its_tags(api):
    text = (
        "# Arrival\n\nWe met [Hermione](/hɜːmˈaɪəni/) at the gate. [pause:1s] She waved.\n\n"
        "# Departure\n\n*Then* we left.\n"
    )
    shown = preview(api, text=text, markup="tags")
    assert shown["chapters"] == ["Arrival", "Departure"]
    assert shown["chapters_from_headings"] is True
    first = shown["chunks"][0]
    assert "hɜːmˈaɪəni" in first["phonemes"]  # the pronunciation tag was read as one
    assert "[" not in shown["spoken"] and "#" not in shown["spoken"]
    assert any(chunk["pause_seconds"] == 1.0 for chunk in shown["chunks"])


def test_ssml_is_never_split_at_hash_lines(api):
    text = "<speak>\n# Not a heading\n<p>Words.</p>\n</speak>"
    job = submit(api, text=text, markup="ssml")
    assert job["chapters"] is None


def test_headings_with_nothing_under_them_are_refused_saying_what_to_do(api, unchanged):
    response = api.http.post("/v1/jobs", json={"text": "# Only a title\n\n# And another\n"})
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert "nothing to read under them" in issue["msg"] and '"headings": "text"' in issue["msg"]


def test_more_heading_chapters_than_a_job_may_have_are_refused(api, unchanged):
    text = "# Part\nWords.\n" * (MAX_JOB_CHAPTERS + 1)
    response = api.http.post("/v1/jobs", json={"text": text})
    assert response.status_code == 422
    assert f"more than {MAX_JOB_CHAPTERS} chapters" in detail_text(response)


def test_an_unknown_headings_choice_is_refused(api, unchanged):
    response = api.http.post("/v1/jobs", json={"text": BOOK, "headings": "maybe"})
    assert response.status_code == 422
    assert "headings" in detail_text(response)


def test_a_batch_reads_each_jobs_headings(api):
    response = api.http.post(
        "/v1/batches",
        json={"jobs": [{"text": BOOK}, {"text": BOOK, "headings": "text"}, {"text": PLAIN}]},
    )
    assert response.status_code == 202, response.text
    jobs = response.json()["jobs"]
    assert [job["chapters"] for job in jobs] == [TITLES, None, None]
    assert not any("#" in text for text in chunk_texts(api, jobs[0]["id"]))


def test_a_revisions_whole_text_is_read_for_headings_too(api):
    job = submit(api, text=PLAIN)
    response = api.http.post(f"/v1/jobs/{job['id']}/revisions", json={"text": BOOK})
    assert response.status_code == 202, response.text
    assert response.json()["chapters"] == TITLES
    # Its chapters are revised by index from then on, as a book file's are
    again = api.http.post(
        f"/v1/jobs/{response.json()['id']}/revisions", json={"chapters": {"1": "New words."}}
    )
    assert again.status_code == 202, again.text
    assert again.json()["chapters"] == TITLES


def test_a_job_stored_before_headings_existed_is_revised_as_it_was_read(api):
    job = submit(api, text=BOOK, headings="text")
    # As a job stored before the choice existed: its request without it
    with session_factory(api.settings.sqlalchemy_url).begin() as session:
        stored = session.get(Job, job["id"])
        stored.source = {k: v for k, v in stored.source.items() if k != "headings"}
    response = api.http.post(f"/v1/jobs/{job['id']}/revisions", json={"speed": 1.1})
    assert response.status_code == 202, response.text
    assert response.json()["chapters"] is None


def test_an_idempotent_replay_matches_with_or_without_the_default(api):
    headers = {"Idempotency-Key": "pasted-markdown-replay"}
    first = api.http.post("/v1/jobs", json={"text": BOOK}, headers=headers)
    again = api.http.post("/v1/jobs", json={"text": BOOK, "headings": "chapters"}, headers=headers)
    assert first.status_code == 202 and again.status_code in (200, 202), again.text
    assert again.json()["id"] == first.json()["id"]


# --- The reader ------------------------------------------------------------------------------


def test_a_heading_inside_a_code_block_splits_no_uploaded_md_either():
    book = "# One\nWords.\n```\n# a comment\n```\n# Two\nMore.\n"
    assert [c.title for c in split_markdown(book)] == ["One", "Two"]
    # A block left open runs to the end
    assert [c.title for c in split_markdown("# One\nWords.\n```\n# code\n")] == ["One"]


def test_what_is_a_heading():
    def titles(text: str) -> list[str] | None:
        found = pasted_chapters(text, "none")
        return None if found is None else [c.title for c in found]

    assert titles("#1 in sales\nwords") is None  # no space: a hashtag
    assert titles(" # indented\nwords") is None  # a heading starts its line
    assert titles("#\nwords") is None  # no words after the #s
    assert titles("## Two\nwords\n### Three\nmore") == ["Two"]  # the highest level used
    assert titles("###### Six\nwords") == ["Six"]
    assert titles("####### Seven\nwords") is None  # seven #s are text in Markdown
    assert titles("# C# ##\nwords") == ["C#"]
    assert titles("# *Bold* [title](u)\nwords") == ["Bold title"]
    assert pasted_chapters("# One\nwords", "ssml") is None


def test_titles_fit_a_chapters_label():
    (chapter,) = pasted_chapters("# A\tB\x01C " + "x" * 300 + "\nwords", "none")
    assert chapter.title.startswith("A BC ") and len(chapter.title) == MAX_TITLE_CHARS
    assert "\t" not in chapter.title and "\x01" not in chapter.title


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "# a\nb\n" + "```\n" * n,
        lambda n: "```\n" + "# a\nb\n" * n,
        lambda n: "###### " + "#" * n + " x\nwords",
        lambda n: "# " + "\t" * n + "x\nwords",
    ],
    ids=["fence lines", "fenced headings", "heading hashes", "heading tabs"],
)
@pytest.mark.parametrize("markup", ["none", "tags"])
def test_reading_pasted_headings_costs_linear_time(make, markup):
    assert growth(lambda text: pasted_chapters(text, markup), make, 500) < MAX_GROWTH
