"""Unit tests for core.voices.specs: voice and blend specs, their canonical form and every error."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.voices.specs import (
    MAX_BLEND_VOICES,
    MAX_SPEC_CHARS,
    VoiceBlend,
    canonical_voice,
    is_blend,
    parse_voice,
)

VOICES = ("af_heart", "am_adam", "bf_emma", "jf_alpha", "jm_kumo", "zf_xiaobei", "ef_dora")


def weights(blend: VoiceBlend) -> dict[str, float]:
    return dict(blend.parts)


# --- valid specs --------------------------------------------------------------------------------


def test_a_single_voice_is_its_plain_name():
    blend = parse_voice("af_heart", VOICES)
    assert blend.is_single
    assert blend.parts == (("af_heart", 1.0),)
    assert blend.spec == "af_heart"


def test_whitespace_around_a_single_voice_is_ignored():
    assert canonical_voice("  af_heart \t", VOICES) == "af_heart"


def test_a_blend_keeps_its_order_and_weights_that_already_sum_to_one():
    assert canonical_voice("af_heart:0.7,am_adam:0.3", VOICES) == "af_heart:0.7,am_adam:0.3"
    assert canonical_voice("am_adam:0.3,af_heart:0.7", VOICES) == "am_adam:0.3,af_heart:0.7"


def test_weights_are_normalized_to_sum_to_one():
    assert canonical_voice("af_heart:7,am_adam:3", VOICES) == "af_heart:0.7,am_adam:0.3"
    assert canonical_voice("af_heart:2,am_adam:2", VOICES) == "af_heart:0.5,am_adam:0.5"
    assert canonical_voice("af_heart:0.1,am_adam:0.1", VOICES) == "af_heart:0.5,am_adam:0.5"


def test_a_bare_name_in_a_blend_counts_as_weight_one():
    assert canonical_voice("af_heart,am_adam:3", VOICES) == "af_heart:0.25,am_adam:0.75"
    assert canonical_voice("af_heart,am_adam", VOICES) == "af_heart:0.5,am_adam:0.5"


def test_whitespace_inside_a_blend_is_tolerated():
    spec = " af_heart : 0.7 ,\tam_adam:0.3 "
    assert canonical_voice(spec, VOICES) == "af_heart:0.7,am_adam:0.3"


def test_weights_are_rounded_and_still_sum_to_exactly_one():
    blend = parse_voice("af_heart:1,am_adam:1,jf_alpha:1", VOICES)
    assert blend.spec == "af_heart:0.334,am_adam:0.333,jf_alpha:0.333"
    assert math.isclose(sum(weights(blend).values()), 1.0)


def test_weight_forms_accepted():
    assert canonical_voice("af_heart:.25,am_adam:0.75", VOICES) == "af_heart:0.25,am_adam:0.75"
    assert canonical_voice("af_heart:1.,am_adam:3", VOICES) == "af_heart:0.25,am_adam:0.75"


def test_a_one_voice_blend_is_its_plain_name():
    assert canonical_voice("af_heart:0.4", VOICES) == "af_heart"


def test_voices_of_different_languages_may_be_mixed():
    assert canonical_voice("af_heart:0.5,jm_kumo:0.5", VOICES) == "af_heart:0.5,jm_kumo:0.5"


def test_the_most_voices_a_blend_may_mix():
    names = VOICES[:MAX_BLEND_VOICES]
    blend = parse_voice(",".join(names), VOICES)
    assert [name for name, _ in blend.parts] == list(names)


def test_is_blend():
    assert not is_blend("af_heart")
    assert is_blend("af_heart:1")
    assert is_blend("af_heart,am_adam")


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "the voice is empty"),
        ("   ", "the voice is empty"),
        ("af_nobody", "unknown voice 'af_nobody'; available voices: af_heart, am_adam"),
        ("AF_HEART", "unknown voice 'AF_HEART'"),
        ("af_heart:0.5,xx:0.5", "unknown voice 'xx' in the blend; available voices: "),
        ("af_heart:0,am_adam:1", "weights must be positive numbers, as in af_heart:0.7"),
        ("af_heart:0.0,am_adam:1", "weight '0.0' of voice 'af_heart' is not a positive number"),
        ("af_heart:-0.3,am_adam:1", "weight '-0.3' of voice 'af_heart' is not a positive"),
        ("af_heart:loud,am_adam:1", "weight 'loud' of voice 'af_heart'"),
        ("af_heart:,am_adam:1", "weight '' of voice 'af_heart'"),
        ("af_heart:nan,am_adam:1", "weights must be positive numbers"),
        ("af_heart:inf,am_adam:1", "weights must be positive numbers"),
        ("af_heart:1e3,am_adam:1", "weights must be positive numbers"),
        ("af_heart:1_0,am_adam:1", "weights must be positive numbers"),
        ("af_heart:" + "9" * 400 + ",am_adam:1", "weights must be positive numbers"),
        ("af_heart:0.5,af_heart:0.5", "voice 'af_heart' appears twice in the blend"),
        ("af_heart, af_heart ", "appears twice"),
        (",".join(VOICES[:6]), f"at most {MAX_BLEND_VOICES} voices, this one has 6"),
        ("af_heart:0.5,", "an entry without a voice name"),
        (",af_heart", "an entry without a voice name"),
        ("af_heart,,am_adam", "an entry without a voice name"),
        (":0.5,af_heart", "an entry without a voice name"),
        ("af_heart:0.5:1,am_adam", "more than one ':'"),
        ("af_heart:100000,am_adam:1", "voice 'am_adam' has too small a weight"),
    ],
)
def test_invalid_specs_say_how_to_fix_them(spec, message):
    with pytest.raises(ValueError) as raised:
        parse_voice(spec, VOICES)
    assert message in str(raised.value)


def test_the_errors_list_the_available_voices():
    with pytest.raises(ValueError, match="af_heart, am_adam, bf_emma, ef_dora, jf_alpha"):
        parse_voice("af_heart,nobody", VOICES)


def test_a_blend_too_long_for_the_job_row_is_refused():
    long_names = [f"v{i}_" + "x" * 60 for i in range(4)]
    with pytest.raises(ValueError, match=f"more than the {MAX_SPEC_CHARS}"):
        parse_voice(",".join(long_names), long_names)


# --- properties ---------------------------------------------------------------------------------

positive_weights = st.floats(min_value=0.01, max_value=100, allow_nan=False, allow_infinity=False)


@st.composite
def blends(draw) -> tuple[list[str], list[str | None]]:
    names = draw(
        st.lists(st.sampled_from(VOICES), min_size=1, max_size=MAX_BLEND_VOICES, unique=True)
    )
    # None: a bare name, which counts as weight 1
    written = draw(
        st.lists(
            st.one_of(st.none(), positive_weights.map(repr), st.integers(1, 1000).map(str)),
            min_size=len(names),
            max_size=len(names),
        )
    )
    return names, written


def spec_of(names: list[str], written: list[str | None], padding: str = "") -> str:
    return ",".join(
        f"{padding}{name}{padding}" if weight is None else f"{name}{padding}:{padding}{weight}"
        for name, weight in zip(names, written, strict=True)
    )


@given(blends(), st.sampled_from(["", " ", "\t "]))
def test_any_valid_blend_round_trips_to_the_same_canonical_spec(blend, padding):
    names, written = blend
    spec = spec_of(names, written, padding)
    try:
        parsed = parse_voice(spec, VOICES)
    except ValueError as error:
        # The only refusal a blend of known voices and positive weights may get
        assert "too small a weight" in str(error)
        return
    canonical = parsed.spec
    # The canonical spec parses back to itself, with the same weights
    again = parse_voice(canonical, VOICES)
    assert again.spec == canonical
    assert again.parts == parsed.parts
    # Weights sum to 1, every one positive, the voices in the order given
    assert math.isclose(sum(w for _, w in parsed.parts), 1.0, abs_tol=1e-9)
    assert all(w > 0 for _, w in parsed.parts)
    assert [n for n, _ in parsed.parts] == names
    if len(names) == 1:
        assert canonical == names[0]


@given(blends())
def test_canonical_weights_are_close_to_the_given_proportions(blend):
    names, written = blend
    given_weights = [1.0 if w is None else float(w) for w in written]
    try:
        parsed = parse_voice(spec_of(names, written), VOICES)
    except ValueError:
        return
    total = sum(given_weights)
    for (_, weight), raw in zip(parsed.parts, given_weights, strict=True):
        assert abs(weight - raw / total) <= 0.001 + 1e-9


@given(st.text(max_size=40))
def test_any_text_is_either_a_valid_spec_or_a_value_error(spec):
    try:
        canonical = canonical_voice(spec, VOICES)
    except ValueError:
        return
    assert canonical_voice(canonical, VOICES) == canonical
