"""Voice specs: one voice (``af_heart``) or a blend of several (``af_heart:0.7,am_adam:0.3``).

A blend mixes the voices' style vectors by weight. Weights are positive numbers, normalized to
sum to 1 and kept to ``WEIGHT_DECIMALS`` places in the canonical spec that a job stores, so the
same blend always reads the same way and parsing a canonical spec gives it back unchanged.
Pure: the caller says which voices exist.
"""

import math
import re
from collections.abc import Collection
from dataclasses import dataclass

MAX_BLEND_VOICES = 5
MAX_SPEC_CHARS = 200  # jobs.voice
WEIGHT_DECIMALS = 3
_UNITS = 10**WEIGHT_DECIMALS  # a canonical weight is a whole number of these parts of 1
_WEIGHT = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
EXAMPLE = "af_heart:0.7,am_adam:0.3"


@dataclass(frozen=True)
class VoiceBlend:
    """Voices and their weights, which sum to 1; one voice has weight 1."""

    parts: tuple[tuple[str, float], ...]

    @property
    def is_single(self) -> bool:
        return len(self.parts) == 1

    @property
    def spec(self) -> str:
        """The canonical form: the plain name for one voice, else ``name:weight,...``."""
        if self.is_single:
            return self.parts[0][0]
        return ",".join(f"{name}:{_format_weight(weight)}" for name, weight in self.parts)


def _format_weight(weight: float) -> str:
    return f"{weight:.{WEIGHT_DECIMALS}f}".rstrip("0").rstrip(".")


def is_blend(spec: str) -> bool:
    return "," in spec or ":" in spec


def canonical_names(spec: str) -> list[str]:
    """The voice names of a canonical spec (as ``VoiceBlend.spec`` writes it, e.g. one a job
    stored), in order, without checking them against a voices file."""
    return [part.partition(":")[0] for part in spec.split(",")]


def _available_list(available: Collection[str]) -> str:
    return ", ".join(sorted(available))


def _parse_weight(name: str, text: str) -> float:
    text = text.strip()
    if not _WEIGHT.fullmatch(text):
        raise ValueError(
            f"weight {text!r} of voice {name!r} is not a positive number; weights must be "
            f"positive numbers, as in {EXAMPLE}"
        )
    weight = float(text)
    if not math.isfinite(weight) or weight <= 0:
        raise ValueError(
            f"weight {text!r} of voice {name!r} is not a positive number; weights must be "
            f"positive numbers, as in {EXAMPLE}"
        )
    return weight


def _apportion(weights: list[float]) -> list[int]:
    """Weights as whole parts of ``_UNITS`` that sum to exactly ``_UNITS`` (largest remainder),
    so a canonical spec's weights sum to 1 and parse back to the same parts."""
    total = sum(weights)
    quotas = [w / total * _UNITS for w in weights]
    units = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda i: units[i] - quotas[i])
    for i in by_remainder[: _UNITS - sum(units)]:
        units[i] += 1
    return units


def parse_voice(spec: str, available: Collection[str]) -> VoiceBlend:
    """The voice or blend ``spec`` names; ValueError saying how to fix it when it is not valid.

    Whitespace around names and weights is ignored; a name without a weight in a blend counts
    as weight 1; at most ``MAX_BLEND_VOICES`` voices, each once, each in ``available``.
    """
    text = spec.strip()
    if not text:
        raise ValueError(
            f"the voice is empty; use a voice such as one of {_available_list(available)}"
        )
    if not is_blend(text):
        if text not in available:
            raise ValueError(
                f"unknown voice {text!r}; available voices: {_available_list(available)}"
            )
        return VoiceBlend(((text, 1.0),))
    entries = text.split(",")
    if len(entries) > MAX_BLEND_VOICES:
        raise ValueError(
            f"a blend mixes at most {MAX_BLEND_VOICES} voices, this one has {len(entries)}"
        )
    names: list[str] = []
    weights: list[float] = []
    for entry in entries:
        name, colon, weight_text = (part.strip() for part in entry.partition(":"))
        if not name:
            raise ValueError(
                f"the blend {text!r} has an entry without a voice name; write it as {EXAMPLE}"
            )
        if ":" in weight_text:
            raise ValueError(
                f"{entry.strip()!r} has more than one ':'; write each voice as name:weight, "
                f"as in {EXAMPLE}"
            )
        if name not in available:
            raise ValueError(
                f"unknown voice {name!r} in the blend; available voices: "
                f"{_available_list(available)}"
            )
        if name in names:
            raise ValueError(
                f"voice {name!r} appears twice in the blend; give each voice once, with its "
                "whole weight"
            )
        names.append(name)
        weights.append(_parse_weight(name, weight_text) if colon else 1.0)
    units = _apportion(weights)
    for name, share in zip(names, units, strict=True):
        if share == 0:
            raise ValueError(
                f"voice {name!r} has too small a weight to be heard; each voice needs at least "
                f"{_format_weight(1 / _UNITS)} of the blend's total weight"
            )
    blend = VoiceBlend(
        tuple((name, share / _UNITS) for name, share in zip(names, units, strict=True))
    )
    if len(blend.spec) > MAX_SPEC_CHARS:
        raise ValueError(
            f"the blend is {len(blend.spec)} characters long once normalized, more than the "
            f"{MAX_SPEC_CHARS} a job keeps; blend fewer voices"
        )
    return blend


def canonical_voice(spec: str, available: Collection[str]) -> str:
    """The normalized spec a job stores; ValueError with the fix when ``spec`` is invalid."""
    return parse_voice(spec, available).spec
