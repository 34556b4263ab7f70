"""Podcast feeds: the RSS builder's output as feedparser reads it, the chapters file against the
Podcasting 2.0 format, and the feed routes in-process: tokens made, listed and revoked with the
API key, a feed of the key's finished books whose links carry the token, and 404 for a token
that is unknown or revoked."""

from datetime import UTC, datetime
from xml.etree import ElementTree

import feedparser
import pytest

from core.publish.chapters_json import ChapterMark, chapters_document
from core.publish.feed import (
    ITUNES_NS,
    PODCAST_NS,
    Channel,
    Episode,
    book_description,
    build_feed,
    itunes_duration,
    spoken_length,
)
from storage.db import transaction
from storage.feeds import MAX_ACTIVE_FEED_TOKENS
from storage.models import FeedToken
from tests.support.fast import api_for, detail_text, fast_settings, without_shell_settings
from tests.support.published import (
    AUDIO,
    CHAPTER_TEXTS,
    CHUNK_SECONDS,
    COVER,
    assert_valid_chapters,
    succeeded_book,
)

pytestmark = pytest.mark.fast

BASE = "https://tts.example.com"
HOSTILE = "Ampersands & <angles> ]]> \x01\x0b control \ud800 and \ufffe, tabs\tand ✓ emoji 📚"


def episode(number: int, **changes) -> Episode:
    fields = {
        "guid": f"{number:032x}",
        "title": f"Book {number}",
        "description": f"The story of book {number}.",
        "published_at": datetime(2024, 1, number, 12, 30, tzinfo=UTC),
        "audio_url": f"{BASE}/v1/feeds/kqf_t/{number:032x}.m4b",
        "audio_bytes": 1000 * number,
        "media_type": "audio/mp4",
        "duration_seconds": 3725.4,
        "author": "A. Writer",
        "image_url": f"{BASE}/v1/feeds/kqf_t/{number:032x}/cover.jpg",
        "chapters_url": f"{BASE}/v1/feeds/kqf_t/{number:032x}/chapters.json",
    }
    return Episode(**(fields | changes))


CHANNEL = Channel(
    title="kokoro-queue audiobooks: alice",
    description="Books read aloud.",
    link=f"{BASE}/",
    self_url=f"{BASE}/v1/feeds/kqf_t.xml",
    author="kokoro-queue",
    image_url=f"{BASE}/v1/feeds/kqf_t/{2:032x}/cover.jpg",
)


def parsed(xml: bytes):
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


# The builders


def test_the_feed_parses_cleanly_with_what_podcast_apps_read():
    books = [episode(2), episode(1, image_url=None, chapters_url=None, author=None)]
    xml = build_feed(CHANNEL, books, built_at=datetime(2024, 1, 3, tzinfo=UTC))
    feed = parsed(xml)

    assert feed.version == "rss20"
    assert feed.feed.title == CHANNEL.title
    assert feed.feed.image.href == CHANNEL.image_url
    assert feed.feed.author == "kokoro-queue"
    assert [e.title for e in feed.entries] == ["Book 2", "Book 1"]
    first, second = feed.entries
    assert first.id == f"{2:032x}" and first.guidislink is False
    assert first.published_parsed[:5] == (2024, 1, 2, 12, 30)
    (enclosure,) = first.enclosures
    assert enclosure == {"href": books[0].audio_url, "length": "2000", "type": "audio/mp4"}
    assert first.itunes_duration == "1:02:05"
    assert first.summary == "The story of book 2."
    assert first.image.href == books[0].image_url
    assert first.author == "A. Writer"
    assert first.podcast_chapters == {
        "url": books[0].chapters_url,
        "type": "application/json+chapters",
    }
    assert "image" not in second and "podcast_chapters" not in second

    # The namespaced tags are where their specifications put them
    root = ElementTree.fromstring(xml)
    channel = root.find("channel")
    assert channel.find(f"{{{ITUNES_NS}}}explicit").text == "false"  # Apple's true/false
    assert channel.find(f"{{{ITUNES_NS}}}block").text == "Yes"  # a private feed
    item = channel.find("item")
    assert item.find(f"{{{ITUNES_NS}}}summary").text == "The story of book 2."
    assert item.find(f"{{{ITUNES_NS}}}explicit").text == "false"
    assert item.find(f"{{{PODCAST_NS}}}chapters").get("type") == "application/json+chapters"


def test_text_xml_cannot_carry_is_left_out_and_the_rest_escaped():
    xml = build_feed(
        Channel(**(CHANNEL.__dict__ | {"title": HOSTILE})),
        [episode(1, title=HOSTILE, description=HOSTILE, author=HOSTILE)],
    )
    feed = parsed(xml)
    expected = "Ampersands & <angles> ]]>  control  and , tabs\tand ✓ emoji 📚"
    assert feed.feed.title == expected
    assert feed.entries[0].title == expected and feed.entries[0].author == expected


def test_a_feed_without_books_is_still_a_valid_feed():
    feed = parsed(build_feed(Channel(**(CHANNEL.__dict__ | {"image_url": None})), []))
    assert feed.entries == [] and feed.feed.title == CHANNEL.title


def test_durations_as_apps_and_people_read_them():
    assert [itunes_duration(s) for s in (0, 59.6, 3600, 36000 + 61)] == [
        "0:00:00",
        "0:01:00",
        "1:00:00",
        "10:01:01",
    ]
    assert [spoken_length(s) for s in (40, 12 * 60, 3 * 3600 + 5 * 60)] == [
        "40 s",
        "12 min",
        "3 h 05 min",
    ]


def test_a_book_s_own_description_comes_first_else_one_is_made():
    common = {"title": "Dune", "author": "F. Herbert", "voice": "af_heart", "chapters": ["A", "B"]}
    own = {"description": "  Spice and sand.  ", "series": "Dune"}
    assert book_description(**common, duration_seconds=60, book_info=own) == "Spice and sand."
    made = book_description(
        **common,
        duration_seconds=3 * 3600,
        book_info={"series": "Dune Chronicles", "series_index": 1, "year": 1965},
    )
    assert made == (
        "Dune, by F. Herbert. Book 1 of Dune Chronicles. Published 1965. Read aloud with the "
        "voice af_heart, 3 h 00 min, in 2 chapters."
    )


def test_chapters_follow_the_podcasting_2_0_format_in_start_order():
    marks = [
        ChapterMark("Two", 61.23456, 125.0),
        ChapterMark("One", 0.0, 61.23456),
        ChapterMark("", 125.0),  # untitled, open-ended
    ]
    document = chapters_document(marks)
    assert_valid_chapters(document)
    assert document == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0.0, "title": "One", "endTime": 61.235},
            {"startTime": 61.235, "title": "Two", "endTime": 125.0},
            {"startTime": 125.0},
        ],
    }


def test_the_chapters_check_refuses_what_apps_could_not_read():
    # The test's own check could fail: out of order, a time as text, no version
    with pytest.raises(AssertionError):
        assert_valid_chapters(
            {"version": "1.2.0", "chapters": [{"startTime": 5}, {"startTime": 1}]}
        )
    for bad in (
        {"version": "1.2.0", "chapters": [{"startTime": "0"}]},
        {"chapters": []},
        {"version": "1.2.0", "chapters": [{"title": "no start"}]},
    ):
        with pytest.raises(Exception, match="is not of type|is a required property"):
            assert_valid_chapters(bad)


# The routes, on a server without keys (owner "")


def new_token(api, key: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    answer = api.http.post("/v1/feeds", headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def feed_path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def store_of(api):
    return api.http.app.state.store


def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(api):
    created = new_token(api)
    token = created["token"]
    assert token.startswith("kqf_") and len(token) > 40
    assert created["url"] == f"http://127.0.0.1:8000/v1/feeds/{token}.xml"
    assert created["active"] is True and created["revoked_at"] is None

    listed = api.http.get("/v1/feeds")
    assert listed.status_code == 200
    assert created["id"] in [t["id"] for t in listed.json()]
    assert token not in listed.text
    with transaction(api.settings.sqlalchemy_url) as session:
        stored = session.get(FeedToken, created["id"])
        assert stored.owner == "" and token not in stored.token_hash  # only its hash is kept

    assert api.http.get(f"/v1/feeds/{token}.xml").status_code == 200
    assert api.http.delete(f"/v1/feeds/{created['id']}").status_code == 204
    gone = api.http.get(f"/v1/feeds/{token}.xml")
    assert gone.status_code == 404
    assert token not in gone.text and "revoked" in detail_text(gone)
    assert api.http.delete(f"/v1/feeds/{created['id']}").status_code == 204  # again: the same
    (row,) = [t for t in api.http.get("/v1/feeds").json() if t["id"] == created["id"]]
    assert row["active"] is False and row["revoked_at"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/feeds/kqf_unknown-token.xml",
        "/v1/feeds/not-a-token.xml",
        f"/v1/feeds/kqf_unknown-token/{'0' * 32}.wav",
        f"/v1/feeds/kqf_unknown-token/{'0' * 32}/chapters.json",
    ],
)
def test_an_unknown_token_is_a_404_that_does_not_repeat_it(api, path):
    answer = api.http.get(path)
    assert answer.status_code == 404
    assert "unknown-token" not in answer.text and "not-a-token" not in answer.text


def test_revoking_an_unknown_token_id_is_a_404(api):
    assert api.http.delete(f"/v1/feeds/{'f' * 32}").status_code == 404
    assert api.http.delete("/v1/feeds/not-an-id").status_code == 404


def test_the_feed_lists_finished_books_with_links_that_work(api):
    store = store_of(api)
    with_cover = succeeded_book(
        api.settings,
        store,
        api.celery,
        cover=COVER,
        book_info={"description": "Boats, gulls and a market."},
    )
    plain = succeeded_book(api.settings, store, api.celery, title=None, chapters=False)
    failed = succeeded_book(api.settings, store, api.celery, succeed=False)
    token = new_token(api)["token"]

    answer = api.http.get(f"/v1/feeds/{token}.xml")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(answer.content, response_headers=dict(answer.headers))
    assert not feed.bozo, feed.get("bozo_exception")
    entries = {entry.id: entry for entry in feed.entries}
    assert with_cover in entries and plain in entries and failed not in entries

    book = entries[with_cover]
    assert book.title == "The Town" and book.author == "A. Writer"
    assert book.summary == "Boats, gulls and a market."
    seconds = api.http.get(f"/v1/jobs/{with_cover}").json()["audio_seconds"]
    assert seconds > CHUNK_SECONDS and book.itunes_duration == itunes_duration(seconds)
    (enclosure,) = book.enclosures
    assert enclosure.type == "audio/wav"
    fetched = api.http.get(feed_path(enclosure.href))
    assert fetched.status_code == 200 and fetched.content == AUDIO
    assert int(enclosure.length) == len(fetched.content)
    part = api.http.get(feed_path(enclosure.href), headers={"Range": "bytes=4-13"})
    assert part.status_code == 206 and part.content == AUDIO[4:14]
    head = api.http.head(feed_path(enclosure.href))
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(AUDIO)

    cover = api.http.get(feed_path(book.image.href))
    assert cover.status_code == 200 and cover.content == COVER
    assert cover.headers["content-type"] == "image/jpeg"
    assert feed.feed.image.href == book.image.href  # the newest cover is the feed's

    chapters = api.http.get(feed_path(book.podcast_chapters["url"]))
    assert chapters.status_code == 200
    assert chapters.headers["content-type"] == "application/json+chapters"
    document = chapters.json()
    assert_valid_chapters(document)
    assert [c["title"] for c in document["chapters"]] == list(CHAPTER_TEXTS)
    assert document["chapters"][0]["startTime"] == 0

    untitled = entries[plain]
    assert untitled.title == f"Untitled ({plain})"
    assert "podcast_chapters" not in untitled and "image" not in untitled
    assert "Read aloud with the voice af_heart" in untitled.summary

    # Links to what the feed does not have
    for path in (
        f"/v1/feeds/{token}/{with_cover}.mp3",  # not its format
        f"/v1/feeds/{token}/{failed}.wav",
        f"/v1/feeds/{token}/{plain}/cover.jpg",
        f"/v1/feeds/{token}/{with_cover}/cover.png",
        f"/v1/feeds/{token}/not-an-id.wav",
    ):
        assert api.http.get(path).status_code == 404, path


def test_an_unchanged_feed_answers_304(api):
    token = new_token(api)["token"]
    first = api.http.get(f"/v1/feeds/{token}.xml")
    again = api.http.get(f"/v1/feeds/{token}.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    succeeded_book(api.settings, store_of(api), api.celery)
    changed = api.http.get(
        f"/v1/feeds/{token}.xml", headers={"If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]


def test_a_public_url_setting_makes_the_links(tmp_path):
    with without_shell_settings():
        api = api_for(fast_settings(tmp_path, public_url="https://books.example.org/tts/"))
    created = new_token(api)
    assert created["url"] == f"https://books.example.org/tts/v1/feeds/{created['token']}.xml"
    job_id = succeeded_book(api.settings, store_of(api), api.celery)
    feed = parsed(api.http.get(f"/v1/feeds/{created['token']}.xml").content)
    (entry,) = feed.entries
    assert entry.enclosures[0].href == (
        f"https://books.example.org/tts/v1/feeds/{created['token']}/{job_id}.wav"
    )


# With keys: each key's feeds are its own

ALICE, BOB = "alice-key-0123456789", "bob-key-0123456789"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    with without_shell_settings():
        yield api_for(
            fast_settings(tmp_path_factory.mktemp("keyed"), api_keys=f"alice={ALICE},bob={BOB}")
        )


def test_a_key_s_feed_lists_only_its_own_books_and_only_it_manages_its_tokens(keyed):
    from api.auth import env_key_owner

    store = store_of(keyed)
    alices = succeeded_book(keyed.settings, store, keyed.celery, owner=env_key_owner(ALICE))
    bobs = succeeded_book(keyed.settings, store, keyed.celery, owner=env_key_owner(BOB))
    created = new_token(keyed, ALICE)

    # Podcast apps send no key: the token alone opens the feed
    feed = parsed(keyed.http.get(f"/v1/feeds/{created['token']}.xml").content)
    assert [entry.id for entry in feed.entries] == [alices]
    assert feed.feed.title == "kokoro-queue audiobooks"
    assert keyed.http.get(f"/v1/feeds/{created['token']}/{bobs}.wav").status_code == 404

    assert keyed.http.post("/v1/feeds").status_code == 401
    assert keyed.http.get("/v1/feeds").status_code == 401
    bob = {"Authorization": f"Bearer {BOB}"}
    assert keyed.http.get("/v1/feeds", headers=bob).json() == []
    assert keyed.http.delete(f"/v1/feeds/{created['id']}", headers=bob).status_code == 404
    assert keyed.http.get(f"/v1/feeds/{created['token']}.xml").status_code == 200


def test_a_key_holds_a_bounded_number_of_active_tokens(keyed):
    alice = {"Authorization": f"Bearer {ALICE}"}
    active = [t for t in keyed.http.get("/v1/feeds", headers=alice).json() if t["active"]]
    made = [new_token(keyed, ALICE) for _ in range(MAX_ACTIVE_FEED_TOKENS - len(active))]
    refused = keyed.http.post("/v1/feeds", headers=alice)
    assert refused.status_code == 409 and "revoke one" in detail_text(refused)
    assert keyed.http.delete(f"/v1/feeds/{made[0]['id']}", headers=alice).status_code == 204
    new_token(keyed, ALICE)


def test_a_feed_closes_with_the_database_key_that_made_it(tmp_path):
    from storage.api_keys import create_key, revoke_key

    with without_shell_settings():
        api = api_for(fast_settings(tmp_path))
    with transaction(api.settings.sqlalchemy_url) as session:
        key = create_key(session, "carol")
        key_id, secret = key.row.id, key.key
    created = new_token(api, secret)
    assert api.http.get(f"/v1/feeds/{created['token']}.xml").status_code == 200
    with transaction(api.settings.sqlalchemy_url) as session:
        revoke_key(session, key_id)
    assert api.http.get(f"/v1/feeds/{created['token']}.xml").status_code == 404
