"""Languages at the API: `lang` takes every language the installed front ends speak and refuses
any other (422 naming them, nothing stored); GET /v1/languages and GET /v1/voices say what each
voice is; a voice of another language is warned about; a preview of Japanese or Spanish text
shows that language's phonemes; an EPUB's dc:language sets `lang`. Through the in-process app
(TestClient) on a SQLite file with a broker stand-in: no Redis, worker or model is needed."""

import io
import zipfile

import pytest

from core.speech.languages import supported_codes
from tests.epub_factory import build_epub
from tests.support.fast import FastApi, api_for, detail_text, fast_settings, without_shell_settings
from tests.support.voices import write_voices

# Voice names of the official voices file, and one that is not a Kokoro name; their vectors are
# the shipped Japanese ones (the names are all the API reads)
VOICES = ("af_heart", "am_adam", "bf_emma", "ef_dora", "ff_siwis", "jf_alpha", "jm_kumo",
          "zf_xiaobei", "narrator")  # fmt: skip
TEXTS = {
    "en-us": "The cat sat on the mat.",
    "en-gb": "The colour of the sky.",
    "es": "El perro come en la cocina.",
    "fr-fr": "Le chat dort sur le canapé.",
    "hi": "मैं घर जा रहा हूँ।",
    "it": "Il gatto dorme sul divano.",
    "ja": "猫が好きです。今日は良い天気ですね。",
    "pt-br": "O gato dorme no sofá.",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> FastApi:
    with without_shell_settings():
        data_dir = tmp_path_factory.mktemp("languages-api")
        voices = data_dir / "voices.npz"
        write_voices(voices, VOICES)
        yield api_for(fast_settings(data_dir, voices_path=voices))


@pytest.mark.parametrize("code", supported_codes())
def test_each_offered_language_is_accepted(api, code):
    response = api.http.post("/v1/jobs", json={"text": TEXTS[code], "lang": code})
    assert response.status_code == 202, response.text
    assert response.json()["lang"] == code


@pytest.mark.parametrize("lang", ["xx", "cmn", "en", "EN-US", "", 5])
@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/text/preview", "/v1/batches"])
def test_another_lang_is_422_naming_the_accepted_ones(api, unchanged, path, lang):
    body = {"text": "Hello there.", "lang": lang}
    response = api.http.post(path, json={"jobs": [body]} if path == "/v1/batches" else body)
    assert response.status_code == 422, response.text
    detail = detail_text(response)
    assert '"lang"' in detail
    assert all(f"'{code}'" in detail for code in supported_codes()), detail


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/batches"])
def test_a_form_with_another_lang_is_422(api, unchanged, path):
    upload = ("story.txt", b"Hello there.", "text/plain")
    response = api.http.post(path, files={"file": upload}, data={"lang": "klingon"})
    assert response.status_code == 422
    assert "'ja'" in detail_text(response) or "'pt-br'" in detail_text(response)


def test_languages_lists_each_with_its_installed_voices(api):
    response = api.http.get("/v1/languages")
    assert response.status_code == 200
    languages = {entry["code"]: entry for entry in response.json()}
    assert list(languages) == list(supported_codes())
    assert languages["en-us"] == {
        "code": "en-us", "name": "American English", "voices": ["af_heart", "am_adam"],
    }  # fmt: skip
    assert languages["en-gb"]["voices"] == ["bf_emma"]
    assert languages["es"]["voices"] == ["ef_dora"]
    assert languages["it"]["voices"] == []
    if "ja" in languages:
        assert languages["ja"] == {
            "code": "ja", "name": "Japanese", "voices": ["jf_alpha", "jm_kumo"],
        }  # fmt: skip
    listed = {voice for entry in languages.values() for voice in entry["voices"]}
    assert "zf_xiaobei" not in listed and "narrator" not in listed


def test_voices_say_language_gender_grade_and_default(api):
    voices = {v["name"]: v for v in api.http.get("/v1/voices").json()}
    assert list(voices) == list(VOICES)
    assert voices["af_heart"] == {
        "name": "af_heart", "language": "en-us", "language_name": "American English",
        "gender": "female", "grade": "A", "default": True,
    }  # fmt: skip
    assert voices["jm_kumo"] | {"default": None} == {
        "name": "jm_kumo", "language": "ja", "language_name": "Japanese", "gender": "male",
        "grade": "C-", "default": None,
    }  # fmt: skip
    assert voices["zf_xiaobei"]["language"] == "cmn"  # a voice, though no front end for it
    assert voices["narrator"] | {"name": None} == {
        "name": None, "language": None, "language_name": None, "gender": None, "grade": None,
        "default": False,
    }  # fmt: skip
    assert sum(v["default"] for v in voices.values()) == 1


def test_a_voice_of_another_language_is_a_warning_not_a_refusal(api):
    foreign = api.http.post("/v1/jobs", json={"text": "Good morning.", "voice": "jf_alpha"})
    assert foreign.status_code == 202
    (warning,) = foreign.json()["warnings"]
    assert warning.startswith("voice jf_alpha is Japanese; the text is read as American English")
    again = api.http.get(foreign.headers["location"]).json()
    assert again["warnings"] == [warning]
    own = api.http.post("/v1/jobs", json={"text": "Good morning.", "voice": "af_heart"})
    assert own.json()["warnings"] == []
    blend = {"text": "Buenos días.", "lang": "es", "voice": "ef_dora:0.5,af_heart:0.5"}
    (warning,) = api.http.post("/v1/jobs", json=blend).json()["warnings"]
    assert warning.startswith("voice af_heart is American English; the text is read as Spanish")


def test_a_preview_warns_of_markup_voices_too(api):
    body = {"text": "Hello. [voice:ff_siwis] Bonjour.", "markup": "tags", "voice": "af_heart"}
    preview = api.http.post("/v1/text/preview", json=body).json()
    assert [w.split(";")[0] for w in preview["warnings"]] == ["voice ff_siwis is French"]


@pytest.mark.skipif("ja" not in supported_codes(), reason="no Japanese front end")
def test_a_japanese_preview_gives_japanese_phonemes(api):
    body = {"text": TEXTS["ja"], "lang": "ja", "voice": "jf_alpha"}
    preview = api.http.post("/v1/text/preview", json=body).json()
    assert preview["warnings"] == []
    assert preview["spoken"] == TEXTS["ja"]  # Japanese is said as written
    phonemes = " ".join(chunk["phonemes"] for chunk in preview["chunks"])
    assert "neko ɡa sɨkʲi desɨ." in phonemes and "kʲoː βa" in phonemes, phonemes
    assert all(0 < chunk["tokens"] <= 510 for chunk in preview["chunks"])


def test_a_spanish_preview_is_read_by_spanish_espeak_without_english_rules(api):
    body = {"text": "Tengo 25 años y vivo en Madrid.", "lang": "es", "voice": "ef_dora"}
    preview = api.http.post("/v1/text/preview", json=body).json()
    assert preview["spoken"] == body["text"]  # no English "twenty-five"
    phonemes = " ".join(chunk["phonemes"] for chunk in preview["chunks"])
    assert "eɪntiθˈinko ˈaɲos" in phonemes and "maðɾˈid" in phonemes, phonemes
    assert "twˈɛnti" not in phonemes


def test_pronunciations_need_english(api, unchanged):
    body = {"text": "El perro.", "lang": "es", "pronunciations": {"perro": "pˈero"}}
    for path in ("/v1/jobs", "/v1/text/preview"):
        response = api.http.post(path, json=body)
        assert response.status_code == 422
        assert "pronunciations are for English text (lang en-us or en-gb)" in detail_text(response)


def epub_in(language: str) -> bytes:
    """The test EPUB with its dc:language set to ``language``."""
    source = zipfile.ZipFile(io.BytesIO(build_epub()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(".opf"):
                data = data.replace(
                    b"<dc:language>en</dc:language>",
                    f"<dc:language>{language}</dc:language>".encode(),
                )
                assert language.encode() in data
            target.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("tag", "form", "lang"),
    [("en-GB", {}, "en-gb"), ("es-ES", {}, "es"), ("fr", {}, "fr-fr"), ("de", {}, "en-us"),
     ("es", {"lang": "en-gb"}, "en-gb")],
)  # fmt: skip
def test_an_epub_language_sets_lang_unless_the_form_does(api, tag, form, lang):
    upload = ("book.epub", epub_in(tag), "application/epub+zip")
    response = api.http.post("/v1/jobs", files={"file": upload}, data=form)
    assert response.status_code == 202, response.text
    assert response.json()["lang"] == lang
