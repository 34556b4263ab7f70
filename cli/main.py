"""The ``kokoro-queue`` command."""

import argparse
import json
import os
import sys
from pathlib import Path

from rich.console import Console

from cli.key_delivery import add_arguments as add_delivery_arguments
from cli.models import add_arguments as add_models_arguments
from core.audio.formats import AudioFormat
from core.text.markup import MARKUP_MODES

SAMPLE = Path(__file__).resolve().parent.parent / "core" / "sample.txt"


def _settings(args: argparse.Namespace):
    from infra.settings import Settings

    overrides = {
        "data_dir": getattr(args, "data_dir", None),
        "port": getattr(args, "port", None),
        "host": getattr(args, "host", None),
        "worker_concurrency": getattr(args, "workers", None),
        "redis_url": getattr(args, "redis_url", None),
        "flower_port": getattr(args, "flower_port", None),
        "api_workers": getattr(args, "api_workers", None),
        "queue": getattr(args, "queue", None),
        "worker_max_memory_mb": getattr(args, "max_memory_mb", None),
        "worker_max_tasks_per_child": getattr(args, "max_tasks_per_child", None),
    }
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def cmd_up(args) -> int:
    from cli.stack import run_up

    return run_up(_settings(args), SAMPLE if args.sample else None)


def cmd_api(args) -> int:
    from cli.stack import api_command, check_api_host, settings_env

    settings = _settings(args)
    check_api_host(settings)
    os.execvpe(sys.executable, api_command(settings), settings_env(settings))


def cmd_worker(args) -> int:
    from cli.stack import settings_env, worker_command

    settings = _settings(args)
    if args.processes is not None or (args.pool is None and settings.worker_pool == "processes"):
        from worker.supervisor import run_supervisor

        if args.processes is not None:
            settings = settings.model_copy(update={"worker_concurrency": args.processes})
        return run_supervisor(settings, settings_env(settings))
    os.execvpe(sys.executable, worker_command(settings, pool=args.pool), settings_env(settings))


def cmd_flower(args) -> int:
    from cli.flower import flower_command, flower_credentials, flower_env
    from cli.stack import settings_env

    settings = _settings(args)
    user, password, stored = flower_credentials(settings)
    where = f"kept in {stored}" if stored else "from KQ_FLOWER_PASSWORD"
    print(f"flower  http://{settings.host}:{settings.flower_port}  user {user}  ({where})")
    env = flower_env(settings, settings_env(settings))
    os.execvpe(sys.executable, flower_command(settings), env)


def cmd_db(args) -> int:
    from storage.migrate import current_revision, upgrade

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)
    print(f"database at revision {current_revision(settings.sqlalchemy_url)}")
    return 0


def cmd_doctor(args) -> int:
    from cli.doctor import run_doctor

    return run_doctor(lambda: _settings(args), as_json=args.json)


def cmd_models(args) -> int:
    from cli.models import run_models

    return run_models(args, _settings(args))


def cmd_bench(args) -> int:
    if not args.providers:
        print("kokoro-queue: bench measures --providers (say so)", file=sys.stderr)
        return 2
    if args.chunks is not None and args.chunks < 1:
        print("kokoro-queue: --chunks needs at least 1", file=sys.stderr)
        return 2
    from cli.bench_providers import DEFAULT_CHUNKS, run_bench

    chunks = args.chunks or DEFAULT_CHUNKS
    return run_bench(_settings(args), chunks=chunks, as_json=args.json)


def cmd_keys(args) -> int:
    from storage.api_keys import create_key, list_keys, revoke_key
    from storage.db import transaction
    from storage.migrate import upgrade

    settings = _settings(args)
    deliver = None
    if args.action == "deliver":
        # Asked for (the token) before the transaction: a writer holds SQLite's lock
        from cli.key_delivery import settings_of

        try:
            deliver = settings_of(args, settings.deliver_allow_private)
        except ValueError as error:
            print(f"kokoro-queue: {error}", file=sys.stderr)
            return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)
    with transaction(settings.sqlalchemy_url) as session:
        if args.action == "create":
            created = create_key(
                session,
                args.name,
                max_queued_jobs=args.max_queued_jobs,
                max_text_chars=args.max_text_chars,
            )
            print(f"created key {created.row.id} ({args.name}); shown only now, keep it safe:")
            print(created.key)
        elif args.action == "list":
            for key in list_keys(session):
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
                limits = f"jobs<={key.max_queued_jobs or '-'} chars<={key.max_text_chars or '-'}"
                deliver = f"  deliver: {', '.join(sorted(key.deliver))}" if key.deliver else ""
                print(f"{key.id}  {key.prefix}…  {key.name:<20}  {state:<24}  {limits}{deliver}")
        elif args.action == "deliver":
            return _key_delivery(session, args.key, deliver)
        else:
            revoked = revoke_key(session, args.key)
            if revoked is None:
                print(f"kokoro-queue: no one key has id or prefix {args.key!r}", file=sys.stderr)
                return 1
            print(f"revoked {revoked.id} ({revoked.name})")
    return 0


def _key_delivery(session, id_or_prefix: str, deliver: dict | None) -> int:
    from cli.key_delivery import describe
    from storage.deliveries import set_key_delivery

    key = set_key_delivery(session, id_or_prefix, deliver)
    if key is None:
        print(f"kokoro-queue: no one key has id or prefix {id_or_prefix!r}", file=sys.stderr)
        return 1
    print(f"key {key.id} ({key.name}) {describe(deliver)}")
    return 0


def cmd_reconcile(args) -> int:
    from worker.app import app
    from worker.reconciler import reconcile_once

    result = reconcile_once(app, _settings(args))
    print(
        f"sent again: {len(result.chunks)} chunks, {len(result.assemblies)} assemblies; "
        f"failed: {len(result.failed_jobs)} jobs"
    )
    for job_id, error in result.failed_jobs.items():
        print(f"  {job_id}: {error}")
    return 0


def _client(args):
    from cli.client import Client

    return Client(args.api_url, api_key=args.api_key)


def cmd_submit(args) -> int:
    from cli.client import output_target, submit_and_download

    output_dir, output = output_target(args.output, len(args.files))
    jobs = submit_and_download(
        _client(args),
        args.files,
        output_dir=output_dir,
        output=output,
        fmt=args.format,
        voice=args.voice,
        wait=args.wait,
    )
    for job in jobs:
        print(job.get("output") or job["id"])
    return 0


def cmd_status(args) -> int:
    print(json.dumps(_client(args).job(args.job_id), indent=2))
    return 0


def cmd_download(args) -> int:
    from cli.client import output_target

    client = _client(args)
    output_dir, output = output_target(args.output, 1)
    if output is None:
        output = output_dir / f"{args.job_id}.{client.job(args.job_id)['format']}"
    print(client.download(args.job_id, output))
    return 0


def revision_change(args) -> dict:
    """The body of a revision from ``kokoro-queue revise`` options (chapters counted from 1,
    as a reader counts them; the API counts from 0)."""
    change: dict = {}
    if args.text:
        change["text"] = Path(args.text).read_text(encoding="utf-8")
    for number, path in args.chapter or []:
        change.setdefault("chapters", {})[str(int(number) - 1)] = Path(path).read_text(
            encoding="utf-8"
        )
    for number, voice in (pair.split("=", 1) for pair in args.chapter_voice or []):
        change.setdefault("chapter_voices", {})[str(int(number) - 1)] = voice
    for word, phonemes in (pair.split("=", 1) for pair in args.pronounce or []):
        change.setdefault("pronunciations", {})[word] = {"phonemes": phonemes}
    if args.unpronounce:
        change["remove_pronunciations"] = args.unpronounce
    for name in ("voice", "speed", "format", "title", "author"):
        if getattr(args, name) is not None:
            change[name] = getattr(args, name)
    return change


def cmd_revise(args) -> int:
    answer = _client(args).revise(args.job_id, revision_change(args), dry_run=args.dry_run)
    if args.dry_run:
        for item in answer["changes"]:
            print(f"chunk {item['index']} (chapter {item['chapter'] + 1}):")
            print(f"  - {item['before']}\n  + {item['after']}")
        print(f"{answer['chunks_to_make']} of {answer['chunks_total']} parts would be made again")
    else:
        print(answer["id"])
    return 0


def cmd_cancel(args) -> int:
    print(_client(args).cancel(args.job_id)["status"])
    return 0


def cmd_preview(args) -> int:
    from cli.client import preview_text

    source = sys.stdin.read() if args.file == "-" else Path(args.file)
    options = {"voice": args.voice, "lang": args.lang, "markup": args.markup}
    preview = _client(args).preview(source, **options)
    console = Console(highlight=False)
    # On a terminal changes are coloured; piped, they are marked so they survive as text
    marks = None if console.is_terminal else ("«", "»")
    console.print(preview_text(preview, marks), end="", soft_wrap=True)
    console.print(
        f"\n{len(preview['chunks'])} chunks, about {preview['estimated_audio_seconds']:.0f} s "
        "of audio",
        style="dim",
    )
    return 0


def cmd_jobs(args) -> int:
    from cli.client import jobs_table

    Console().print(jobs_table(_client(args).jobs(limit=args.limit, status=args.status)))
    return 0


def cmd_report(args) -> int:
    stats = _client(args).stats(since=args.since)
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        from cli.client import report

        Console().print(report(stats))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kokoro-queue", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def stack_options(p):
        p.add_argument(
            "--data-dir", type=Path, help="where the DB, audio and model live (KQ_DATA_DIR)"
        )
        p.add_argument("--redis-url", help="broker URL (KQ_REDIS_URL)")

    up = commands.add_parser("up", help="the whole stack for one machine, in the foreground")
    stack_options(up)
    up.add_argument("--port", type=int, help="API port (KQ_PORT)")
    up.add_argument("--workers", type=int, help="worker processes (KQ_WORKER_CONCURRENCY)")
    up.add_argument("--flower-port", type=int, help="Flower port (KQ_FLOWER_PORT)")
    up.add_argument(
        "--sample", action="store_true", help="synthesize the bundled sample once ready"
    )
    up.set_defaults(func=cmd_up)

    api = commands.add_parser("api", help="the HTTP API")
    stack_options(api)
    api.add_argument("--host", help="address to listen on (KQ_HOST); beyond loopback needs keys")
    api.add_argument("--port", type=int)
    api.add_argument(
        "--workers", dest="api_workers", type=int, help="API processes: >1 runs gunicorn"
    )
    api.set_defaults(func=cmd_api)

    worker = commands.add_parser("worker", help="a Celery worker with Kokoro sessions")
    stack_options(worker)
    worker.add_argument("--workers", type=int, help="pool processes (KQ_WORKER_CONCURRENCY)")
    worker.add_argument("--pool", choices=["prefork", "threads", "solo"])
    worker.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="N one-process workers started by exec, each recycled on its own "
        "(KQ_WORKER_POOL=processes; the default on macOS)",
    )
    worker.add_argument("--queue", help="queue to consume (KQ_QUEUE)")
    worker.add_argument("--max-memory-mb", type=int, help="recycle a child above this RSS")
    worker.add_argument("--max-tasks-per-child", type=int, help="recycle a child after N tasks")
    worker.set_defaults(func=cmd_worker)

    flower = commands.add_parser("flower", help="Flower, the Celery monitor, with basic auth")
    stack_options(flower)
    flower.add_argument("--flower-port", type=int, help="port (KQ_FLOWER_PORT)")
    flower.set_defaults(func=cmd_flower)

    db = commands.add_parser("db", help="database migrations")
    stack_options(db)
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db)

    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    stack_options(keys)
    key_actions = keys.add_subparsers(dest="action", required=True)
    create = key_actions.add_parser("create", help="a new key, printed once")
    create.add_argument("name", help="whose key it is")
    create.add_argument("--max-queued-jobs", type=int, help="unfinished jobs at once")
    create.add_argument("--max-text-chars", type=int, help="characters per job")
    key_actions.add_parser("list", help="every key, without the secret")
    key_actions.add_parser("revoke", help="stop a key working").add_argument(
        "key", help="its id or shown prefix"
    )
    add_delivery_arguments(
        key_actions.add_parser(
            "deliver", help="where the key's finished books go (Audiobookshelf), or --clear"
        )
    )
    keys.set_defaults(func=cmd_keys)

    reconcile = commands.add_parser(
        "reconcile", help="send again the work whose task the broker lost (workers do this too)"
    )
    stack_options(reconcile)
    reconcile.set_defaults(func=cmd_reconcile)

    doctor = commands.add_parser(
        "doctor", help="is this machine ready? versions, providers, model, Redis, DB, workers"
    )
    stack_options(doctor)
    doctor.add_argument("--flower-port", type=int, help="Flower port to look at (KQ_FLOWER_PORT)")
    doctor.add_argument("--json", action="store_true", help="the checks as a JSON list")
    doctor.set_defaults(func=cmd_doctor)

    models = commands.add_parser(
        "models", help="the official model and voices files: list, download, verify"
    )
    add_models_arguments(models)
    models.set_defaults(func=cmd_models)

    bench = commands.add_parser("bench", help="measure this machine (--providers)")
    bench.add_argument(
        "--providers",
        action="store_true",
        help="each ONNX Runtime provider configuration here (CPU, CoreML compute units, CUDA): "
        "load, warm-up, seconds per chunk, characters per second, real-time factor",
    )
    bench.add_argument("--chunks", type=int, help="sentence-sized chunks to time (default 10)")
    bench.add_argument("--json", action="store_true", help="JSON instead of a Markdown table")
    bench.set_defaults(func=cmd_bench)

    def client_command(name, func, help_):
        p = commands.add_parser(name, help=help_)
        p.add_argument("--api-url", default=os.environ.get("KQ_API_URL", "http://127.0.0.1:8000"))
        p.add_argument(
            "--api-key", default=os.environ.get("KQ_API_KEY"), help="API key (KQ_API_KEY)"
        )
        p.set_defaults(func=func)
        return p

    submit = client_command(
        "submit",
        cmd_submit,
        "submit book files (.txt, .md, .epub, .pdf, .docx, .html, .fb2) as jobs",
    )
    submit.add_argument("files", nargs="+", type=Path)
    submit.add_argument("--voice")
    submit.add_argument("--format", choices=[fmt.value for fmt in AudioFormat])
    submit.add_argument("--wait", action="store_true", help="show progress and download when done")
    # A string, not a Path: Path drops the trailing slash that says "a directory"
    submit.add_argument(
        "-o", "--output", help="output file; a directory (DIR/) for one file per book"
    )

    client_command("status", cmd_status, "a job's status").add_argument("job_id")
    download = client_command("download", cmd_download, "download a job's audio")
    download.add_argument("job_id")
    download.add_argument("-o", "--output", required=True, help="output file, or DIR/")
    client_command("cancel", cmd_cancel, "cancel a job").add_argument("job_id")
    revise = client_command(
        "revise", cmd_revise, "make a job again with only what changed (unchanged parts reused)"
    )
    revise.add_argument("job_id")
    revise.add_argument("--text", help="a file with the whole new text")
    revise.add_argument(
        "--chapter", nargs=2, action="append", metavar=("N", "FILE"), help="chapter N's new text"
    )
    revise.add_argument("--chapter-voice", action="append", metavar="N=VOICE")
    revise.add_argument("--pronounce", action="append", metavar="WORD=PHONEMES")
    revise.add_argument("--unpronounce", action="append", metavar="WORD")
    revise.add_argument("--voice")
    revise.add_argument("--speed", type=float)
    revise.add_argument("--format", choices=[fmt.value for fmt in AudioFormat])
    revise.add_argument("--title")
    revise.add_argument("--author")
    revise.add_argument("--dry-run", action="store_true", help="say what would be made")
    preview = client_command(
        "preview", cmd_preview, "what a job would say: the spoken form, changes highlighted"
    )
    preview.add_argument(
        "file",
        help="a book file (.txt, .md, .epub, .pdf, .docx, .html, .fb2), or - for text on stdin",
    )
    preview.add_argument("--voice")
    preview.add_argument("--lang")
    preview.add_argument("--markup", choices=MARKUP_MODES)
    jobs = client_command("jobs", cmd_jobs, "list recent jobs")
    jobs.add_argument("--limit", type=int, default=20)
    jobs.add_argument("--status")
    report = client_command("report", cmd_report, "throughput: jobs, chunks, rates, workers")
    report.add_argument(
        "--since", help="ISO 8601 with a timezone, e.g. 2026-01-01T00:00:00Z (default: 1 h ago)"
    )
    report.add_argument("--json", action="store_true", help="the raw JSON of GET /v1/stats")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except Exception as error:  # a clear message, not a traceback, for expected failures
        from cli.client import ApiError

        if isinstance(error, ApiError | OSError | RuntimeError):  # UnsafeBind included
            print(f"kokoro-queue: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
