"""Client commands that talk to the HTTP API: submit, status, download, cancel, jobs."""

import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

FINISHED = {"succeeded", "failed", "cancelled"}
POLL_INTERVAL_S = 1.0


class ApiError(RuntimeError):
    pass


class Client:
    def __init__(self, base_url: str, timeout_s: float = 60.0):
        self.http = httpx.Client(base_url=base_url, timeout=timeout_s)

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

    def submit(self, text: str, **options) -> dict:
        body = {"text": text, **{k: v for k, v in options.items() if v is not None}}
        return self._check(self.http.post("/v1/jobs", json=body)).json()

    def job(self, job_id: str) -> dict:
        return self._check(self.http.get(f"/v1/jobs/{job_id}")).json()

    def jobs(self, limit: int = 20, status: str | None = None) -> list[dict]:
        params = {"limit": limit, **({"status": status} if status else {})}
        return self._check(self.http.get("/v1/jobs", params=params)).json()["jobs"]

    def cancel(self, job_id: str) -> dict:
        return self._check(self.http.post(f"/v1/jobs/{job_id}/cancel")).json()

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


def wait_for(client: Client, job_ids: list[str], console: Console | None = None) -> list[dict]:
    """Poll until every job has finished, with one progress bar per job."""
    console = console or Console(stderr=True)
    finished: dict[str, dict] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        bars = {job_id: progress.add_task(job_id[:8], total=100) for job_id in job_ids}
        while len(finished) < len(job_ids):
            for job_id in job_ids:
                if job_id in finished:
                    continue
                job = client.job(job_id)
                progress.update(
                    bars[job_id],
                    completed=job["progress"]["percent"],
                    description=f"{job_id[:8]} {job['status']}",
                )
                if job["status"] in FINISHED:
                    finished[job_id] = job
            if len(finished) < len(job_ids):
                time.sleep(POLL_INTERVAL_S)
    return [finished[j] for j in job_ids]


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
    jobs = [
        client.submit(path.read_text(encoding="utf-8"), voice=voice, format=fmt, title=path.stem)
        for path in files
    ]
    if not wait:
        return jobs
    results = wait_for(client, [j["id"] for j in jobs])
    failed = [j for j in results if j["status"] != "succeeded"]
    if failed:
        raise ApiError("; ".join(f"job {j['id']} {j['status']}: {j['error']}" for j in failed))
    for path, job in zip(files, results, strict=True):
        target = output or (output_dir or Path(".")) / f"{path.stem}.{job['format']}"
        client.download(job["id"], target)
        job["output"] = str(target)
    return results


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
