"""The languages table (core/speech/languages.py), the voice catalog (core/voices/catalog.py)
and the front ends they pick (core/speech/phonemizer.py, core/speech/spoken.py): every language
offered phonemizes offline with the front end installed here."""

import pytest

from core.speech.languages import (
    KOKORO_LANGUAGES,
    FrontEnd,
    language,
    language_for_tag,
    supported_codes,
    voice_language,
)
from core.speech.lexicon import Lexicon
from core.speech.phonemizer import phonemize, token_count
from core.speech.spoken import speak
from core.voices.catalog import language_warnings, voice_info

# A sentence of each language, and phonemes its own front end gives and English's would not
SENTENCES = {
    "en-us": ("The cat sat on the mat.", "kˈæt"),
    "en-gb": ("The cat sat on the mat.", "kˈat"),
    "es": ("El perro come en la cocina.", "pˈero"),
    "fr-fr": ("Le chat dort sur le canapé.", "dˈɔʁ"),
    "hi": ("मैं घर जा रहा हूँ।", "ɡʰˈʌɾ"),
    "it": ("Il gatto dorme sul divano.", "ɡˈatːo"),
    "pt-br": ("O gato dorme no sofá.", "ɡˈatʊ"),
    "ja": ("猫が好きです。", "neko"),
}


def test_every_language_with_an_installed_front_end_is_offered() -> None:
    assert set(supported_codes()) <= set(SENTENCES)
    assert {"en-us", "en-gb", "es", "fr-fr", "hi", "it", "pt-br"} <= set(supported_codes())
    # Mandarin has voices but no fitting front end here
    assert "cmn" not in supported_codes()
    assert language("cmn").front_end is None


def test_the_table_has_one_language_per_voice_prefix() -> None:
    prefixes = [lang.voice_prefix for lang in KOKORO_LANGUAGES]
    assert sorted(prefixes) == sorted(set(prefixes)) == sorted("abefhijpz")


@pytest.mark.parametrize("code", supported_codes())
def test_each_language_phonemizes_with_its_own_front_end(code: str) -> None:
    text, expected = SENTENCES[code]
    phonemes = phonemize(text, code)
    assert expected in phonemes, phonemes
    assert token_count(phonemes) >= len(text) // 3


def test_only_english_is_normalized_and_takes_the_lexicon() -> None:
    lexicon = Lexicon.parse({"perro": "wˈuf"})
    english = speak("It cost $5.", "en-us", lexicon=lexicon, phonemize=lambda t: t)
    assert english.spoken == "It cost five dollars."
    spanish = speak(
        "El perro costó 5 $.", "es", lexicon=lexicon, phonemize=lambda t: phonemize(t, "es")
    )
    assert spanish.spoken == "El perro costó 5 $."  # said as written, by espeak's Spanish
    assert "wˈuf" not in spanish.phonemes and "pˈero" in spanish.phonemes


@pytest.mark.parametrize(
    ("voice", "code", "name", "gender", "grade"),
    [
        ("af_heart", "en-us", "American English", "female", "A"),
        ("am_adam", "en-us", "American English", "male", "F+"),
        ("bf_emma", "en-gb", "British English", "female", "B-"),
        ("jm_kumo", "ja", "Japanese", "male", "C-"),
        ("jf_alpha", "ja", "Japanese", "female", "C+"),
        ("ff_siwis", "fr-fr", "French", "female", "B"),
        ("em_alex", "es", "Spanish", "male", None),
        ("pf_dora", "pt-br", "Brazilian Portuguese", "female", None),
        ("zf_xiaobei", "cmn", "Mandarin Chinese", "female", None),
    ],
)
def test_a_voice_name_says_its_language_and_gender(voice, code, name, gender, grade) -> None:
    info = voice_info(voice)
    assert (info.language.code, info.language.name) == (code, name)
    assert (info.gender, info.grade) == (gender, grade)


@pytest.mark.parametrize("voice", ["narrator", "x_y", "qf_nobody", "af"])
def test_a_name_that_is_not_kokoros_has_no_language(voice: str) -> None:
    info = voice_info(voice)
    assert info.language is None and info.gender is None and info.grade is None
    assert voice_language(voice) is None


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("en", "en-us"), ("en-US", "en-us"), ("EN_us", "en-us"), ("en-GB", "en-gb"),
        ("en-AU", "en-gb"), ("es-MX", "es"), ("fr", "fr-fr"), ("fr-CA", "fr-fr"), ("it", "it"),
        ("pt-BR", "pt-br"), ("pt", "pt-br"), ("hi-IN", "hi"), ("de", None), ("zh-CN", None),
        ("", None), ("x", None),
    ],
)  # fmt: skip
def test_language_tags_map_to_our_codes(tag: str, code: str | None) -> None:
    assert language_for_tag(tag) == code


def test_japanese_tags_map_when_its_front_end_is_installed() -> None:
    expected = "ja" if "ja" in supported_codes() else None
    assert language_for_tag("ja") == language_for_tag("ja-JP") == expected


def test_a_voice_of_another_language_is_warned_about_once() -> None:
    assert language_warnings(["af_heart"], "en-us") == []
    assert language_warnings(["narrator"], "en-us") == []  # nothing known of it
    warnings = language_warnings(["jf_alpha:0.6,af_heart:0.4", "jf_alpha"], "en-us")
    assert len(warnings) == 1
    assert warnings[0].startswith("voice jf_alpha is Japanese; the text is read as American")
    assert language_warnings(["af_heart"], "no-such") == []  # an old row: no 500


def test_the_japanese_front_end_is_the_japanese_g2p() -> None:
    assert language("ja").front_end is FrontEnd.JAPANESE
    assert not language("ja").spaced and not language("ja").english
    assert language("es").spaced and not language("es").english


@pytest.mark.skipif("ja" not in supported_codes(), reason="no Japanese front end")
def test_japanese_numbers_with_grouped_digits_are_one_number() -> None:
    assert phonemize("1,500円", "ja") == phonemize("1500円", "ja") == "seŋɡo çakɯ eɴ"
