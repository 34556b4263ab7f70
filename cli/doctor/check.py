"""One line of the doctor's report (Check), its statuses, and helpers the checks share."""

from dataclasses import dataclass
from pathlib import Path

OK, WARN, FAIL = "ok", "warn", "fail"
TIMEOUT_S = 1.0  # for each service the doctor asks: it only looks, so it never waits long


@dataclass
class Check:
    section: str
    name: str
    status: str
    detail: str
    hint: str | None = None


def file_size(path: Path) -> str:
    """A file's size as the report shows it."""
    return f"{path.stat().st_size:,} bytes"


def hide_password(url: str) -> str:
    """A database or Redis URL fit to print."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse (a Redis URL is fine)
        return url
