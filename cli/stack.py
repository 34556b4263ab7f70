"""Running the services: ``up`` (everything for one machine), ``api`` and ``worker``."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cli.embedded_redis import redis_answers, start_embedded_redis
from cli.flower import flower_command, flower_credentials, flower_env
from infra.model_files import resolve_model_files
from infra.settings import Settings
from storage.migrate import upgrade

STOP_GRACE_S = 30.0
READY_TIMEOUT_S = 180.0


GRACEFUL_TIMEOUT_S = 20


def api_command(settings: Settings) -> list[str]:
    """uvicorn for one process; gunicorn with uvicorn workers for several (production)."""
    if settings.api_workers == 1:
        return [
            sys.executable, "-m", "uvicorn", "api.main:app",
            "--host", settings.host, "--port", str(settings.port),
            "--no-access-log", "--timeout-graceful-shutdown", str(GRACEFUL_TIMEOUT_S),
        ]  # fmt: skip
    return [
        sys.executable, "-m", "gunicorn", "api.main:app",
        "--worker-class", "uvicorn_worker.UvicornWorker",
        "--workers", str(settings.api_workers),
        "--bind", f"{settings.host}:{settings.port}",
        "--graceful-timeout", str(GRACEFUL_TIMEOUT_S),
        # Recycle API processes now and then, staggered so they never restart together
        "--max-requests", "10000", "--max-requests-jitter", "1000",
    ]  # fmt: skip


def worker_command(
    settings: Settings, pool: str | None = None, loglevel: str = "INFO"
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker.app",
        "worker",
        "--pool",
        pool or "prefork",
        "--concurrency",
        str(settings.worker_concurrency),
        "--queues",
        settings.queue,
        "--hostname",
        f"kq-{os.getpid()}@%h",
        "--loglevel",
        loglevel,
        "--without-mingle",
        "--without-gossip",
    ]


def worker_process_command(settings: Settings) -> list[str]:
    """The worker as KQ_WORKER_POOL says: Celery's prefork pool, or the supervisor of
    one-process workers started by exec (worker/supervisor.py)."""
    if settings.worker_pool == "processes":
        return [sys.executable, "-m", "worker.supervisor"]
    return worker_command(settings)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that hands these settings to child processes: every field of the
    settings object, so a new setting needs no list kept here."""
    env = dict(os.environ)
    env.update(settings.as_env())
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Stack:
    """Child processes started by ``up``, stopped together in reverse order."""

    settings: Settings
    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def spawn(self, name: str, command: list[str], **kwargs) -> subprocess.Popen:
        # Own session: Ctrl-C reaches only `up`, which then stops the children in order
        process = subprocess.Popen(
            command, start_new_session=True, stdin=subprocess.DEVNULL, **kwargs
        )
        self.children.append((name, process))
        return process

    def failed_child(self) -> str | None:
        for name, process in self.children:
            if process.poll() is not None:
                return f"{name} exited with code {process.returncode}"
        return None

    def stop(self) -> None:
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for _, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def check_api_host(settings: Settings) -> None:
    """Refuse to serve beyond loopback without API keys (api.auth.check_bind)."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.auth import check_bind
    from storage.api_keys import any_active_key
    from storage.db import session_factory

    try:
        with session_factory(settings.sqlalchemy_url, readonly=True)() as session:
            keys_in_database = any_active_key(session)
    except SQLAlchemyError:  # no database yet: then it has no keys either
        keys_in_database = False
    check_bind(settings, settings.host, keys_in_database)


def prepare(settings: Settings, say=print) -> None:
    """Data dir, migrations and the assembled model: what every process then expects."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)
    check_api_host(settings)
    files = resolve_model_files(settings)
    say(f"model   {files.model}")
    say(f"voices  {files.voices}")


def wait_until_ready(stack: Stack, base_url: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        failure = stack.failed_child()
        if failure:
            raise RuntimeError(failure)
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=5)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as error:
            last = str(error)
        time.sleep(0.5)
    raise RuntimeError(f"the stack was not ready after {timeout_s:.0f} s: {last}")


def run_up(settings: Settings, sample: Path | None, say=print) -> int:
    stack = Stack(settings)
    stopping = False

    def _stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        if not redis_answers(settings.redis_url):
            say(f"redis   {settings.redis_url} does not answer; starting the embedded Redis")
            stack.children.append(
                ("redis", start_embedded_redis(settings.redis_url, settings.data_dir))
            )
        prepare(settings, say)
        env = settings_env(settings)
        stack.spawn("api", api_command(settings), env=env)
        stack.spawn("worker", worker_process_command(settings), env=env)
        stack.spawn("flower", flower_command(settings), env=flower_env(settings, env))
        base_url = f"http://{settings.host}:{settings.port}"
        wait_until_ready(stack, base_url)
        user, password, stored = flower_credentials(settings)
        say(f"api     {base_url}  (docs: {base_url}/docs, dashboard: {base_url}/dashboard)")
        flower_url = f"http://{settings.host}:{settings.flower_port}"
        say(f"flower  {flower_url}  user {user}  password {password}")
        if stored:
            say(f"        (generated; kept in {stored}; set KQ_FLOWER_PASSWORD to choose one)")
        say(f"redis   {settings.redis_url}")
        say(f"db      {settings.sqlalchemy_url}")
        threads = settings.threads_per_child
        say(f"workers {settings.worker_concurrency} processes x {threads} ONNX threads")
        if sample is not None:
            from cli.client import Client, submit_and_download

            output = settings.data_dir / "sample.wav"
            # With keys configured the sample goes in as KQ_API_KEY, else the first of KQ_API_KEYS
            key = os.environ.get("KQ_API_KEY") or next(iter(settings.env_api_keys), None)
            submit_and_download(
                Client(base_url, api_key=key), [sample], output_dir=None, output=output, fmt="wav"
            )
            say(f"sample  {output.resolve()}")
        say("ready; Ctrl-C stops everything")
        while not stopping:
            failure = stack.failed_child()
            if failure:
                say(f"stopping: {failure}")
                return 1
            time.sleep(0.5)
        return 0
    finally:
        say("stopping ...")
        stack.stop()
        say("stopped")
