"""Speech control through the real stack and model: markup breaks are silence of the asked
length, a voice change speaks the rest with the other voice, and a pronunciation changes its
word and nothing else, in the phonemes and in the audio.

The stack here is SQLite-only and shared by the module: these tests are about audio, not the
database, and every job costs seconds of synthesis on a 2-core machine.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import create_engine, select

from core.audio.formats import SAMPLE_RATE
from core.audio.timeline import pause_samples, samples_of
from core.speech.phonemizer import phonemize
from storage.models import Chunk
from tests.audio_checks import read_audio
from tests.support.stack import Stack, running_stack

JOB_TIMEOUT_S = 900.0  # workers run at idle priority: a busy machine may take minutes
# Silence in the assembled file: below this after the book gain (-60 dBFS), nothing is heard
SILENT = 1e-3
TOLERANCE_S = 0.020

# Three chunks each (the first chunk's small budget ends it at the first sentence): a plain
# sentence boundary between chunks 0 and 1, the markup break and voice change between 1 and 2
TAGS_TEXT = "The cat sat on the mat. The dog ran home. [pause:2s] [voice:jm_kumo] Then it rained."
SSML_TEXT = (
    "The cat sat on the mat. The dog ran home."
    '<break time="500ms"/><voice name="jm_kumo">Then it rained.</voice>'
)
AFTER_CHANGE = "Then it rained."

# espeak reads "Nguyen" as nˈuːjɛn; said "win" it is a syllable shorter. The word sits inside
# the second chunk so the model reads the rest of that chunk with it
LEXICON_TEXT = "It was late. Later that night, Nguyen read by the fire."
ENTRY = {"Nguyen": "wˈɪn"}
# The server's lexicon: a word of its own, and one the job overrides
SERVER_LEXICON = 'Siobhan = "ʃəvˈɔːn"\nNiamh = "nˈiːv"\n'


@pytest.fixture(scope="module")
def speech_stack(tmp_path_factory, redis_url) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("speech")
    lexicon = data_dir / "lexicon.toml"
    lexicon.write_text(SERVER_LEXICON, encoding="utf-8")
    # Not the session `stack` (parametrized by database backend): one SQLite stack suffices
    with running_stack(
        data_dir, redis_url, f"sqlite:///{data_dir / 'kq.db'}", KQ_LEXICON_PATH=str(lexicon)
    ) as running:
        yield running


def run_job(stack: Stack, body: dict) -> tuple[np.ndarray, list[Chunk]]:
    """Submit, wait, and return the job's wav and its chunk rows in order."""
    with stack.client() as http:
        answer = http.post("/v1/jobs", json={"format": "wav", **body})
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        finished = stack.wait_for_job(job_id, timeout_s=JOB_TIMEOUT_S)
        assert finished["status"] == "succeeded", finished["error"]
        audio, rate = read_audio(http.get(f"/v1/jobs/{job_id}/audio").content)
    assert rate == SAMPLE_RATE
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(
                select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.index)
            ).all()
    finally:
        engine.dispose()
    return audio, list(rows)


def chunk_audio(stack: Stack, row) -> np.ndarray:
    audio, _ = read_audio((stack.data_dir / "audio" / row.audio_key).read_bytes())
    return audio


def preview(stack: Stack, body: dict) -> dict:
    with stack.client() as http:
        answer = http.post("/v1/text/preview", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- measuring audio ------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """The silence after a chunk, in samples: the pause the layout inserts, and the quiet
    samples (below SILENT) that end the chunk before it and start the chunk after it."""

    inserted: int
    quiet_before: int
    quiet_after: int

    @property
    def heard(self) -> float:
        """Seconds of silence a listener hears there: the whole silent run."""
        return (self.quiet_before + self.inserted + self.quiet_after) / SAMPLE_RATE

    def __str__(self) -> str:
        return (
            f"{self.inserted / SAMPLE_RATE:.3f} s inserted + "
            f"{self.quiet_before / SAMPLE_RATE * 1000:.0f} ms quiet tail before + "
            f"{self.quiet_after / SAMPLE_RATE * 1000:.0f} ms quiet head after = "
            f"{self.heard:.3f} s heard"
        )


def gaps_after_chunks(audio: np.ndarray, rows) -> list[Gap]:
    """The gap after each chunk but the last, found where the chunk layout puts it."""
    silent = np.abs(audio) < SILENT
    gaps = []
    position = 0
    for row in rows[:-1]:
        end = position + samples_of(row.audio_seconds)
        pause = pause_samples(row.pause_after, row.pause_seconds)
        # The layout's pause is digital silence in the file
        assert not audio[end : end + pause].any(), f"sound inside the pause after {row.index}"
        start, stop = end, end + pause
        while start > 0 and silent[start - 1]:
            start -= 1
        while stop < len(audio) and silent[stop]:
            stop += 1
        gaps.append(Gap(pause, end - start, stop - end - pause))
        position = end + pause
    assert position + samples_of(rows[-1].audio_seconds) == len(audio), "not the layout"
    return gaps


def pitch_hz(audio: np.ndarray) -> float:
    """Median fundamental frequency of the voiced frames, by autocorrelation (60-400 Hz)."""
    frame = 1024
    lowest_lag, highest_lag = SAMPLE_RATE // 400, SAMPLE_RATE // 60
    found = []
    for start in range(0, len(audio) - frame, frame // 2):
        x = audio[start : start + frame].astype(np.float64)
        if np.sqrt(np.mean(x**2)) < 0.02:  # too quiet to be voiced
            continue
        x -= x.mean()
        correlation = np.correlate(x, x, "full")[frame - 1 :]
        lag = lowest_lag + int(np.argmax(correlation[lowest_lag:highest_lag]))
        if correlation[lag] > 0.3 * correlation[0]:  # periodic enough to be voiced
            found.append(SAMPLE_RATE / lag)
    assert len(found) >= 10, "too few voiced frames to tell a pitch"
    return float(np.median(found))


def envelope_db(audio: np.ndarray, frame: int = SAMPLE_RATE // 100) -> np.ndarray:
    """Loudness every 10 ms, in dB, floored at -60 dBFS."""
    count = len(audio) // frame
    frames = audio[: count * frame].reshape(count, frame).astype(np.float64)
    return 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)), 1e-3))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def best_lagged_correlation(a: np.ndarray, b: np.ndarray, max_lag: int) -> float:
    """The best correlation of equal-length ``a`` and ``b`` with one shifted by up to
    ``max_lag`` frames: regions that say the same but start a little apart."""
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, lag) : len(a) + min(0, lag)]
        y = b[max(0, -lag) : len(b) + min(0, -lag)]
        best = max(best, correlation(x, y))
    return best


# --- breaks -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def marked_jobs(speech_stack) -> dict[str, tuple[np.ndarray, list[Chunk]]]:
    """The tags and the SSML job, each: a sentence end, a break and a voice change."""
    return {
        markup: run_job(speech_stack, {"text": text, "markup": markup, "voice": "jf_alpha"})
        for markup, text in (("tags", TAGS_TEXT), ("ssml", SSML_TEXT))
    }


BREAKS = [("tags", 2.0), ("ssml", 0.5)]


@pytest.mark.parametrize("markup, seconds", BREAKS, ids=["tags-2s", "ssml-500ms"])
def test_a_break_inserts_its_silence_where_a_sentence_end_inserts_its_own(
    marked_jobs, markup, seconds
):
    audio, rows = marked_jobs[markup]
    assert [r.pause_seconds for r in rows] == [None, seconds, None]
    sentence, markup_break = gaps_after_chunks(audio, rows)
    print(f"{markup}: sentence end: {sentence}; break of {seconds} s: {markup_break}")
    assert sentence.inserted == pause_samples("sentence")
    assert markup_break.inserted == round(seconds * SAMPLE_RATE)
    # The long silence is the break's: a plain sentence end between chunks is heard short
    assert sentence.heard < 0.6
    assert markup_break.heard >= seconds


# Chunks are trimmed to their audible samples (worker/audio.py chunk_audio): a break is
# heard as the silence it asks for, not plus the quiet edges kokoro-onnx leaves
@pytest.mark.parametrize("markup, seconds", BREAKS, ids=["tags-2s", "ssml-500ms"])
def test_a_break_is_heard_as_the_silence_it_asks_for(marked_jobs, markup, seconds):
    audio, rows = marked_jobs[markup]
    _, markup_break = gaps_after_chunks(audio, rows)
    assert abs(markup_break.heard - seconds) <= TOLERANCE_S


# --- voices -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_chunks(speech_stack) -> dict[str, np.ndarray]:
    """The sentence after the change, spoken by single-voice jobs of each voice."""
    references = {}
    for voice in ("jf_alpha", "jm_kumo"):
        _, [row] = run_job(speech_stack, {"text": AFTER_CHANGE, "voice": voice})
        references[voice] = chunk_audio(speech_stack, row)
    return references


@pytest.mark.parametrize("markup", ["tags", "ssml"])
def test_a_voice_change_speaks_the_rest_with_the_other_voice(
    speech_stack, marked_jobs, reference_chunks, markup
):
    _, rows = marked_jobs[markup]
    # The chunk records: the job's voice (NULL) up to the change, the other voice after it
    assert [(r.text, r.voice) for r in rows] == [
        ("The cat sat on the mat.", None),
        ("The dog ran home.", None),
        (AFTER_CHANGE, "jm_kumo"),
    ]
    parts = [chunk_audio(speech_stack, r) for r in rows]
    pitches = [pitch_hz(part) for part in parts]
    references = {voice: pitch_hz(audio) for voice, audio in reference_chunks.items()}
    print(f"{markup}: chunk pitches {[round(p) for p in pitches]} Hz; references {references}")
    # jm_kumo is a male voice: an octave or more below jf_alpha, and the chunks follow suit
    assert references["jm_kumo"] < 0.6 * references["jf_alpha"]
    for before in pitches[:2]:
        assert abs(before - references["jf_alpha"]) < 0.15 * references["jf_alpha"]
    assert abs(pitches[2] - references["jm_kumo"]) < 0.15 * references["jm_kumo"]
    # Same phonemes and style vector as the jm_kumo job's sentence: the same audio (Kokoro is
    # deterministic), and not jf_alpha's
    after = parts[2]
    kumo, alpha = reference_chunks["jm_kumo"], reference_chunks["jf_alpha"]
    assert len(after) == len(kumo)
    difference = float(np.abs(after - kumo).max())
    print(f"{markup}: largest sample difference from the jm_kumo job: {difference:.5f}")
    assert difference < 2e-3
    length = min(len(after), len(alpha))
    assert correlation(after[:length], alpha[:length]) < 0.5


# --- pronunciations ---------------------------------------------------------------------------


def test_a_pronunciation_changes_its_word_and_no_other_in_the_phonemes(speech_stack):
    plain = preview(speech_stack, {"text": LEXICON_TEXT})
    entry = preview(speech_stack, {"text": LEXICON_TEXT, "pronunciations": ENTRY})
    before = [chunk["phonemes"].split() for chunk in plain["chunks"]]
    after = [chunk["phonemes"].split() for chunk in entry["chunks"]]
    assert len(before) == len(after) == 2
    assert before[0] == after[0]
    assert len(before[1]) == len(after[1])
    changed = [(b, a) for b, a in zip(before[1], after[1], strict=True) if b != a]
    # Only Nguyen, from espeak's reading to the entry's
    assert changed == [("nˈuːjɛn", "wˈɪn")]


def test_the_server_lexicon_is_used_and_job_entries_win_over_it(speech_stack):
    text = "Siobhan met Niamh."
    # espeak alone says them otherwise: what the preview shows is the lexicon's doing
    assert phonemize(text, "en-us").split() == ["ʃɪvˈɔːn", "mˈɛt", "nˈaɪəm."]
    server = preview(speech_stack, {"text": text})["chunks"][0]["phonemes"]
    job = preview(speech_stack, {"text": text, "pronunciations": {"Siobhan": "ʃɪvˈɑːn"}})
    assert server.split() == ["ʃəvˈɔːn", "mˈɛt", "nˈiːv."]
    # The job's entry for Siobhan wins; the server's Niamh still holds
    assert job["chunks"][0]["phonemes"].split() == ["ʃɪvˈɑːn", "mˈɛt", "nˈiːv."]


def test_a_pronunciation_changes_the_audio_only_around_its_word(speech_stack):
    _, plain_rows = run_job(speech_stack, {"text": LEXICON_TEXT})
    _, entry_rows = run_job(speech_stack, {"text": LEXICON_TEXT, "pronunciations": ENTRY})
    # The chunk without the word is the same audio, sample for sample
    np.testing.assert_array_equal(
        chunk_audio(speech_stack, plain_rows[0]), chunk_audio(speech_stack, entry_rows[0])
    )
    plain = chunk_audio(speech_stack, plain_rows[1])
    entry = chunk_audio(speech_stack, entry_rows[1])
    phonemes = preview(speech_stack, {"text": LEXICON_TEXT})["chunks"][1]["phonemes"]
    word_at = phonemes.index("nˈuːjɛn")
    word_end = word_at + len("nˈuːjɛn")
    seconds = len(plain) / SAMPLE_RATE
    # Where the word should be, by its share of the phonemes: rough, so the regions compared
    # keep a fifth of their length away from it
    word_starts = word_at / len(phonemes) * seconds
    after_word = (len(phonemes) - word_end) / len(phonemes) * seconds
    word_seconds = (word_end - word_at) / len(phonemes) * seconds
    a, b = envelope_db(plain), envelope_db(entry)
    head = int(0.8 * word_starts * 100)
    tail = int(0.8 * after_word * 100)
    # Each chunk starts at its first audible sample (worker/audio.py chunk_audio), which two
    # renditions of a sentence may reach a few milliseconds apart
    head_correlation = best_lagged_correlation(a[:head], b[:head], max_lag=2)
    head_db = float(np.mean(np.abs(a[:head] - b[:head])))
    # The rest of the sentence after the word, shifted by the length difference
    tail_correlation = best_lagged_correlation(a[-tail:], b[-tail:], max_lag=20)
    # Between the two, aligned at the start: the word and what the change shifted
    middle = min(len(a), len(b)) - tail
    middle_db = float(np.mean(np.abs(a[head:middle] - b[head:middle])))
    shorter = (len(plain) - len(entry)) / SAMPLE_RATE
    print(
        f"before the word ({head / 100:.2f} s): envelope correlation {head_correlation:.4f}, "
        f"mean difference {head_db:.2f} dB; after it ({tail / 100:.2f} s): "
        f"{tail_correlation:.4f}; around it {middle_db:.2f} dB; "
        f"{shorter:.3f} s shorter (the word: about {word_seconds:.2f} s)"
    )
    # Not sample-identical anywhere in the chunk: the model reads the whole chunk at once, so
    # the new word nudges every frame (samples part within 32 ms). Measured with trimmed
    # chunks: 0.972 and 1.3 dB before the word, 0.958 after it, 2.9 dB around it, 0.142 s
    # shorter
    assert head_correlation > 0.95 and head_db < 2.0
    assert tail_correlation > 0.9
    assert middle_db > 2 * head_db
    # "win" is a syllable shorter than nˈuːjɛn: the file shortens by less than the word lasts
    assert 0.03 < shorter < word_seconds
