"""Deliveries of finished books to Audiobookshelf: the settings a job is given (checked, kept,
never shown), the delivery a succeeded job starts through the one job-end path (its own
settings, else its key's), and the ``deliver_book`` task against an Audiobookshelf stand-in: the
upload's fields and files, retries on 5xx, a final answer on 4xx, the server's address checked
as a webhook's is, and the book left as it was whatever happens. The task runs in-process
(Celery's eager ``apply``), no broker."""

import json

import pytest
from celery.exceptions import Retry

from core.jobs.states import JobStatus
from infra.queue import DELIVER_BOOK
from storage.blobs import blob_store
from storage.db import session_factory, transaction
from storage.deliveries import set_key_delivery
from storage.migrate import upgrade
from storage.models import Job
from tests.support.audiobookshelf import Audiobookshelf
from tests.support.fast import RecordingCelery, detail_text, fast_settings
from tests.support.published import AUDIO, COVER, succeeded_book
from worker import deliveries
from worker.deliveries import deliver_book

pytestmark = pytest.mark.fast

TOKEN = "abs-secret-token-never-shown-0123456789"
PUBLIC_SHELF = {
    "url": "https://abs.example.com",
    "token": TOKEN,
    "library": "lib_c1u6t4p45c35rf0nzd",
    "folder": "fol_bev1zuxhb0j0s1wehr",
}
TEXT = "The harbour was quiet. Boats rocked against the quay."


@pytest.fixture
def shelf():
    running = Audiobookshelf(token=TOKEN).start()
    yield running
    running.stop()


def job_row(settings, job_id: str) -> Job:
    with session_factory(settings.sqlalchemy_url)() as session:
        job = session.get(Job, job_id)
        session.expunge(job)
        return job


# The API: settings checked, kept, never shown


def test_a_job_s_delivery_settings_are_kept_and_never_shown(api):
    body = {"text": TEXT, "title": "Harbour", "deliver": {"audiobookshelf": PUBLIC_SHELF}}
    created = api.http.post("/v1/jobs", json=body)
    assert created.status_code == 202, created.text
    job = created.json()
    assert job["deliveries"] == []  # delivered once it has succeeded
    shown = [
        created.text,
        api.http.get(f"/v1/jobs/{job['id']}").text,
        api.http.get("/v1/jobs").text,
        api.http.get(f"/v1/jobs/{job['id']}/source").text,
    ]
    assert all(TOKEN not in text for text in shown)
    assert "deliver" not in api.http.get(f"/v1/jobs/{job['id']}/source").json()
    stored = job_row(api.settings, job["id"]).deliver
    assert stored == {"audiobookshelf": PUBLIC_SHELF | {"url": "https://abs.example.com/"}}


def test_an_uploaded_book_carries_its_delivery_settings_as_a_json_form_field(api):
    form = {"title": "Harbour", "deliver": json.dumps({"audiobookshelf": PUBLIC_SHELF})}
    files = {"file": ("harbour.txt", TEXT.encode(), "text/plain")}
    created = api.http.post("/v1/jobs", data=form, files=files)
    assert created.status_code == 202, created.text
    assert TOKEN not in created.text
    assert job_row(api.settings, created.json()["id"]).deliver["audiobookshelf"]["token"] == TOKEN


@pytest.mark.parametrize(
    ("shelf_settings", "said"),
    [
        ({"url": "http://127.0.0.1:13378"}, "KQ_DELIVER_ALLOW_PRIVATE=true"),
        ({"url": "http://192.168.1.20:13378"}, "KQ_DELIVER_ALLOW_PRIVATE=true"),
        ({"url": f"https://root:{TOKEN}@abs.example.com"}, "not in the URL"),
        ({"url": "ftp://abs.example.com"}, "URL scheme should be 'http' or 'https'"),
        ({"library": "lib 1; drop"}, "should match pattern"),
        ({"token": ""}, "token"),
        ({"folder": None}, "folder"),
    ],
)
def test_bad_delivery_settings_are_a_422_that_repeats_no_secret(
    api, unchanged, shelf_settings, said
):
    body = {"text": TEXT, "deliver": {"audiobookshelf": PUBLIC_SHELF | shelf_settings}}
    answer = api.http.post("/v1/jobs", json=body)
    assert answer.status_code == 422, answer.text
    assert said in detail_text(answer)
    assert TOKEN not in answer.text


def test_an_unknown_delivery_target_is_a_422(api, unchanged):
    answer = api.http.post("/v1/jobs", json={"text": TEXT, "deliver": {"dropbox": {"x": 1}}})
    assert answer.status_code == 422 and "dropbox" in detail_text(answer)


# The end of a job: what it starts


def test_a_succeeded_job_starts_its_delivery_after_the_commit(api):
    job_id = succeeded_book(
        api.settings,
        api.http.app.state.store,
        api.celery,
        deliver={"audiobookshelf": PUBLIC_SHELF},
    )
    assert [task[1] for task in api.celery.sent_named(DELIVER_BOOK)][-1] == [
        job_id,
        "audiobookshelf",
    ]
    shown = api.http.get(f"/v1/jobs/{job_id}")
    assert shown.json()["status"] == "succeeded"
    assert shown.json()["deliveries"] == [
        {
            "target": "audiobookshelf",
            "status": "pending",
            "attempts": 0,
            "last_error": None,
            "delivered_at": None,
        }
    ]
    assert TOKEN not in shown.text


def test_a_failed_job_and_a_job_without_settings_deliver_nothing(api):
    before = len(api.celery.sent_named(DELIVER_BOOK))
    store = api.http.app.state.store
    failed = succeeded_book(
        api.settings, store, api.celery, deliver={"audiobookshelf": PUBLIC_SHELF}, succeed=False
    )
    plain = succeeded_book(api.settings, store, api.celery)
    assert len(api.celery.sent_named(DELIVER_BOOK)) == before
    assert job_row(api.settings, failed).deliveries is None
    assert api.http.get(f"/v1/jobs/{plain}").json()["deliveries"] == []


def test_a_key_s_own_settings_deliver_its_books_unless_a_job_says_otherwise(tmp_path):
    from storage.api_keys import create_key

    settings = fast_settings(tmp_path)
    upgrade(settings.sqlalchemy_url)
    celery, store = RecordingCelery(), blob_store(settings)
    with transaction(settings.sqlalchemy_url) as session:
        key = create_key(session, "alice").row.id
        other = create_key(session, "bob").row.id
        set_key_delivery(session, key, {"audiobookshelf": PUBLIC_SHELF})
    by_key = succeeded_book(settings, store, celery, owner=key)
    own = {"audiobookshelf": PUBLIC_SHELF | {"library": "lib_own"}}
    by_job = succeeded_book(settings, store, celery, owner=key, deliver=own)
    nowhere = succeeded_book(settings, store, celery, owner=other)

    sent = [task[1] for task in celery.sent_named(DELIVER_BOOK)]
    assert sent == [[by_key, "audiobookshelf"], [by_job, "audiobookshelf"]]
    assert job_row(settings, nowhere).deliveries is None
    with session_factory(settings.sqlalchemy_url)() as session:
        order = deliveries.delivery_order(session, by_job, "audiobookshelf")
        assert order.settings["library"] == "lib_own"
        assert deliveries.delivery_order(session, by_key, "audiobookshelf").settings == (
            PUBLIC_SHELF
        )
    with transaction(settings.sqlalchemy_url) as session:
        assert set_key_delivery(session, key, None).deliver is None


# The task


@pytest.fixture
def worker(tmp_path, monkeypatch):
    """The worker's settings and store, installed; call with the overrides of one test."""

    def install(**overrides):
        settings = fast_settings(tmp_path, deliver_timeout_s=5.0, **overrides)
        upgrade(settings.sqlalchemy_url)
        store = blob_store(settings)
        monkeypatch.setattr(deliveries, "get_settings", lambda: settings)
        monkeypatch.setattr(deliveries, "process_store", lambda: store)
        return settings, store

    return install


@pytest.fixture
def retries(monkeypatch) -> list[float]:
    """The countdown of each retry the task asks for (not run: an eager retry runs at once)."""
    countdowns = []

    def retry(countdown=None, **kwargs):
        countdowns.append(countdown)
        return Retry(when=countdown)

    monkeypatch.setattr(deliver_book, "retry", retry)
    return countdowns


def deliver(job_id: str, retries: int = 0):
    """One attempt, as a worker runs it after ``retries`` retries; the EagerResult."""
    return deliver_book.apply(args=(job_id, "audiobookshelf"), retries=retries)


def delivery_of(settings, job_id: str) -> dict:
    (state,) = job_row(settings, job_id).deliveries
    return state


def book_for(settings, store, shelf: Audiobookshelf, **changes) -> str:
    return succeeded_book(
        settings,
        store,
        RecordingCelery(),
        deliver={"audiobookshelf": shelf.settings(**changes)},
        cover=COVER,
        book_info={"series": "Harbour Tales", "series_index": 2},
    )


def test_the_book_is_uploaded_with_its_details_audio_and_cover(worker, shelf):
    settings, store = worker(deliver_allow_private=True)
    job_id = book_for(settings, store, shelf)

    assert deliver(job_id).get() == "delivered"
    (upload,) = shelf.uploads
    assert upload.fields == {
        "title": "The Town",
        "author": "A. Writer",
        "series": "Harbour Tales",
        "library": shelf.library,
        "folder": shelf.folder,
    }
    audio, cover = upload.files
    assert (audio.field, audio.filename, audio.content_type) == (
        "file0",
        "The Town.wav",
        "audio/wav",
    )
    assert audio.data == AUDIO
    assert (cover.field, cover.filename, cover.content_type, cover.data) == (
        "file1",
        "cover.jpg",
        "image/jpeg",
        COVER,
    )
    state = delivery_of(settings, job_id)
    assert state["status"] == "delivered" and state["attempts"] == 1
    assert state["last_error"] is None and state["delivered_at"]

    # The same delivery sent again (a redelivered task) uploads nothing more
    assert deliver(job_id).get() == "already delivered"
    assert len(shelf.uploads) == 1


def test_a_server_answering_500_twice_is_retried_until_it_takes_the_book(worker, shelf, retries):
    settings, store = worker(deliver_allow_private=True)
    shelf.fail_next = 2
    job_id = book_for(settings, store, shelf)

    for attempt in (1, 2):
        assert isinstance(deliver(job_id, retries=attempt - 1).result, Retry)
        state = delivery_of(settings, job_id)
        assert state["status"] == "pending" and state["attempts"] == attempt
        assert state["last_error"] == "HTTP 500 Internal Server Error (will retry)"
    assert deliver(job_id, retries=2).get() == "delivered"
    assert shelf.answers == [500, 500, 200] and len(retries) == 2
    # Exponential with jitter: about 2 s, then about 4 s
    assert 1.6 <= retries[0] <= 2.4 and 3.2 <= retries[1] <= 4.8
    state = delivery_of(settings, job_id)
    assert (state["status"], state["attempts"], state["last_error"]) == ("delivered", 3, None)


def test_a_refused_token_fails_at_once_saying_what_to_fix_and_not_the_token(worker, shelf, retries):
    settings, store = worker(deliver_allow_private=True)
    wrong = "wrong-token-also-secret-987654321"
    job_id = book_for(settings, store, shelf, token=wrong)

    assert deliver(job_id).get() == "failed"
    assert retries == [] and shelf.answers == [401]
    state = delivery_of(settings, job_id)
    assert state["status"] == "failed" and state["attempts"] == 1
    assert state["last_error"].startswith("HTTP 401 Unauthorized: Audiobookshelf refused the token")
    assert wrong not in json.dumps(state)
    job = job_row(settings, job_id)  # the book is as it was
    assert job.status == JobStatus.SUCCEEDED and store.get(job.audio_key) == AUDIO


def test_an_unknown_library_is_final_with_a_hint(worker, shelf, retries):
    settings, store = worker(deliver_allow_private=True)
    job_id = book_for(settings, store, shelf, library="lib_gone")
    assert deliver(job_id).get() == "failed"
    assert "no such library or folder" in delivery_of(settings, job_id)["last_error"]
    assert retries == []


def test_a_server_on_loopback_is_not_called_unless_the_operator_allows_it(worker, shelf):
    settings, store = worker()  # KQ_DELIVER_ALLOW_PRIVATE unset
    job_id = book_for(settings, store, shelf)
    assert deliver(job_id).get() == "refused"
    assert shelf.answers == []
    state = delivery_of(settings, job_id)
    assert state["status"] == "failed"
    assert "KQ_DELIVER_ALLOW_PRIVATE=true" in state["last_error"]


def test_a_server_that_is_down_is_retried_then_failed(worker, shelf, monkeypatch):
    settings, store = worker(deliver_allow_private=True)
    job_id = book_for(settings, store, shelf)
    shelf.stop()
    monkeypatch.setattr(deliver_book, "max_retries", 0)  # this attempt is the last
    assert deliver(job_id).get() == "failed"
    state = delivery_of(settings, job_id)
    assert state["status"] == "failed" and state["last_error"].startswith("ConnectError")
    assert TOKEN not in state["last_error"]
    assert job_row(settings, job_id).status == JobStatus.SUCCEEDED
    shelf.start()  # for the fixture's stop


def test_a_deleted_job_or_one_without_the_delivery_is_skipped(worker, shelf):
    settings, store = worker(deliver_allow_private=True)
    plain = succeeded_book(settings, store, RecordingCelery())
    assert deliver(plain).get() == "skipped"
    assert deliver("0" * 32).get() == "skipped"
    assert shelf.uploads == []


def test_a_missing_cover_is_left_out_and_missing_audio_fails_at_once(worker, shelf, retries):
    settings, store = worker(deliver_allow_private=True)
    without_cover = book_for(settings, store, shelf)
    store.delete_prefix(job_row(settings, without_cover).cover_key)
    assert deliver(without_cover).get() == "delivered"
    (upload,) = shelf.uploads
    assert [f.field for f in upload.files] == ["file0"]

    without_audio = book_for(settings, store, shelf)
    store.delete_prefix(job_row(settings, without_audio).audio_key)
    assert deliver(without_audio).get() == "failed"
    assert retries == [] and len(shelf.uploads) == 1
    state = delivery_of(settings, without_audio)
    assert state["attempts"] == 1 and "missing from storage" in state["last_error"]


def test_uploaded_file_names_stay_one_name_and_errors_hide_the_token():
    from core.publish.audiobookshelf import AudiobookshelfTarget, file_name

    assert file_name('../A/B: "C"?\x00', "m4b") == "_A_B_ _C__.m4b"
    assert file_name(" ... ", "mp3") == "audiobook.mp3"
    assert len(file_name("x" * 500, "wav")) == 120 + len(".wav")
    target = AudiobookshelfTarget.from_settings(PUBLIC_SHELF)
    assert target.upload_url == "https://abs.example.com/api/upload"
    assert target.redacted(f"refused {TOKEN}!") == "refused ***!"
    with pytest.raises(ValueError, match="lack token, folder"):
        AudiobookshelfTarget.from_settings(PUBLIC_SHELF | {"token": "", "folder": None})
