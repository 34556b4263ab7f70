"""Speech control input (markup, pronunciations) at the API: every bad input gets its 422 with
a detail that says what and where, and stores nothing; and no text, however odd, makes
POST /v1/text/preview fail with a 5xx or drop an ordinary word. Through the in-process app
(TestClient) on a SQLite file with a broker stand-in: no Redis, worker or model is needed."""

import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fast.test_normalize import _survivable
from tests.support.fast import FastApi, api_for, fast_settings, without_shell_settings

ENDPOINTS = ("/v1/jobs", "/v1/text/preview")


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> FastApi:
    with without_shell_settings():
        yield api_for(fast_settings(tmp_path_factory.mktemp("speech-api")))


def test_a_good_body_is_accepted_so_the_refusals_below_are_the_inputs(api):
    body = {
        "text": "Hello [pause:1s] there. [voice:jm_kumo] Again [Nguyen](/wˈɪn/).",
        "markup": "tags",
        "pronunciations": {"Hello": "həlˈoʊ"},
    }
    assert api.http.post("/v1/text/preview", json=body).status_code == 200
    assert api.http.post("/v1/jobs", json=body).status_code == 202


# (body, what the detail must say): each names the bad thing and where it is
BAD_BODIES = {
    "unknown voice in a tag": (
        {"text": "Hello there. [voice:nobody] again", "markup": "tags"},
        ["unknown voice 'nobody'", "jm_kumo", "at character 13"],
    ),
    "unknown voice in SSML": (
        {"text": 'Hello <voice name="nobody">again</voice>', "markup": "ssml"},
        ["unknown voice 'nobody'", "at character 6"],
    ),
    "a pause over 10 s": (
        {"text": "Hello there. [pause:11s] again", "markup": "tags"},
        ["'11s'", "10 s", "at character 13"],
    ),
    "an SSML break over 10 s": (
        {"text": 'Hello <break time="12000ms"/> again', "markup": "ssml"},
        ["10 s", "at character 6"],
    ),
    "SSML that does not parse": (
        {"text": "Hello <break time='1s'> again", "markup": "ssml"},
        ["does not parse", "<break> is still open", "at character"],
    ),
    "unknown phonemes in pronunciations": (
        {"text": "Hello there.", "pronunciations": {"Hello": "hxq9"}},
        ["entry 'Hello'", "'9' (U+0039)"],
    ),
    "unknown phonemes in a tag": (
        {"text": "Say [Hello](/hə9ʘ/) now.", "markup": "tags"},
        ["'9' (U+0039)", "'ʘ' (U+0298)", "at character 4"],
    ),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", BAD_BODIES)
def test_bad_speech_input_is_422_saying_what_and_where_and_stores_nothing(api, endpoint, case):
    body, says = BAD_BODIES[case]
    before = api.stored()
    answer = api.http.post(endpoint, json=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    for words in says:
        assert words in detail, (words, detail)
    assert api.stored() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unknown_markup_mode_is_422_on_the_markup_field(api, endpoint):
    before = api.stored()
    answer = api.http.post(endpoint, json={"text": "Hello there.", "markup": "xml"})
    assert answer.status_code == 422, answer.text
    [issue] = answer.json()["detail"]
    assert issue["loc"][-1] == "markup" and "'tags'" in issue["msg"]
    assert api.stored() == before


# --- properties: no text makes the preview fail, and ordinary words are always said ------

# Tag pieces, valid and not, so that tags mode meets real tags among the noise
_TAG_PIECES = st.sampled_from(
    [
        "[pause:1s]",
        "[pause:250ms]",
        "[pause:20s]",
        "[pause:]",
        "[voice:jm_kumo]",
        "[voice:jf_alpha:0.5,jm_kumo:0.5]",
        "[voice]",
        "[voice:nobody]",
        "[Nguyen](/wˈɪn/)",
        "[word](/9/)",
        "[",
        "]",
        "(/",
        " ",
        ". ",
        "\n\n",
    ]
)
_ASCII_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1)
_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(_TAG_PIECES, _ASCII_WORD, st.text(max_size=4)), max_size=20).map(" ".join),
)


def _kept_words(text: str) -> Counter:
    """The words the spoken form must keep: whitespace-separated tokens of ASCII letters alone
    (a letter run glued to a digit or symbol may be read together with it, as "5km" or
    "C#"), less what the normalizer may rewrite: abbreviations, units, possible Roman numerals
    and initialisms (tests/fast/test_normalize.py's ``_survivable``)."""
    return Counter(
        token
        for token in text.split()
        if token.isascii() and token.isalpha() and _survivable(token)
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_TEXT, markup=st.sampled_from(["none", "tags"]))
@example(text="A" * 21, markup="none")  # found by this test: cut inside the word, see below
def test_any_text_previews_without_a_server_error_and_keeps_its_words(api, text, markup):
    answer = api.http.post("/v1/text/preview", json={"text": text, "markup": markup})
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.text
    if answer.status_code != 200:
        return
    spoken = Counter(re.findall(r"[A-Za-z]+", answer.json()["spoken"]))
    for word, count in _kept_words(text).items():
        assert spoken[word] >= count, (word, text, answer.json()["spoken"])


# Bug (found by the property above): the first chunk's 40-token budget cut a longer first word
# in two ("Pneumonoultramicroscopicsilicovolcanoco" + "niosis"), each half read as a word
@pytest.mark.parametrize(
    "text, first",
    [
        (
            "Pneumonoultramicroscopicsilicovolcanoconiosis is long.",
            "Pneumonoultramicroscopicsilicovolcanoconiosis",
        ),
        ("A" * 21 + " went by.", "A" * 21),
    ],
)
def test_the_first_chunk_never_cuts_inside_its_first_word(api, text, first):
    answer = api.http.post("/v1/text/preview", json={"text": text})
    assert answer.status_code == 200, answer.text
    chunks = answer.json()["chunks"]
    assert chunks[0]["text"].startswith(first)
    assert "".join(c["text"] for c in chunks).replace(" ", "") == text.replace(" ", "")
