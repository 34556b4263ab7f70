"""``kokoro-queue doctor``: is this machine ready?

Every check is one line, ok, warn or fail, with a hint how to fix what is not ok. The doctor
only looks: it never assembles the model, creates the SQLite file or runs migrations.

This module runs the checks in order and prints the report; the checks themselves are in
cli.doctor.install (Python, packages, providers), cli.doctor.files (model and voices) and
cli.doctor.services (Redis, database, workers, API, Flower), their lines in cli.doctor.check.
"""

import json
from collections.abc import Callable
from dataclasses import asdict

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.doctor.check import FAIL, OK, WARN, Check
from cli.doctor.files import check_model, check_voices
from cli.doctor.install import check_providers, check_versions
from cli.doctor.services import (
    check_api,
    check_database,
    check_flower,
    check_redis,
    check_workers,
)
from infra.settings import Settings

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
