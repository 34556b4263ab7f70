"""How loud a job's audio is made: the one place that decides each chapter's gain.

Gain is decided per chapter, from its chunks' levels as they were synthesized (recorded with
each chunk), so a chapter is assembled as soon as its own chunks are done, without waiting
for, or holding, the rest of the book. Kokoro speaks every chunk at much the same level, so
chapters of one book end up within a fraction of a decibel of each other.

- ``peak`` (the default): the chapter's loudest sample is brought to -1 dBFS, raised by at
  most +12 dB so that a near-silent chapter is not blown up into noise.
- ``acx``: what ACX (Audible) asks of every chapter file: RMS between -23 and -18 dBFS and
  peaks at or below -3 dBFS. The chapter's RMS (pauses included, as ACX measures a file) is
  brought to -20 dBFS, the middle of the range; the few peaks that would then pass the
  ceiling are held below it by a look-ahead limiter (``worker/audio.py``). The ceiling sits
  under -3 dBFS by a margin, because lossy encoders overshoot a peak by a fraction of a dB.
  Each chapter's own file also opens and closes on the room tone ACX asks for (digital
  silence, whose noise floor is below any limit), and its RMS counts it, as ACX's does.
"""

import math
from dataclasses import dataclass
from enum import StrEnum

from core.audio.formats import SAMPLE_RATE


class Loudness(StrEnum):
    PEAK = "peak"
    ACX = "acx"


PEAK_TARGET_DBFS = -1.0
MAX_PEAK_GAIN = 4.0  # +12 dB

ACX_RMS_RANGE_DBFS = (-23.0, -18.0)
ACX_PEAK_MAX_DBFS = -3.0
ACX_RMS_TARGET_DBFS = -20.0
ACX_LIMITER_CEILING_DBFS = -4.0  # 1 dB under ACX's limit: room for the encoder's overshoot
MAX_ACX_GAIN = 10.0  # +20 dB; silence between words is digital zero, so no noise comes up
# A chapter file's opening and closing room tone: ACX asks for 0.5-1 s and 1-5 s
ACX_ROOM_TONE_SECONDS = (0.75, 2.0)

SILENT_DBFS = -120.0  # what a chapter with no sound at all reports


def db_to_gain(db: float) -> float:
    return 10 ** (db / 20)


def gain_to_db(gain: float) -> float:
    return 20 * math.log10(gain) if gain > 0 else SILENT_DBFS


@dataclass(frozen=True)
class Levels:
    """A stretch of audio's sample count, sum of squared samples and largest absolute sample:
    what adds up from chunks to parts to chapters."""

    samples: int = 0
    sum_squares: float = 0.0
    peak: float = 0.0

    def __add__(self, other: "Levels") -> "Levels":
        return Levels(
            self.samples + other.samples,
            self.sum_squares + other.sum_squares,
            max(self.peak, other.peak),
        )

    def with_silence(self, samples: int) -> "Levels":
        return Levels(self.samples + samples, self.sum_squares, self.peak)

    @property
    def rms(self) -> float:
        return math.sqrt(self.sum_squares / self.samples) if self.samples else 0.0

    @property
    def rms_dbfs(self) -> float:
        return max(gain_to_db(self.rms), SILENT_DBFS)

    @property
    def peak_dbfs(self) -> float:
        return max(gain_to_db(self.peak), SILENT_DBFS)


@dataclass(frozen=True)
class ChapterGain:
    """The gain a chapter's samples are multiplied by, and the ceiling a limiter keeps them
    under afterwards (None: no limiter; the gain alone keeps the peak where it belongs)."""

    gain: float
    ceiling: float | None = None


def chapter_gain(loudness: Loudness, levels: Levels) -> ChapterGain:
    """The gain for a chapter whose samples, as synthesized, have ``levels``."""
    if loudness is Loudness.ACX:
        levels = levels.with_silence(sum(room_tone(loudness)))
        if levels.rms <= 0:
            return ChapterGain(1.0, db_to_gain(ACX_LIMITER_CEILING_DBFS))
        gain = min(db_to_gain(ACX_RMS_TARGET_DBFS) / levels.rms, MAX_ACX_GAIN)
        return ChapterGain(gain, db_to_gain(ACX_LIMITER_CEILING_DBFS))
    return ChapterGain(peak_gain(levels.peak))


def room_tone(loudness: Loudness) -> tuple[int, int]:
    """Samples of silence that open and close each chapter's own file (not the book's)."""
    if loudness is not Loudness.ACX:
        return 0, 0
    head, tail = ACX_ROOM_TONE_SECONDS
    return round(head * SAMPLE_RATE), round(tail * SAMPLE_RATE)


def peak_gain(peak: float) -> float:
    """The gain that brings ``peak`` to the peak target (never above +12 dB)."""
    if peak <= 0:
        return 1.0
    return min(db_to_gain(PEAK_TARGET_DBFS) / peak, MAX_PEAK_GAIN)


def meets_acx(levels: Levels) -> bool:
    low, high = ACX_RMS_RANGE_DBFS
    return low <= levels.rms_dbfs <= high and levels.peak_dbfs <= ACX_PEAK_MAX_DBFS
