"""POST /v1/text/cast through the in-process app: the characters of a job's text and the speaker
of each quote, nothing stored, no worker; bad bodies get the job route's 4xx."""

from pathlib import Path

import pytest

from tests.support.fast import FastApi, api_for, detail_text, fast_settings, without_shell_settings

MAX_TEXT_CHARS = 2_000
ROOT = Path(__file__).resolve().parents[2]
SCENE = (
    '"My dear Mr. Bennet," said his lady to him one day, "have you heard?"\n\n'
    '"I have not," said Mr. Bennet.\n\n'
    '"But it is," returned she.\n\n'
    "Mrs. Bennet said no more."
)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with without_shell_settings():
        yield api_for(fast_settings(tmp_path_factory.mktemp("api"), max_text_chars=MAX_TEXT_CHARS))


def cast(api: FastApi, **body) -> dict:
    answer = api.http.post("/v1/text/cast", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_text_is_cast(api, unchanged):
    found = cast(api, text=SCENE)
    assert [(q["speaker"], q["attributed"]) for q in found["quotes"]] == [
        ("Mrs. Bennet", True), ("Mrs. Bennet", True), ("Mr. Bennet", True), ("Mrs. Bennet", True)
    ]  # fmt: skip
    for quote in found["quotes"]:
        assert SCENE[quote["start"] : quote["end"]] == quote["text"] and quote["chapter"] == 0
        assert 0 < quote["confidence"] <= 1
    mrs, mr = found["characters"]
    # "his lady" is who she is to him, not her name
    assert mrs == {
        "name": "Mrs. Bennet", "aliases": [], "gender": "female", "mentions": 1, "lines": 3
    }  # fmt: skip
    assert (mr["name"], mr["gender"], mr["lines"]) == ("Mr. Bennet", "male", 1)
    assert found["chapters"] is None


def test_chapters_are_cast_together_and_quotes_say_their_chapter(api):
    chapters = [
        {"title": "One", "text": 'Tom sat down.\n\n"Hello, Ann," said Tom.'},
        {"title": "Two", "text": '"Hello," she answered.\n\n"Goodbye," said Tom.'},
    ]
    found = cast(api, chapters=chapters)
    assert found["chapters"] == ["One", "Two"]
    assert [(q["chapter"], q["speaker"]) for q in found["quotes"]] == [
        (0, "Tom"), (1, "Ann"), (1, "Tom")
    ]  # fmt: skip
    for quote in found["quotes"]:
        text = chapters[quote["chapter"]]["text"]
        assert text[quote["start"] : quote["end"]] == quote["text"]
    assert [c["name"] for c in found["characters"]] == ["Tom", "Ann"]


def test_markdown_headings_are_chapters_as_for_a_job(api):
    text = '# One\n\n"Hi," said Tom.\n\n# Two\n\n"Bye," said Ann.'
    found = cast(api, text=text)
    assert found["chapters"] == ["One", "Two"]
    assert [(q["chapter"], q["text"], q["speaker"]) for q in found["quotes"]] == [
        (0, '"Hi,"', "Tom"), (1, '"Bye,"', "Ann")
    ]  # fmt: skip


def test_ssml_attributes_are_no_dialogue(api):
    text = '<speak>"Wait," said Ann. <break time="1s"/> "Now," said Tom.</speak>'
    found = cast(api, text=text, markup="ssml")
    assert [(text[q["start"] : q["end"]], q["speaker"]) for q in found["quotes"]] == [
        ('"Wait,"', "Ann"), ('"Now,"', "Tom")
    ]  # fmt: skip


def test_a_text_without_quotes_has_no_cast(api):
    assert cast(api, text="It rained all day. Mr. Darcy stayed in.") == {
        "characters": [], "quotes": [], "chapters": None
    }  # fmt: skip


def test_a_book_file_is_cast(api, unchanged):
    answer = api.http.post(
        "/v1/text/cast", files={"file": ("scene.txt", SCENE.encode(), "text/plain")}
    )
    assert answer.status_code == 200, answer.text
    assert [c["name"] for c in answer.json()["characters"]] == ["Mrs. Bennet", "Mr. Bennet"]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, 413, "KQ_MAX_TEXT_CHARS"),
        ({"chapters": [{"text": "y" * MAX_TEXT_CHARS}, {"text": "z"}]}, 413, "cast the book"),
        ({"text": ""}, 422, "text is empty"),
        ({"voice": "af_heart"}, 422, "either `text` or `chapters`"),
        ({"text": "Hi.", "colour": "red"}, 422, "colour"),
    ],
)
def test_bad_bodies_are_refused(api, unchanged, body, status, detail):
    answer = api.http.post("/v1/text/cast", json=body)
    assert answer.status_code == status, answer.text
    assert detail in detail_text(answer)


def test_a_body_neither_json_nor_a_form_is_refused(api, unchanged):
    answer = api.http.post("/v1/text/cast", content=b"Hi.", headers={"content-type": "text/plain"})
    assert answer.status_code == 415
    answer = api.http.post(
        "/v1/text/cast", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400


def test_the_route_is_in_the_openapi_schema(api):
    schema = api.http.get("/openapi.json").json()
    operation = schema["paths"]["/v1/text/cast"]["post"]
    assert "application/json" in operation["requestBody"]["content"]
    assert {"200", "413", "422"} <= set(operation["responses"])
