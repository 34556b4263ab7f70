"""Flower, the Celery monitor, always behind basic auth."""

import os
import secrets
import sys
from pathlib import Path

from infra.settings import Settings

CREDENTIALS_FILE = "flower-credentials"


def flower_credentials(settings: Settings) -> tuple[str, str, Path | None]:
    """(user, password, file): from KQ_FLOWER_PASSWORD, else generated once and kept in the data
    dir (mode 0600), so a restarted stack keeps the same login. ``file`` is None when the
    password came from the environment."""
    if settings.flower_password:
        return settings.flower_user, settings.flower_password.get_secret_value(), None
    path = settings.data_dir / CREDENTIALS_FILE
    if path.exists():
        user, _, password = path.read_text().strip().partition(":")
        if user == settings.flower_user and password:
            return user, password, path
    password = secrets.token_urlsafe(18)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{settings.flower_user}:{password}\n")
    return settings.flower_user, password, path


def flower_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "worker.app", "flower",
        f"--address={settings.host}",
        f"--port={settings.flower_port}",
        "--purge_offline_workers=300",
    ]  # fmt: skip


def flower_env(settings: Settings, env: dict[str, str]) -> dict[str, str]:
    """Credentials travel in the environment (FLOWER_BASIC_AUTH), never on the command line,
    where any local user could read them with ps."""
    user, password, _ = flower_credentials(settings)
    return {**env, "FLOWER_BASIC_AUTH": f"{user}:{password}"}
