"""Revisions in-process: a job made again with only what changed. The worker's part is played by
the storage functions a worker calls (claim, record, keep for reuse) with made-up audio rows;
what is checked is which chunks a revision reuses, which it sends to be made, and that the dry
run lists exactly those."""

import pytest
from sqlalchemy import select

from core.audio.loudness import Levels
from infra.queue import ASSEMBLE_JOB, SYNTHESIZE_CHUNK
from storage.db import session_factory, transaction
from storage.jobs import (
    ChunkTiming,
    finish_chunk,
    record_chunk_audio,
    release_chunks,
    start_chunk,
)
from storage.models import Chunk, ChunkAudio, Job, JobPart
from storage.parts import PartRef, finish_part
from tests.support.fast import api_for, fast_settings, without_shell_settings

pytestmark = pytest.mark.fast

CHAPTERS = [
    {
        "title": "One",
        "text": "Hermione walked to the station. The train was late again. "
        "She read her book on the bench.",
    },
    {
        "title": "Two",
        "text": "The rain fell all afternoon. Nobody came to the door. The kettle sang.",
    },
    {
        "title": "Three",
        "text": "At last Hermione heard the whistle. She stood and gathered her things.",
    },
]


@pytest.fixture
def api(tmp_path):
    with without_shell_settings():
        # Small chunks: a sentence each, so a change touches one chunk
        yield api_for(fast_settings(tmp_path, chunk_tokens=60, first_chunk_tokens=60))


def _made(path):
    path.mkdir()
    return path


@pytest.fixture
def keyed_api(tmp_path):
    def make(reuse: str):
        with without_shell_settings():
            return api_for(
                fast_settings(
                    _made(tmp_path / reuse),
                    api_keys="alice=alice-key-0123456789,bob=bob-key-0123456789",
                    chunk_reuse=reuse,
                )
            )

    return make


def submit(api, body: dict, key: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    answer = api.http.post("/v1/jobs", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    return answer.json()


def make_all(api, job_id: str) -> None:
    """What the workers do with every chunk of the job: claim, record, keep for reuse."""
    url = api.settings.sqlalchemy_url
    with transaction(url) as session:
        release_chunks(session, job_id, 10_000)  # as each finished chunk releases the next
    with session_factory(url)() as session:
        chunks = session.execute(
            select(Chunk.id, Chunk.index, Chunk.reused).where(Chunk.job_id == job_id)
        ).all()
    for chunk_id, index, reused in chunks:
        if reused:
            continue
        with transaction(url) as session:
            work = start_chunk(session, chunk_id, job_id, "test", 1)
        timing = ChunkTiming(
            tokens=10, audio_key=f"chunks/{job_id}/{index:06d}.flac", audio_seconds=1.0,
            peak=0.5, normalize_ms=1, phonemize_ms=1, inference_ms=1, encode_ms=1,
            worker_host="test", worker_pid=1, provider="CPUExecutionProvider", worker_rss_mb=1,
            sum_squares=100.0, audio_bytes=1_000,
        )  # fmt: skip
        with transaction(url) as session:
            finish_chunk(session, chunk_id, job_id, timing)
            record_chunk_audio(session, work.reuse_scope, work.content_key, timing)


def chunk_rows(api, job_id: str) -> list:
    with session_factory(api.settings.sqlalchemy_url)() as session:
        return session.execute(
            select(Chunk.index, Chunk.chapter, Chunk.text, Chunk.reused, Chunk.status)
            .where(Chunk.job_id == job_id)
            .order_by(Chunk.index)
        ).all()


def made_indices(api, job_id: str) -> list[int]:
    return [row.index for row in chunk_rows(api, job_id) if not row.reused]


def sent_for(api, job_id: str) -> int:
    return len([t for t in api.celery.sent_named(SYNTHESIZE_CHUNK) if t[1][1] == job_id])


def revise(api, job_id: str, change: dict, dry_run: bool = False):
    url = f"/v1/jobs/{job_id}/revisions" + ("?dry_run=true" if dry_run else "")
    return api.http.post(url, json=change)


@pytest.fixture
def book(api) -> dict:
    job = submit(api, {"chapters": CHAPTERS, "voice": "jf_alpha", "format": "flac"})
    make_all(api, job["id"])
    return job


def test_a_resubmitted_book_is_all_reused_and_sends_no_chunk(api, book):
    again = submit(api, {"chapters": CHAPTERS, "voice": "jf_alpha", "format": "flac"})
    assert again["chunks_reused"] == again["progress"]["chunks_total"] > 3
    assert again["chunks_to_make"] == 0 and sent_for(api, again["id"]) == 0
    # Every chapter is complete: its parts were sent to be encoded at once
    assert again["status"] == "running"


def test_one_word_changed_makes_one_chunk_and_the_dry_run_said_so(api, book):
    chapters = {"1": CHAPTERS[1]["text"].replace("Nobody came", "No one came")}
    plan = revise(api, book["id"], {"chapters": chapters}, dry_run=True)
    assert plan.status_code == 200, plan.text
    plan = plan.json()
    assert (plan["chunks_to_make"], plan["chunks_reused"]) == (1, plan["chunks_total"] - 1)
    [change] = plan["changes"]
    assert "Nobody came" in change["before"] and "No one came" in change["after"]
    assert change["chapter"] == 1

    made = revise(api, book["id"], {"chapters": chapters})
    assert made.status_code == 202, made.text
    revision = made.json()
    assert made.headers["Location"] == f"/v1/jobs/{revision['id']}"
    assert revision["revision_of"] == book["id"]
    assert (revision["chunks_to_make"], revision["chunks_reused"]) == (1, plan["chunks_reused"])
    assert made_indices(api, revision["id"]) == [c["index"] for c in plan["changes"]]
    assert sent_for(api, revision["id"]) == 1


def test_a_pronunciation_remakes_only_the_chunks_where_the_name_is_said(api, book):
    change = {"pronunciations": {"Hermione": {"phonemes": "hɜːmˈaɪəni"}}}
    plan = revise(api, book["id"], change, dry_run=True).json()
    said = [row.index for row in chunk_rows(api, book["id"]) if "Hermione" in row.text]
    assert len(said) == 2
    assert [c["index"] for c in plan["changes"]] == said
    revision = revise(api, book["id"], change).json()
    assert made_indices(api, revision["id"]) == said

    # And taken away again: the first revision's audio is what comes back
    back = revise(api, revision["id"], {"remove_pronunciations": ["Hermione"]}, dry_run=True)
    assert back.json()["chunks_to_make"] == 0


def test_a_chapter_voice_remakes_that_chapter_only(api, book):
    plan = revise(api, book["id"], {"chapter_voices": {"2": "jm_kumo"}}, dry_run=True).json()
    in_chapter = [row.index for row in chunk_rows(api, book["id"]) if row.chapter == 2]
    assert [c["index"] for c in plan["changes"]] == in_chapter


def test_a_new_speed_or_voice_remakes_everything_and_a_new_format_nothing(api, book):
    total = len(chunk_rows(api, book["id"]))
    assert revise(api, book["id"], {"speed": 1.1}, dry_run=True).json()["chunks_to_make"] == total
    assert (
        revise(api, book["id"], {"voice": "jm_kumo"}, dry_run=True).json()["chunks_to_make"]
        == total
    )
    assert revise(api, book["id"], {"format": "mp3"}, dry_run=True).json()["chunks_to_make"] == 0


def test_revisions_are_listed_oldest_first_and_the_original_stays(api, book):
    first = revise(api, book["id"], {"title": "Second edition"}).json()
    second = revise(api, first["id"], {"title": "Third edition"}).json()
    for job_id in (book["id"], first["id"], second["id"]):
        listed = api.http.get(f"/v1/jobs/{job_id}/revisions").json()
        assert [j["id"] for j in listed] == [book["id"], first["id"], second["id"]]
    assert api.http.get(f"/v1/jobs/{book['id']}").status_code == 200


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"text": "A whole new text."}, "made from chapters"),
        ({"chapters": {"7": "Nothing."}}, "chapters are 0 to 2"),
        ({"remove_pronunciations": ["Nobody"]}, "not among this job's pronunciations"),
        ({"chapters": {"0": "   "}}, "not valid"),
        ({"voice": "nobody_here"}, "unknown voice"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_revision_that_does_not_fit_is_a_422_and_stores_nothing(api, book, change, needle):
    before = api.stored()
    answer = revise(api, book["id"], change)
    assert answer.status_code == 422, answer.text
    assert needle in answer.text
    assert api.stored() == before


def test_an_unknown_job_has_no_revisions(api):
    assert revise(api, "0" * 32, {"title": "x"}).status_code == 404
    assert api.http.get(f"/v1/jobs/{'0' * 32}/revisions").status_code == 404


@pytest.mark.parametrize(("reuse", "reused_by_bob"), [("owner", False), ("server", True)])
def test_one_key_reuses_anothers_audio_only_when_the_server_says_so(
    keyed_api, reuse, reused_by_bob
):
    api = keyed_api(reuse)
    body = {"text": "The lamp was lit at dusk. The door stayed shut.", "voice": "jf_alpha"}
    alice = submit(api, body, "alice-key-0123456789")
    make_all(api, alice["id"])
    bob = submit(api, body, "bob-key-0123456789")
    assert (bob["chunks_reused"] > 0) is reused_by_bob
    # Either way, neither sees the other's job
    headers = {"Authorization": "Bearer bob-key-0123456789"}
    assert api.http.get(f"/v1/jobs/{alice['id']}", headers=headers).status_code == 404


def test_deleting_revisions_removes_chunk_audio_only_when_no_job_holds_it(api, book):
    chapters = {"1": CHAPTERS[1]["text"].replace("Nobody came", "No one came")}
    revision = revise(api, book["id"], {"chapters": chapters}).json()
    make_all(api, revision["id"])
    with session_factory(api.settings.sqlalchemy_url)() as session:
        kept_before = session.scalar(select(ChunkAudio.content_key).limit(1))
    assert kept_before is not None
    assert api.http.delete(f"/v1/jobs/{book['id']}").status_code == 204
    with session_factory(api.settings.sqlalchemy_url)() as session:
        held = set(session.scalars(select(Chunk.audio_key).where(Chunk.job_id == revision["id"])))
        kept = set(session.scalars(select(ChunkAudio.audio_key)))
    # The revision's chunks, its own and those it reused from the deleted job, are all kept
    assert held <= kept and len(held) == len(chunk_rows(api, revision["id"]))
    assert api.http.delete(f"/v1/jobs/{revision['id']}").status_code == 204
    with session_factory(api.settings.sqlalchemy_url)() as session:
        assert session.scalar(select(ChunkAudio.content_key).limit(1)) is None
        assert session.scalar(select(Job.id).limit(1)) is None


def test_the_cli_revise_options_become_the_revision_body(tmp_path):
    from cli.main import build_parser, revision_change

    new = tmp_path / "four.txt"
    new.write_text("The new fourth chapter.", encoding="utf-8")
    args = build_parser().parse_args(
        ["revise", "abc", "--chapter", "4", str(new), "--pronounce", "Hermione=hɜːmˈaɪəni",
         "--chapter-voice", "2=am_adam", "--unpronounce", "Ron", "--speed", "1.1", "--dry-run"]
    )  # fmt: skip
    assert args.dry_run and args.job_id == "abc"
    assert revision_change(args) == {
        "chapters": {"3": "The new fourth chapter."},
        "chapter_voices": {"1": "am_adam"},
        "pronunciations": {"Hermione": {"phonemes": "hɜːmˈaɪəni"}},
        "remove_pronunciations": ["Ron"],
        "speed": 1.1,
    }


JOINS: list[str] = []  # jobs whose last part's finish said the join is due


def encode_parts(api, job_id: str) -> list[tuple[int, int]]:
    """What the workers do with the job's parts still to encode; (chapter, number) of each.
    A finish that leaves nothing to encode is where a worker sends the join (noted in JOINS)."""
    url = api.settings.sqlalchemy_url
    with session_factory(url)() as session:
        pending = session.execute(
            select(JobPart.chapter, JobPart.number).where(
                JobPart.job_id == job_id, JobPart.status != "done"
            )
        ).all()
    for chapter, number in pending:
        with transaction(url) as session:
            joins = finish_part(
                session,
                PartRef(job_id, chapter, number),
                audio_key=f"parts/{job_id}/{chapter:04d}-{number:04d}.flac",
                levels=Levels(24_000, 10.0, 0.5),
                gain=1.0,
                encode_ms=1.0,
            )
        if joins:
            JOINS.append(job_id)
    return [(c, n) for c, n in pending]


def part_keys(api, job_id: str) -> dict[int, list[str]]:
    with session_factory(api.settings.sqlalchemy_url)() as session:
        rows = session.execute(
            select(JobPart.chapter, JobPart.audio_key)
            .where(JobPart.job_id == job_id)
            .order_by(JobPart.chapter, JobPart.number)
        ).all()
    keys: dict[int, list[str]] = {}
    for chapter, key in rows:
        keys.setdefault(chapter, []).append(key)
    return keys


def test_unchanged_chapters_join_the_earlier_revisions_parts(api, book):
    assert {c for c, _ in encode_parts(api, book["id"])} == {0, 1, 2}
    chapters = {"1": CHAPTERS[1]["text"].replace("Nobody came", "No one came")}
    revision = revise(api, book["id"], {"chapters": chapters}).json()
    make_all(api, revision["id"])
    # Only the changed chapter is encoded again; the others are the first revision's parts
    assert {c for c, _ in encode_parts(api, revision["id"])} == {1}
    first, second = part_keys(api, book["id"]), part_keys(api, revision["id"])
    assert second[0] == first[0] and second[2] == first[2] and second[1] != first[1]
    assert JOINS[-1] == revision["id"]


def test_a_resubmitted_book_whose_parts_exist_goes_straight_to_its_join(api, book):
    encode_parts(api, book["id"])
    # A revision that changes nothing the audio depends on: every chunk and part reused
    same = revise(api, book["id"], {"title": "Same words"}).json()
    assert same["chunks_to_make"] == 0
    assert set(part_keys(api, same["id"])) == {0, 1, 2}
    assert encode_parts(api, same["id"]) == []
    assert api.celery.sent_named(ASSEMBLE_JOB)[-1][1] == [same["id"]]


def test_a_changed_format_encodes_every_chapter_again(api, book):
    encode_parts(api, book["id"])
    other = revise(api, book["id"], {"format": "mp3"}).json()
    assert other["chunks_to_make"] == 0
    assert {c for c, _ in encode_parts(api, other["id"])} == {0, 1, 2}


def test_metrics_and_stats_count_reused_chunks_apart_and_the_bytes_kept(api, book):
    made = len(chunk_rows(api, book["id"]))
    submit(api, {"chapters": CHAPTERS, "voice": "jf_alpha", "format": "flac"})
    metrics = api.http.get("/metrics").text
    assert f"kq_chunks_done_total {made}.0" in metrics  # synthesized: the first job's only
    assert f"kq_chunks_reused_total {made}.0" in metrics
    # Each chunk file counted once, though two jobs hold it
    assert f'kq_storage_bytes{{kind="chunk_audio"}} {made * 1_000}.0' in metrics
    stats = api.http.get("/v1/stats").json()
    assert (stats["chunks_done"], stats["chunks_reused"]) == (made, made)
    assert stats["storage"] == {"chunk_audio_bytes": made * 1_000, "finished_file_bytes": 0}


def test_the_source_is_what_a_revision_reads_and_changes(api, book):
    source = api.http.get(f"/v1/jobs/{book['id']}/source")
    assert source.status_code == 200, source.text
    assert [c["text"] for c in source.json()["chapters"]] == [c["text"] for c in CHAPTERS]
    revision = revise(api, book["id"], {"chapter_voices": {"1": "jm_kumo"}}).json()
    chapters = api.http.get(f"/v1/jobs/{revision['id']}/source").json()["chapters"]
    assert [c.get("voice") for c in chapters] == [None, "jm_kumo", None]
    assert api.http.get(f"/v1/jobs/{'0' * 32}/source").status_code == 404


def test_a_revision_with_more_chunks_to_make_than_go_at_once_stores_them_all(api):
    """Reused chunks and chunks that wait their turn are stored in one insert: those that wait
    are not reused, and nothing is lost."""
    long_chapter = " ".join(f"The tide turned for the {n}th time that day." for n in range(1, 41))
    chapters = [CHAPTERS[0], {"title": "Long", "text": long_chapter}]
    book = submit(api, {"chapters": chapters, "format": "flac"})
    make_all(api, book["id"])
    revision = revise(api, book["id"], {"chapter_voices": {"1": "jm_kumo"}})
    assert revision.status_code == 202, revision.text
    rows = chunk_rows(api, revision.json()["id"])
    first = [r for r in rows if r.chapter == 0]
    waiting = [r for r in rows if r.status == "pending"]
    assert first and all(r.reused and r.status == "done" for r in first)
    assert waiting and not any(r.reused for r in waiting)
    assert len(rows) == revision.json()["progress"]["chunks_total"]
