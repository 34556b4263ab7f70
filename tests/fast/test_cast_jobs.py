"""A cast on a job, through the in-process app (SQLite file, broker stand-in): chunks never
cross a change of speaker, each records its speaker and is read by that character's voice (by
name, by gender, `unknown`, the narrator's); corrections and markup voice tags win; saved casts
by name (PUT/GET/DELETE /v1/casts/{name}) are each key's own and read when a job names one."""

import json

import pytest
from sqlalchemy import select

from core.cast.book import cast_book
from storage.db import session_factory
from storage.models import Chunk
from tests.support.fast import FastApi, api_for, detail_text, fast_settings, without_shell_settings

# The voices of the embedded test model
NARRATOR, TOM, WOMEN, UNKNOWN, OTHER = (
    "jf_alpha",
    "jm_kumo",
    "jf_nezumi",
    "jf_tebukuro",
    "jf_gongitsune",
)
SCENE = (
    "Tom sat down by the fire.\n\n"
    '"Hello, Mary," said Tom. "It is cold tonight."\n\n'
    '"It is," said Mary, without looking up from her book.\n\n'
    '"Ready when you are," said Quill from the hall.\n\n'
    '"Goodbye," said Tom.\n\nThe fire went out.'
)
CAST = {"narrator": NARRATOR, "characters": {"Tom": TOM}, "female": WOMEN, "unknown": UNKNOWN}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with without_shell_settings():
        yield api_for(fast_settings(tmp_path_factory.mktemp("api")))


def preview(api: FastApi, **body) -> list[dict]:
    answer = api.http.post("/v1/text/preview", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["chunks"]


def test_each_quote_is_read_by_its_speakers_voice_and_chunks_never_cross_a_speaker(api):
    chunks = preview(api, text=SCENE, cast=CAST)
    read = [(c["speaker"], c["voice"], c["text"]) for c in chunks]
    assert read == [
        (None, NARRATOR, "Tom sat down by the fire."),
        ("Tom", TOM, '"Hello, Mary,"'),
        (None, NARRATOR, "said Tom."),
        ("Tom", TOM, '"It is cold tonight."'),
        ("Mary", WOMEN, '"It is,"'),
        (None, NARRATOR, "said Mary, without looking up from her book."),
        ("Quill", UNKNOWN, '"Ready when you are,"'),  # of no known gender
        (None, NARRATOR, "said Quill from the hall."),
        ("Tom", TOM, '"Goodbye,"'),
        (None, NARRATOR, "said Tom."),
        (None, NARRATOR, "The fire went out."),
    ]
    # Every word is read once, in order
    assert " ".join(c["text"] for c in chunks).split() == SCENE.split()


def test_without_a_cast_one_voice_reads_everything(api):
    chunks = preview(api, text=SCENE, voice=NARRATOR)
    assert {(c["speaker"], c["voice"]) for c in chunks} == {(None, NARRATOR)}
    assert len(chunks) < len(preview(api, text=SCENE, cast=CAST))  # quotes are not cut out


def test_a_text_without_quotes_is_all_narration(api):
    chunks = preview(api, text="The road ran on. Nobody spoke all day.", cast=CAST)
    assert {(c["speaker"], c["voice"]) for c in chunks} == {(None, NARRATOR)}


def test_a_correction_gives_a_quote_another_speaker(api):
    quote = next(q for q in cast_book([SCENE]).quotes if q.text == '"Ready when you are,"')
    corrected = {**CAST, "corrections": [{"chapter": 0, "start": quote.start, "speaker": "Tom"}]}
    chunks = preview(api, text=SCENE, cast=corrected)
    said = next(c for c in chunks if c["text"] == '"Ready when you are,"')
    assert (said["speaker"], said["voice"]) == ("Tom", TOM)


def test_a_markup_voice_tag_wins_over_the_cast(api):
    text = f'"Stop," said Tom.\n\n[voice:{OTHER}] "Never," said Tom.'
    chunks = preview(api, text=text, markup="tags", cast=CAST)
    assert [(c["text"], c["speaker"], c["voice"]) for c in chunks] == [
        ('"Stop,"', "Tom", TOM),
        ("said Tom.", None, NARRATOR),
        ('"Never,"', "Tom", OTHER),
        ("said Tom.", None, OTHER),
    ]


def test_chapters_are_cast_as_one_book(api):
    chapters = [
        {"title": "One", "text": '"Hello," said Mary.'},
        {"title": "Two", "text": '"Goodbye," she said.'},  # Mary, from chapter one
    ]
    chunks = preview(api, chapters=chapters, cast=CAST)
    assert [(c["chapter"], c["speaker"], c["voice"]) for c in chunks if c["speaker"]] == [
        (0, "Mary", WOMEN),
        (1, "Mary", WOMEN),
    ]


def test_a_cast_voice_this_server_lacks_is_a_422_naming_it(api):
    answer = api.http.post(
        "/v1/jobs", json={"text": SCENE, "cast": {"characters": {"Tom": "zz_nobody"}}}
    )
    assert answer.status_code == 422
    assert "cast 'Tom'" in detail_text(answer) and "zz_nobody" in detail_text(answer)


def test_a_jobs_chunks_record_their_speaker_and_voice(api):
    answer = api.http.post("/v1/jobs", json={"text": SCENE, "cast": CAST})
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["voice"] == NARRATOR
    with session_factory(api.settings.sqlalchemy_url)() as session:
        rows = session.execute(
            select(Chunk.speaker, Chunk.voice)
            .where(Chunk.job_id == job["id"])
            .order_by(Chunk.index)
        ).all()
    assert ("Tom", TOM) in rows and ("Mary", WOMEN) in rows and ("Quill", UNKNOWN) in rows
    assert {voice for speaker, voice in rows if speaker is None} == {None}  # the job's voice
    source = api.http.get(f"/v1/jobs/{job['id']}/source")
    assert source.status_code == 200


def test_a_saved_cast_is_kept_listed_read_by_jobs_and_deleted(api):
    saved = api.http.put("/v1/casts/The Ferry Series", json={"characters": {"Tom": TOM}})
    assert saved.status_code == 201, saved.text
    again = api.http.put("/v1/casts/The Ferry Series", json={**CAST})
    assert again.status_code == 200 and again.json()["female"] == WOMEN
    assert [c["name"] for c in api.http.get("/v1/casts").json()] == ["The Ferry Series"]
    assert api.http.get("/v1/casts/The Ferry Series").json()["characters"] == {"Tom": TOM}
    chunks = preview(api, text=SCENE, cast="The Ferry Series")
    assert ("Mary", WOMEN) in [(c["speaker"], c["voice"]) for c in chunks]
    form = api.http.post(
        "/v1/jobs",
        files={"file": ("scene.txt", SCENE.encode())},
        data={"cast": "The Ferry Series"},
    )
    assert form.status_code == 202, form.text
    assert form.json()["voice"] == NARRATOR
    as_json = api.http.post(
        "/v1/text/preview",
        files={"file": ("scene.txt", SCENE.encode())},
        data={"cast": json.dumps({"characters": {"Tom": OTHER}})},
    )
    assert as_json.status_code == 200, as_json.text
    assert ("Tom", OTHER) in [(c["speaker"], c["voice"]) for c in as_json.json()["chunks"]]
    assert api.http.delete("/v1/casts/The Ferry Series").status_code == 204
    assert api.http.get("/v1/casts/The Ferry Series").status_code == 404
    missing = api.http.post("/v1/jobs", json={"text": SCENE, "cast": "The Ferry Series"})
    assert missing.status_code == 422
    assert "PUT /v1/casts/The Ferry Series" in detail_text(missing)


def test_saved_cast_names_and_voices_are_checked(api):
    assert api.http.put("/v1/casts/-bad", json={}).status_code == 422
    answer = api.http.put("/v1/casts/ok", json={"male": "zz_nobody"})
    assert answer.status_code == 422 and "male" in detail_text(answer)
    assert api.http.get("/v1/casts/ok").status_code == 404


def test_a_quote_nobody_is_known_to_say_is_read_by_the_unknown_voice(api):
    text = 'The door opened. "Is anyone there?" Nobody answered.'
    assert [q.speaker for q in cast_book([text]).quotes] == [None]
    chunks = preview(api, text=text, cast=CAST)
    assert ('"Is anyone there?"', None, UNKNOWN) in [
        (c["text"], c["speaker"], c["voice"]) for c in chunks
    ]
    without = preview(api, text=text, cast={**CAST, "unknown": None})
    assert {c["voice"] for c in without} == {NARRATOR}
