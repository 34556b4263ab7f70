"""Client commands that talk to the HTTP API: submit, status, download, cancel, jobs, report."""

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

FINISHED = {"succeeded", "failed", "cancelled"}
POLL_INTERVAL_S = 1.0
BAR_REFRESH_S = 0.2
EVENTS_RECONNECTS = 5
# An event or a keep-alive comment comes at least every 15 s; a minute of nothing is a dead link
EVENTS_TIMEOUT = httpx.Timeout(10.0, read=60.0)


class ApiError(RuntimeError):
    pass


class Client:
    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 60.0):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout_s)

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise ApiError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {detail}"
            )
        return response

    def submit_file(self, path: Path, **options) -> dict:
        """Upload a book file (.txt, .md, .epub, .pdf, .docx, .html, .fb2); the server finds
        its chapters."""
        fields = {k: str(v) for k, v in options.items() if v is not None}
        with path.open("rb") as f:
            response = self.http.post("/v1/jobs", files={"file": (path.name, f)}, data=fields)
        return self._check(response).json()

    def preview(self, source: Path | str, **options) -> dict:
        """What a job would say (POST /v1/text/preview): a book file, or text itself."""
        fields = {k: v for k, v in options.items() if v is not None}
        if isinstance(source, Path):
            with source.open("rb") as f:
                data = {k: str(v) for k, v in fields.items()}
                response = self.http.post(
                    "/v1/text/preview", files={"file": (source.name, f)}, data=data
                )
        else:
            response = self.http.post("/v1/text/preview", json={"text": source, **fields})
        return self._check(response).json()

    def job(self, job_id: str) -> dict:
        return self._check(self.http.get(f"/v1/jobs/{job_id}")).json()

    def jobs(self, limit: int = 20, status: str | None = None) -> list[dict]:
        params = {"limit": limit, **({"status": status} if status else {})}
        return self._check(self.http.get("/v1/jobs", params=params)).json()["jobs"]

    def stats(self, since: str | None = None) -> dict:
        params = {"since": since} if since else {}
        return self._check(self.http.get("/v1/stats", params=params)).json()

    def revise(self, job_id: str, change: dict, dry_run: bool = False) -> dict:
        params = {"dry_run": "true"} if dry_run else {}
        url = f"/v1/jobs/{job_id}/revisions"
        return self._check(self.http.post(url, json=change, params=params)).json()

    def cancel(self, job_id: str) -> dict:
        return self._check(self.http.post(f"/v1/jobs/{job_id}/cancel")).json()

    def events(self, job_id: str) -> Iterator[tuple[str, dict]]:
        """The job's Server-Sent Events as (event, data) until it ends; a dropped connection
        resumes after the last event seen (Last-Event-ID), so none is lost or repeated."""
        last_id, failures = None, 0
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                with self.http.stream(
                    "GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=EVENTS_TIMEOUT
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        self._check(response)
                    fields: dict[str, str] = {}
                    for line in response.iter_lines():
                        if line:
                            name, _, value = line.partition(":")
                            if name:  # "" is a keep-alive comment
                                fields[name] = value.removeprefix(" ")
                            continue
                        if "event" in fields:
                            last_id = fields.get("id", last_id)
                            failures = 0
                            yield fields["event"], json.loads(fields.get("data") or "{}")
                            if fields["event"] != "chunk":
                                return
                        fields = {}
            except httpx.TransportError:
                failures += 1
                if failures > EVENTS_RECONNECTS:
                    raise
                time.sleep(POLL_INTERVAL_S)

    def download(self, job_id: str, output: Path) -> Path:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(f".{output.name}.part")
        with self.http.stream("GET", f"/v1/jobs/{job_id}/audio") as response:
            if response.status_code >= 400:
                response.read()
                self._check(response)
            with tmp.open("wb") as f:
                for block in response.iter_bytes():
                    f.write(block)
        tmp.replace(output)
        return output


def wait_for(client: Client, jobs: dict[str, str], console: Console | None = None) -> list[dict]:
    """Follow every job (id -> label) by its events until all have ended: a bar per job, and
    one for all of them weighted by characters, with the time remaining."""
    console = console or Console(stderr=True)
    latest = {job_id: client.job(job_id) for job_id in jobs}
    lock = threading.Lock()
    errors: list[Exception] = []

    def follow(job_id: str) -> None:
        try:
            for event, data in client.events(job_id):
                with lock:
                    job = latest[job_id]
                    if event == "chunk":
                        job["status"] = "running"
                        job["progress"] |= {
                            k: data[k] for k in ("chunks_done", "chars_done", "percent")
                        }
                    else:
                        job["status"] = data.get("status", event)
        except Exception as error:  # shown by the main thread
            errors.append(error)

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    followers = [
        threading.Thread(target=follow, args=(job_id,), daemon=True)
        for job_id, job in latest.items()
        if job["status"] not in FINISHED
    ]
    for follower in followers:
        follower.start()
    with Progress(*columns, console=console, transient=False) as progress:
        bars = {job_id: progress.add_task(label, total=100) for job_id, label in jobs.items()}
        overall = progress.add_task("all", total=None) if len(jobs) > 1 else None
        while True:
            with lock:
                for job_id, label in jobs.items():
                    job = latest[job_id]
                    progress.update(
                        bars[job_id],
                        completed=job["progress"]["percent"],
                        description=f"{label} {job['status']}",
                    )
                if overall is not None:
                    done = sum(j["progress"]["chars_done"] for j in latest.values())
                    total = sum(j["progress"]["chars_total"] for j in latest.values())
                    progress.update(overall, completed=done, total=total)
            if errors:
                raise ApiError(f"lost the jobs' events: {errors[0]}")
            if not any(follower.is_alive() for follower in followers):
                # The final word, with audio seconds and errors, from the jobs themselves
                return [client.job(job_id) for job_id in jobs]
            time.sleep(BAR_REFRESH_S)


def output_target(raw: str | None, count: int) -> tuple[Path | None, Path | None]:
    """(directory, file) that ``-o RAW`` names for ``count`` outputs: a directory when RAW ends
    with a slash, is one already, or several files are made; else that one file."""
    if raw is None:
        return None, None
    path = Path(raw)
    if count > 1 or raw.endswith(("/", os.sep)) or path.is_dir():
        return path, None
    return None, path


def submit_and_download(
    client: Client,
    files: list[Path],
    *,
    output_dir: Path | None,
    output: Path | None = None,
    fmt: str | None = None,
    voice: str | None = None,
    wait: bool = True,
) -> list[dict]:
    jobs = [client.submit_file(path, voice=voice, format=fmt) for path in files]
    if not wait:
        return jobs
    results = wait_for(client, {j["id"]: path.name for j, path in zip(jobs, files, strict=True)})
    failed = [j for j in results if j["status"] != "succeeded"]
    if failed:
        raise ApiError("; ".join(f"job {j['id']} {j['status']}: {j['error']}" for j in failed))
    for path, job in zip(files, results, strict=True):
        target = output or (output_dir or Path(".")) / f"{path.stem}.{job['format']}"
        client.download(job["id"], target)
        job["output"] = str(target)
    return results


def spoken_changes(written: str, spoken: str) -> list[tuple[str, bool]]:
    """The spoken text as (piece, changed) pieces: word runs that differ from the written text
    are marked, so a reader sees every word the normalizer (or a pronunciation) changed."""
    import difflib
    import re

    written_words = re.findall(r"\S+\s*", written)
    spoken_words = re.findall(r"\S+\s*", spoken)
    matcher = difflib.SequenceMatcher(
        a=[w.strip() for w in written_words], b=[w.strip() for w in spoken_words], autojunk=False
    )
    pieces = []
    for tag, _, _, first, last in matcher.get_opcodes():
        if last > first:
            pieces.append(("".join(spoken_words[first:last]), tag != "equal"))
    return pieces


def preview_text(preview: dict, marks: tuple[str, str] | None = None) -> Text:
    """The spoken form, chunk by chunk, with changed words highlighted (or, for a plain
    output, put between ``marks``)."""
    text = Text()
    for chunk in preview["chunks"]:
        for piece, changed in spoken_changes(chunk["text"], chunk["spoken"]):
            if changed and marks:
                body = piece.rstrip()
                text.append(f"{marks[0]}{body}{marks[1]}{piece[len(body) :]}")
            else:
                text.append(piece, style="bold yellow" if changed else None)
        text.append("\n\n" if chunk["pause_after"] in ("paragraph", "chapter") else " ")
    return text


def jobs_table(jobs: list[dict]) -> Table:
    table = Table("status", "progress", "audio s", "created")
    # Ids are what users copy into other commands: never wrapped or cut
    table.add_column("id", no_wrap=True, min_width=32)
    for job in jobs:
        table.add_row(
            job["status"],
            f"{job['progress']['percent']:.0f}%",
            f"{job['audio_seconds']:.1f}" if job["audio_seconds"] else "",
            job["created_at"][:19].replace("T", " "),
            job["id"],
        )
    return table


def _utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _figure(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{unit}"


def _pair(pair: dict, digits: int, unit: str = "") -> str:
    return f"{_figure(pair['p50'], digits, unit)} / {_figure(pair['p95'], digits, unit)}"


def _shares(shares: dict) -> str:
    if any(value is None for value in shares.values()):
        return "-"
    return " / ".join(f"{100 * value:.2f} %" for value in shares.values())


def summary_table(stats: dict) -> Table:
    window, depth = stats["window"], stats["queue_depth"]
    broker = "?" if depth["broker_messages"] is None else f"{depth['broker_messages']:,}"
    table = Table("figure", "value", title="throughput", title_justify="left")
    table.columns[0].no_wrap = True
    rows = [
        ("window", f"{_utc(window['since'])} → {_utc(window['until'])} UTC"),
        ("active seconds", _figure(window["active_seconds"], 1)),
        ("jobs", " · ".join(f"{state} {count}" for state, count in stats["jobs"].items())),
        ("chunks done", f"{stats['chunks_done']:,}"),
        ("chars done", f"{stats['chars_done']:,}"),
        ("audio seconds", _figure(stats["audio_seconds"], 1)),
        ("chars/s", _figure(stats["chars_per_second"], 1)),
        ("audio s per wall s", _figure(stats["audio_seconds_per_wall_second"])),
        ("inference RTF p50 / p95", _pair(stats["inference_rtf"], 3)),
        ("queue wait p50 / p95", _pair(stats["queue_wait_ms"], 0, " ms")),
        ("chunk time: normalize / phonemize / model / encode", _shares(stats["chunk_time_share"])),
        ("queue depth", f"{depth['chunks_queued']:,} chunks queued · {broker} broker messages"),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def breakdown_table(title: str, rows: list[tuple[str, dict]]) -> Table:
    """Per worker or per provider: the figures of ``storage.stats.Breakdown.summary``."""
    table = Table(title=f"by {title}", title_justify="left")
    table.caption = None if rows else f"no {title} finished a chunk in this window"
    # Names (host:pid) are what users grep for: never wrapped or cut
    table.add_column(title, no_wrap=True, min_width=max((len(n) for n, _ in rows), default=0))
    for header in ("chunks", "chars", "audio s", "model s", "RTF p50", "peak MB"):
        table.add_column(header, justify="right")
    for name, row in rows:
        table.add_row(
            name,
            f"{row['chunks']:,}",
            f"{row['chars']:,}",
            _figure(row["audio_seconds"], 1),
            _figure(row["inference_seconds"], 1),
            _figure(row["inference_rtf_p50"], 3),
            _figure(row["peak_rss_mb"], 0),
        )
    return table


def report(stats: dict) -> Group:
    """``kokoro-queue report``: the headline figures, then per worker and per provider."""
    return Group(
        summary_table(stats),
        breakdown_table("worker", [(f"{w['host']}:{w['pid']}", w) for w in stats["workers"]]),
        breakdown_table("provider", [(p["provider"], p) for p in stats["providers"]]),
    )
