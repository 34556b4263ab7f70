"""Pronunciations: entries, the lexicon file, whole-word matching, and phonemization in which a
lexicon word changes its own phonemes and no other word's (checked with the real espeak-ng)."""

import json
import re
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.speech.lexicon import (
    EMPTY_LEXICON,
    MAX_ENTRIES,
    MAX_PHRASE_WORDS,
    Lexicon,
    LexiconError,
    Pronunciation,
    check_phonemes,
    load_lexicon,
    vocabulary,
)
from core.speech.pronunciation import phonemize_with_lexicon, possessive_ending
from core.text.markup import Alias, PhonemeOverride, parse_markup
from tests.support.growth import MAX_GROWTH, growth

HERMIONE = "hɜːmˈaɪənˌiː"  # not espeak's own hɜːmˈaɪəni, so a change is visible
PUNCTUATION = ';:,.!?—…"()“”'  # what espeak's output keeps of the text's punctuation


@pytest.fixture(scope="module")
def tokenizer():
    """kokoro-onnx's espeak-ng phonemizer, as the worker uses it (about 0.5 s to construct)."""
    from kokoro_onnx.tokenizer import Tokenizer

    return Tokenizer()


@pytest.fixture(scope="module", params=["en-us", "en-gb"])
def phonemize(request, tokenizer):
    return lambda text: tokenizer.phonemize(text, request.param)


def words_of(lexicon: Lexicon, text: str) -> list[str]:
    return [text[m.start : m.end] for m in lexicon.matches(text)]


# --- vocabulary and phonemes ---------------------------------------------------------------


def test_vocabulary_is_kokoro_onnx_s_and_needs_no_model():
    from kokoro_onnx.config import DEFAULT_VOCAB

    assert vocabulary() == frozenset(DEFAULT_VOCAB)
    code = (
        "import sys; from core.speech.lexicon import vocabulary; vocabulary(); "
        "assert 'kokoro_onnx' not in sys.modules and 'onnxruntime' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_phonemes_names_unknown_characters():
    assert check_phonemes("  hɜːmˈaɪəni ") == "hɜːmˈaɪəni"
    with pytest.raises(ValueError, match=r"'7' \(U\+0037\), '@' \(U\+0040\)"):
        check_phonemes("k@t7")
    with pytest.raises(ValueError, match="empty"):
        check_phonemes("   ")


@pytest.mark.parametrize(
    ("phonemes", "ending"),
    [("hɜːmˈaɪəni", "z"), ("bˈɑːb", "z"), ("mˈɑːɹk", "s"), ("klˈɪf", "s"), ("lˈɪz", "ᵻz"),
     ("bˈɔs", "ᵻz"), ("ɹˈɪtʃ", "ᵻz"), ("dʒˈʌdʒ", "ᵻz"), ("sˈiː", "z")],
)  # fmt: skip
def test_possessive_ending(phonemes, ending):
    assert possessive_ending(phonemes) == ending


# --- entries -------------------------------------------------------------------------------


def test_entry_forms():
    lexicon = Lexicon.parse(
        {
            "Hermione": "hɜːmˈaɪəni",
            "Nguyen": {"say": "win"},
            "Reading": {"phonemes": "ɹˈɛdɪŋ", "case_sensitive": True},
            " New  York ": {"phonemes": "nuː jˈɔːɹk", "case_sensitive": False},
        }
    )
    assert len(lexicon.exact) + len(lexicon.folded) == 4
    assert lexicon.lookup("HERMIONE") == Pronunciation(phonemes="hɜːmˈaɪəni")
    assert lexicon.lookup("nguyen") == Pronunciation(say="win")
    assert lexicon.lookup("Reading") == Pronunciation(phonemes="ɹˈɛdɪŋ", case_sensitive=True)
    assert lexicon.lookup("reading") is None
    assert lexicon.lookup("new york") == Pronunciation(phonemes="nuː jˈɔːɹk")
    assert Lexicon.parse(None) == EMPTY_LEXICON == Lexicon.parse({})


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([], "object of word: pronunciation"),
        ({"": "x"}, "is not a word"),
        ({"-dash": "x"}, "is not a word"),
        ({"word": 5}, '{"say": "..."}'),
        ({"word": {"phonemes": "wˈɜːd", "say": "word"}}, "exactly one of"),
        ({"word": {}}, "exactly one of"),
        ({"word": {"ipa": "x"}}, "unknown keys ipa"),
        ({"word": {"say": "  "}}, "non-empty string"),
        ({"word": {"say": "w", "case_sensitive": "yes"}}, "true or false"),
        ({"word": "wˈɜː7d"}, "entry 'word': 'wˈɜː7d' has characters that are not Kokoro"),
        ({"w" * 101: "x"}, "at most 100 characters"),
        (
            {" ".join(["w"] * (MAX_PHRASE_WORDS + 1)): "x"},
            f"a phrase is at most {MAX_PHRASE_WORDS} words",
        ),
    ],
)
def test_bad_entries_are_named(entries, message):
    with pytest.raises(LexiconError, match="^pronunciations") as caught:
        Lexicon.parse(entries)
    assert message in str(caught.value)


# --- matching ------------------------------------------------------------------------------


def test_whole_words_only_ignoring_case():
    lexicon = Lexicon.parse({"Ron": "ɹˈɑːn", "New York": "nuː jˈɔːɹk"})
    text = "Ron, RON and ron; Ronald, Ron2, iron, Ron_x, NEW\nYORK, New Yorker."
    assert words_of(lexicon, text) == ["Ron", "RON", "ron", "Ron", "NEW\nYORK"]


def test_case_sensitive_entry_is_preferred_and_exact():
    lexicon = Lexicon.parse(
        {"Reading": {"phonemes": "ɹˈɛdɪŋ", "case_sensitive": True}, "reading": {"say": "reeding"}}
    )
    found = lexicon.matches("Reading is reading, READING.")
    assert [(m.start, m.pronunciation.phonemes or m.pronunciation.say) for m in found] == [
        (0, "ɹˈɛdɪŋ"),
        (11, "reeding"),
        (20, "reeding"),
    ]
    only_exact = Lexicon.parse({"Reading": {"phonemes": "ɹˈɛdɪŋ", "case_sensitive": True}})
    assert words_of(only_exact, "reading READING Reading") == ["Reading"]


def test_possessive_and_quotes():
    lexicon = Lexicon.parse({"Hermione": "hɜːmˈaɪəni"})
    text = "Hermione's, Hermione’s, HERMIONE'S, 'Hermione', “Hermione”, Hermione'd, d'Hermione"
    found = lexicon.matches(text)
    assert [text[m.start : m.end] for m in found] == [
        "Hermione's",
        "Hermione’s",
        "HERMIONE'S",
        "Hermione",
        "Hermione",
    ]
    assert [m.possessive for m in found] == [True, True, True, False, False]


def test_entry_limit():
    with pytest.raises(LexiconError, match="at most 2 entries, not 3"):
        Lexicon.parse({"a": "ɐ", "b": "b", "c": "k"}, max_entries=2)


def test_words_with_apostrophes_and_hyphens():
    lexicon = Lexicon.parse({"O'Brien": "oʊbɹˈaɪən", "Jean-Luc": "ʒˌɑːnlˈuːk", "Luc": "lˈuːk"})
    text = "O'Brien met Jean-Luc, Jean - Luc and O'Brien's friend Luc-like."
    assert words_of(lexicon, text) == ["O'Brien", "Jean-Luc", "Luc", "O'Brien's", "Luc"]


def test_a_large_lexicon_matches_quickly():
    entries = {f"word{n}": "wˈɜːd" for n in range(MAX_ENTRIES - 1)}
    entries["Hermione"] = "hɜːmˈaɪəni"
    lexicon = Lexicon.parse(entries)
    text = "Hermione read a book about word1 and other words. " * 2_000  # 100 kB
    started = time.perf_counter()
    assert len(lexicon.matches(text)) == 4_000
    assert time.perf_counter() - started < 2.0


class CountingDict(dict):
    """A lexicon's entries that count how often they are looked up."""

    lookups = 0

    def get(self, key, default=None):
        self.lookups += 1
        return super().get(key, default)


def counting(lexicon: Lexicon) -> Lexicon:
    return Lexicon(CountingDict(lexicon.exact), CountingDict(lexicon.folded))


def lookups_of(lexicon: Lexicon) -> int:
    return lexicon.exact.lookups + lexicon.folded.lookups


def test_a_phrase_entry_costs_only_the_words_it_could_start_at():
    # The longest phrase allowed among a thousand entries: before, every word of the text was
    # looked up as the start of a phrase of every length up to the longest
    entries = {f"zork{n}": "zˈɔːɹk" for n in range(999)}
    # Every other letter: the text (consecutive letters) never has the phrase
    entries[" ".join("abcdefghijklmnopqrstuvwxyz"[: 2 * MAX_PHRASE_WORDS : 2])] = {"say": "x"}
    lexicon = counting(Lexicon.parse(entries))
    text = " ".join("abcdefghijklmnopqrstuvwxyz"[n % 23] for n in range(23 * 100))
    assert lexicon.matches(text) == []
    words = len(text.split())
    # Only the words "a" may start the phrase: at most MAX_PHRASE_WORDS lookups each (of the
    # exact entries and of the casefolded ones), no lookup for the others
    assert lookups_of(lexicon) <= 2 * MAX_PHRASE_WORDS * words / 23


@pytest.mark.parametrize(
    "gap",
    [" ", " " * 200, "!" * 200, " - ", "\n\t\n"],
    ids=["space", "spaces", "bangs", "dash", "mixed"],
)
def test_matching_time_grows_linearly_with_the_text(gap):
    # Every word could start the longest phrase allowed, whatever the gaps between the words:
    # 4 times the text must take about 4 times as long, not 16
    lexicon = Lexicon.parse({" ".join(["a"] * (MAX_PHRASE_WORDS - 1) + ["b"]): "ɐ", "c": "ɐ"})

    assert growth(lexicon.matches, lambda words: gap.join(["a"] * words), 1_000) < MAX_GROWTH


def reference_matches(lexicon: Lexicon, text: str) -> list:
    """Matching as it was specified: at each word, every phrase length tried, longest first."""
    words = list(re.finditer(r"[^\W_]+(?:['’][^\W_]+)*", text))
    found, i = [], 0
    while i < len(words):
        for n in range(len(words) - i, 0, -1):
            start, end = words[i].start(), words[i + n - 1].end()
            phrase = text[start:end]
            entry = lexicon.lookup(phrase)
            possessive = False
            if entry is None and len(phrase) > 2 and phrase[-2] in "'’" and phrase[-1] in "sS":
                entry, possessive = lexicon.lookup(phrase[:-2]), True
            if entry is not None:
                found.append((start, end, entry, possessive))
                i += n
                break
        else:
            i += 1
    return found


WORDS = st.sampled_from(["a", "A", "new", "New", "york", "YORK", "city", "o'brien", "İstanbul",
                         "i̇stanbul", "ᾳ", "Aͅb", "ß", "ss", "Ron", "Ron's", "x1"])  # fmt: skip
GAPS = st.sampled_from([" ", "  ", "\n", "-", " - ", ", ", "'", "’s ", "ͅ", "_"])


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(st.lists(WORDS, min_size=1, max_size=3), min_size=1, max_size=6),
    sensitive=st.lists(st.booleans(), min_size=6, max_size=6),
    pieces=st.lists(st.tuples(WORDS, GAPS), max_size=30),
)
def test_matching_finds_what_trying_every_phrase_length_finds(entries, sensitive, pieces):
    lexicon = Lexicon.parse(
        {
            " ".join(words): {"phonemes": "ɐ", "case_sensitive": flag}
            for words, flag in zip(entries, sensitive, strict=False)
        }
    )
    text = "".join(word + gap for word, gap in pieces)
    found = [(m.start, m.end, m.pronunciation, m.possessive) for m in lexicon.matches(text)]
    assert found == reference_matches(lexicon, text)


def test_longest_phrase_wins():
    lexicon = Lexicon.parse({"New York": "a", "New York City": "b", "York": "c"})
    found = lexicon.matches("New York City, New York, York")
    assert [m.pronunciation.phonemes for m in found] == ["b", "a", "c"]


def test_job_entries_win_over_the_server_s():
    server = Lexicon.parse(
        {
            "Hermione": "hɜːmˈaɪəni",
            "Reading": {"phonemes": "ɹˈɛdɪŋ", "case_sensitive": True},
            "Ron": "ɹˈɑːn",
            "Tom": {"say": "tom", "case_sensitive": True},
        }
    )
    job = Lexicon.parse(
        {
            "hermione": {"say": "her my oh nee"},
            "reading": "ɹˈiːdɪŋ",
            "TOM": {"say": "tee oh em", "case_sensitive": True},
        }
    )
    lexicon = server.overlay(job)
    assert lexicon.lookup("Hermione") == Pronunciation(say="her my oh nee")
    assert lexicon.lookup("Reading") == Pronunciation(phonemes="ɹˈiːdɪŋ")  # all case forms
    assert lexicon.lookup("Ron") == Pronunciation(phonemes="ɹˈɑːn")
    assert lexicon.lookup("TOM") == Pronunciation(say="tee oh em", case_sensitive=True)
    assert lexicon.lookup("Tom") == Pronunciation(say="tom", case_sensitive=True)
    assert server.overlay(EMPTY_LEXICON) == server


# --- lexicon files -------------------------------------------------------------------------


def test_toml_and_json_files(tmp_path):
    toml = tmp_path / "lexicon.toml"
    toml.write_text(
        '"Hermione" = "hɜːmˈaɪəni"\nNguyen = { say = "win" }\n\n'
        '[Reading]\nphonemes = "ɹˈɛdɪŋ"\ncase_sensitive = true\n',
        encoding="utf-8",
    )
    js = tmp_path / "lexicon.JSON"
    js.write_text(
        json.dumps(
            {
                "Hermione": "hɜːmˈaɪəni",
                "Nguyen": {"say": "win"},
                "Reading": {"phonemes": "ɹˈɛdɪŋ", "case_sensitive": True},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert load_lexicon(toml) == load_lexicon(str(js))
    assert load_lexicon(toml).lookup("Reading") == Pronunciation("ɹˈɛdɪŋ", case_sensitive=True)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("l.toml", None, "cannot be read"),
        ("l.yaml", "a: b", "must end in .toml or .json"),
        ("l.toml", 'a = "x"\nb = = 1\n', "not valid TOML: Invalid value (at line 2, column 5)"),
        ("l.json", '{"a": "x",\n "b": }', "not valid JSON: Expecting value at line 2, column 7"),
        ("l.json", '["a"]', "give an object of word: pronunciation entries"),
        ("l.toml", '"Hermione" = "h3rm"', "entry 'Hermione': 'h3rm' has characters that are"),
        ("l.json", '{"Nguyen": {"sya": "win"}}', "entry 'Nguyen': unknown keys sya"),
    ],
)
def test_bad_files_say_what_to_fix(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError) as caught:
        load_lexicon(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_file_not_utf8(tmp_path):
    path = tmp_path / "l.json"
    path.write_bytes(b'{"caf\xe9": "x"}')
    with pytest.raises(LexiconError, match="not UTF-8"):
        load_lexicon(path)


# --- phonemization: pure ---------------------------------------------------------------------


def fake_phonemize(text: str) -> str:
    """A context-free stand-in: each word upper-cased, punctuation kept."""
    return " ".join(text.upper().split())


def test_no_match_is_phonemized_as_a_whole():
    calls = []

    def phonemize(text):
        calls.append(text)
        return "ALL"

    assert phonemize_with_lexicon("Plain text.", EMPTY_LEXICON, phonemize) == "ALL"
    assert calls == ["Plain text."]


def test_pure_substitution_and_overrides():
    lexicon = Lexicon.parse({"Hermione": "hɜː", "Nguyen": {"say": "win"}})
    text = "Hermione met Nguyen's cat and Hermione."
    assert phonemize_with_lexicon(text, lexicon, fake_phonemize) == "hɜː MET WIN'S CAT AND hɜː."
    # explicit overrides (spans of the text) win over the lexicon
    overrides = [PhonemeOverride(0, 8, "ɛɹ"), Alias(13, 19, "nuyen")]
    assert (
        phonemize_with_lexicon(text, lexicon, fake_phonemize, overrides)
        == "ɛɹ MET NUYEN'S CAT AND hɜː."
    )


@pytest.mark.parametrize("unit", ["1 x ", "x 1 x ", "# x\n", "the x and the "])
def test_phonemizing_many_matches_among_repeated_words_grows_linearly(unit):
    # Every other word a match, among words that repeat: aligning the text phonemized with and
    # without placeholders must not grow with the square of its words
    lexicon = Lexicon.parse({"x": {"say": "ex"}})

    def phonemized(text: str) -> str:
        return phonemize_with_lexicon(text, lexicon, fake_phonemize)

    assert growth(phonemized, lambda chars: unit * (chars // len(unit)), 400) < MAX_GROWTH


def test_many_overrides_among_many_matches_cost_linear_time():
    # A markup override on every other word, a lexicon match on the others: each match is
    # checked against the overrides near it, not against all of them
    lexicon = Lexicon.parse({"y": "wˈaɪ"})

    def marked(pairs: int) -> tuple[str, list[PhonemeOverride]]:
        overrides = [PhonemeOverride(4 * n, 4 * n + 1, "ˈɛks") for n in range(pairs)]
        return "x y " * pairs, overrides

    def phonemized(job: tuple[str, list[PhonemeOverride]]) -> str:
        return phonemize_with_lexicon(job[0], lexicon, lambda plain: plain, job[1])

    assert phonemized(marked(2)).split()[:2] == ["ˈɛks", "wˈaɪ"]
    assert growth(phonemized, marked, 1_000) < MAX_GROWTH


def test_many_matches_are_each_said_as_given():
    lexicon = Lexicon.parse({"x": {"say": "ex"}})
    text = "1 x, 2 x; the x and the x. " * 50
    assert phonemize_with_lexicon(text, lexicon, fake_phonemize) == fake_phonemize(
        text.replace("x", "ex")
    )


# --- phonemization: real espeak-ng -----------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "I met Hermione yesterday.",
        "Give it to Hermione and the owl.",
        "Where are you going to, Hermione?",
        "Hermione read the book; then she read it again.",
        "“Hermione!” he shouted, and the apple fell.",
        "The (Hermione) question is 3.5 times harder than the other one.",
        "He said Hermione's cat is an orange one, in 2021.",
        "Mr. Smith and Hermione walked to the old mill at 5 p.m.",
        "A Hermione-like answer, isn't it?",
    ],
)
def test_a_lexicon_word_changes_its_phonemes_and_no_other_word_s(phonemize, sentence):
    plain = phonemize(sentence)
    alone = phonemize("Hermione")
    assert plain.count(alone) == 1  # so that the expectation below is unambiguous
    lexicon = Lexicon.parse({"Hermione": HERMIONE})
    result = phonemize_with_lexicon(sentence, lexicon, phonemize)
    assert result == plain.replace(alone, HERMIONE)


@pytest.mark.parametrize(
    ("sentence", "word"),
    [
        # "another exception": espeak links ɐnˈʌðɚɹ to the vowel; the placeholder has none
        ("During handling of the above exception, another exception occurred.", "exception"),
        ("The statement, the statement and the statement.", "statement"),
        ("Objects are Python's abstraction for data; objects have identity.", "objects"),
    ],
)
def test_repeated_words_keep_their_neighbours(phonemize, sentence, word):
    alone = phonemize(word)
    plain = phonemize(sentence)
    expected = " ".join(
        token[: len(token) - len(token.lstrip(PUNCTUATION))]
        + HERMIONE
        + token[len(token.rstrip(PUNCTUATION)) :]
        if token.strip(PUNCTUATION) == alone
        else token
        for token in plain.split()
    )
    assert expected.count(HERMIONE) >= 2
    lexicon = Lexicon.parse({word: HERMIONE})
    assert phonemize_with_lexicon(sentence, lexicon, phonemize) == expected


def test_several_words_in_one_sentence(phonemize):
    lexicon = Lexicon.parse({"Hermione": HERMIONE, "Granger": "ɡɹˈɑːndʒeɪ", "owl": "ˈuːl"})
    sentence = "Hermione Granger gave the owl to Hermione, not to the other owl."
    plain = phonemize(sentence)
    expected = plain
    for word, phonemes in [("Hermione", HERMIONE), ("Granger", "ɡɹˈɑːndʒeɪ"), ("owl", "ˈuːl")]:
        expected = expected.replace(phonemize(word), phonemes)
    assert phonemize_with_lexicon(sentence, lexicon, phonemize) == expected


def test_only_the_word_differs_word_by_word(phonemize):
    lexicon = Lexicon.parse({"Nguyen": {"say": "win"}, "Reading": "ɹˈɛdɪŋ"})
    for sentence in [
        "Doctor Nguyen lives near the station, in a quiet street.",
        "The train to Reading leaves at noon, doesn't it?",
    ]:
        plain = phonemize(sentence).split()
        result = phonemize_with_lexicon(sentence, lexicon, phonemize).split()
        assert len(result) == len(plain)
        changed = [i for i, (a, b) in enumerate(zip(plain, result, strict=True)) if a != b]
        assert len(changed) == 1, (plain, result)
        assert result[changed[0]].rstrip(",.?") in (phonemize("win"), "ɹˈɛdɪŋ")


def test_neighbours_espeak_joins_differently_after_the_placeholder(phonemize):
    # espeak says "Most of the" as mˈoʊst əv ðɪ but "<placeholder> of the" as ... ʌvðɪ: the
    # word is found by its own phonemes, so "of" is neither lost nor changed
    lexicon = Lexicon.parse({"Most": "mˈɔːst"})
    sentence = "Most of the attributes check the type of the value."
    plain = phonemize(sentence)
    assert phonemize_with_lexicon(sentence, lexicon, phonemize) == plain.replace(
        phonemize("Most"), "mˈɔːst"
    )


def test_a_function_word_entry_loses_no_neighbour(phonemize):
    # espeak joins "of the" into one word (ʌvðə); an entry for "of" cannot keep that joint,
    # but every other word is still said
    lexicon = Lexicon.parse({"of": "ɒv"})
    sentence = "The end of the story."
    plain = phonemize(sentence).split()
    result = phonemize_with_lexicon(sentence, lexicon, phonemize).split()
    assert "ɒv" in result
    assert [plain[0], plain[1], plain[-1]] == [result[0], result[1], result[-1]]
    assert len(result) == len(plain) + 1  # "the" on its own again


def test_respelled_possessive(phonemize):
    lexicon = Lexicon.parse({"Nguyen": {"say": "win"}})
    result = phonemize_with_lexicon("It is Nguyen's turn.", lexicon, phonemize)
    assert result == phonemize("It is win's turn.")


def test_markup_overrides_with_the_real_phonemizer(phonemize):
    [speech] = parse_markup(
        "I [read](/ɹˈɛd/) the note by Hermione.", "tags", check_voice=lambda voice: voice
    )
    lexicon = Lexicon.parse({"Hermione": HERMIONE})
    result = phonemize_with_lexicon(speech.written, lexicon, phonemize, speech.overrides)
    plain = phonemize(speech.written)
    assert result == plain.replace(phonemize("read"), "ɹˈɛd").replace(
        phonemize("Hermione"), HERMIONE
    )
    [speech] = parse_markup(
        '<sub alias="World Wide Web">WWW</sub> pages', "ssml", check_voice=lambda voice: voice
    )
    result = phonemize_with_lexicon(speech.written, EMPTY_LEXICON, phonemize, speech.overrides)
    assert result == phonemize("World Wide Web pages")


@pytest.mark.parametrize(
    "overrides",
    [
        [PhonemeOverride(5, 20, "x")],
        [PhonemeOverride(2, 2, "x")],
        [PhonemeOverride(0, 4, "x"), Alias(3, 6, "y")],
    ],
)
def test_overrides_must_be_spans_of_the_text(overrides):
    with pytest.raises(ValueError, match="outside the text of 9 characters or overlaps"):
        phonemize_with_lexicon("some text", EMPTY_LEXICON, fake_phonemize, overrides)


def test_a_span_inside_a_word_falls_back_to_pieces(phonemize):
    # "[Her](/hˈɜː/)mione": no placeholder word can stand for part of a word
    result = phonemize_with_lexicon(
        "Hermione smiled.", EMPTY_LEXICON, phonemize, [PhonemeOverride(0, 3, "hˈɜː")]
    )
    assert result == "hˈɜː" + phonemize("mione smiled.")
