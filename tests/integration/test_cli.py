"""The `kokoro-queue` command: `up` brings up a whole stack, synthesizes the sample, and stops
every child on SIGTERM; client commands drive a job from the shell."""

import os
import re
import signal
import subprocess
import sys
import uuid

import httpx
import pytest
import soundfile as sf

from tests.support.queues import drop_queue
from tests.support.stack import ROOT, free_port, wait_for


def test_up_runs_the_stack_synthesizes_the_sample_and_stops_cleanly(tmp_path, redis_url):
    port = free_port()
    queue = f"kq-test-up-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KQ_")}
    env.update(KQ_QUEUE=queue, PYTHONUNBUFFERED="1")
    log = tmp_path / "up.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--sample", "--data-dir", str(tmp_path / "data"),
         "--port", str(port), "--workers", "2", "--redis-url", redis_url],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        sample = wait_for(
            lambda: re.search(r"^sample\s+(\S+)$", log.read_text(), re.M), 240, "the sample"
        )
        audio, rate = sf.read(sample.group(1))
        assert rate == 24_000 and len(audio) / rate > 10
        assert "ready; Ctrl-C stops everything" in log.read_text()
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        pids = children_of(process.pid)
        assert len(pids) >= 2  # the API and the worker at least

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert "stopped" in log.read_text()
        assert not [pid for pid in pids if alive(pid)], "children outlived `up`"
    finally:
        if process.poll() is None:
            process.kill()
        drop_queue(redis_url, queue)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the CLI
def test_client_commands_drive_a_job(stack, tmp_path):
    env = {**stack.env, "KQ_API_URL": stack.api_url}
    text_file = tmp_path / "note.txt"
    text_file.write_text("The command line submits this note and waits for it.", encoding="utf-8")
    output = tmp_path / "note.flac"

    def run(*args) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    printed = run("submit", str(text_file), "--wait", "--format", "flac", "-o", str(output))
    assert printed.strip() == str(output)
    audio, rate = sf.read(output)
    assert rate == 24_000 and len(audio) > rate
    job_id = run("jobs", "--limit", "5").split()  # a table: the newest job is listed
    listed = [word for word in job_id if re.fullmatch(r"[0-9a-f]{32}", word)]
    assert listed
    assert '"status": "succeeded"' in run("status", listed[0])
    again = tmp_path / "again.flac"
    run("download", listed[0], "-o", str(again))
    assert again.read_bytes() == output.read_bytes()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the CLI, not the database
def test_preview_prints_the_spoken_form_with_every_change_marked(stack, tmp_path):
    """`kokoro-queue preview` shows what would be said, from a file or from stdin; piped, the
    changed words are marked «like this»."""
    env = {**stack.env, "KQ_API_URL": stack.api_url}
    book = tmp_path / "chapter.md"
    book.write_text("# Chapter XIV\n\nDr. Watson left on Jan. 5, 1921, with $30.\n", "utf-8")

    def preview(*args, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "preview", *args], cwd=ROOT, env=env,
            input=stdin, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    printed = preview(str(book))
    expected = (
        "«Doctor» Watson left on «January fifth, nineteen twenty-one,» with «thirty dollars.»"
    )
    assert expected in printed
    piped = preview("-", stdin="Plan B costs 5 km of road.")
    assert "Plan B costs «five kilometers» of road." in piped
    assert "chunks, about" in piped


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout
    return [int(p) for p, pp in (line.split() for line in out.splitlines()) if int(pp) == pid]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not read its status yet
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return not state.stdout.strip().startswith("Z")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the CLI
def test_submit_several_books_waits_with_an_overall_bar_and_downloads_all(stack, tmp_path):
    from tests.epub_factory import build_epub

    books = {
        "note.md": b"# One\nThe first chapter is short.\n\n# Two\nSo is the second.",
        "tale.epub": build_epub([("Only", "A single chapter in an EPUB.")]),
    }
    for name, data in books.items():
        (tmp_path / name).write_bytes(data)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "submit", *(str(tmp_path / n) for n in books),
         "--wait", "--format", "mp3", "-o", f"{out}/"],
        cwd=ROOT, env={**stack.env, "KQ_API_URL": stack.api_url},
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["note.mp3", "tale.mp3"]
    for path in out.iterdir():
        audio, rate = sf.read(path)
        assert rate == 24_000 and len(audio) > rate
    assert "note.md succeeded" in result.stderr and "tale.epub succeeded" in result.stderr
    assert re.search(r"^all\b.*100%", result.stderr, re.M)  # the overall bar
