"""Doctor checks of the services a stack runs on: Redis, the database and its migrations, the
workers on our queue, the API and Flower. Each is asked once, with a short timeout."""

from pathlib import Path

from cli.doctor.check import FAIL, OK, TIMEOUT_S, WARN, Check, hide_password
from infra.settings import Settings


def check_redis(settings: Settings) -> list[Check]:
    import redis

    from infra.queue import broker_queue_depth

    url = hide_password(settings.redis_url)
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


def check_database(settings: Settings) -> list[Check]:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from storage.migrate import head_revision

    url = settings.sqlalchemy_url
    shown = hide_password(url)
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


def check_workers(settings: Settings, redis_ok: bool) -> list[Check]:
    from infra.queue import make_celery

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
