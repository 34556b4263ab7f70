"""``kokoro-queue models``: list, download and verify the official model and voices files.

``download`` defaults to ``--variant int8``. What English readers lack is the voices:
``voices-v1.0.bin`` brings af_heart and the other English voices, where the embedded ones are
Japanese. The int8 model is the one the service's speed and memory were measured with on CPU,
and it is the very file already assembled from the embedded packages, so the default download
costs only the voices (28 MB). fp32 (325 MB) and fp16 (177 MB) are for those who choose to
pay their size for what they hear; nothing here measured them faster on a CPU. Once installed,
the service prefers them (infra.model_files says in which order).
"""

import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path

from infra.model_files import EMBEDDED_VARIANT, OFFICIAL_MODELS, OFFICIAL_VOICES, KnownFile

DEFAULT_VARIANT = EMBEDDED_VARIANT


def add_arguments(parser: ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list", help="the official files, which are installed, and which ones the service uses"
    )
    about_download = (
        "fetch the official files into DATA_DIR/models (resumable, hash-checked); "
        "voices-v1.0.bin is what brings af_heart and the other English voices"
    )
    download = actions.add_parser("download", help=about_download, description=about_download)
    download.add_argument(
        "--variant",
        choices=list(OFFICIAL_MODELS),
        default=DEFAULT_VARIANT,
        help=f"which model (default {DEFAULT_VARIANT}: the embedded one, assembled locally "
        "when its packages are installed); the service prefers fp32, then fp16, once installed",
    )
    download.add_argument(
        "--no-voices", action="store_true", help="the model only, not voices-v1.0.bin"
    )
    download.add_argument(
        "--asr",
        action="store_true",
        help="instead: the speech recognizer proof-listening uses (Whisper tiny.en for "
        "CTranslate2, 78 MB, from KQ_ASR_MODEL_BASE_URL) into DATA_DIR/models/whisper-tiny.en",
    )
    verify = actions.add_parser(
        "verify", help="hash every installed official file again (exit 1 on a mismatch)"
    )
    for action in (listing, download, verify):
        action.add_argument(
            "--data-dir", type=Path, help="where the models directory is (KQ_DATA_DIR)"
        )


def run_models(args: Namespace, settings) -> int:
    command = {"list": list_files, "download": download, "verify": verify}[args.action]
    return command(args, settings)


def _state(models_dir: Path, known: KnownFile) -> str:
    from infra.model_download import part_path
    from infra.model_files import mismatch

    path, part = models_dir / known.name, part_path(models_dir, known)
    if path.exists():
        problem = mismatch(path, known)
        return "installed, sha256 ok" if problem is None else f"wrong file, not used: {problem}"
    if part.exists():
        return f"partial: {part.stat().st_size:,} bytes; `models download` resumes it"
    return "not installed"


def _print_in_use(console, settings) -> None:
    from rich.markup import escape

    from infra.model_files import FROM_EMBEDDED, choose_model, choose_voices

    for label, choice in (("model", choose_model(settings)), ("voices", choose_voices(settings))):
        pending = choice.source == FROM_EMBEDDED and not choice.path.exists()
        why = choice.reason + ("; assembled at the first start" if pending else "")
        # soft_wrap: a path cut in two could not be copied
        console.print(f"{label:<7} {escape(str(choice.path))}", soft_wrap=True)
        console.print(f"        {escape(why)}", style="dim", soft_wrap=True)
        for note in choice.passed_over:
            console.print(f"        [yellow]passed over[/] {escape(note)}", soft_wrap=True)


def list_files(args: Namespace, settings) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    models_dir = settings.models_dir
    table = Table(title=f"official files in {escape(str(models_dir))}", title_justify="left")
    for column in ("file", "variant", "bytes", "state"):
        table.add_column(column, justify="right" if column == "bytes" else "left")
    for variant, known in OFFICIAL_MODELS.items():
        state = _state(models_dir, known)
        if variant == EMBEDDED_VARIANT:
            state += " (the embedded model)"
        table.add_row(known.name, variant, f"{known.size:,}", state)
    voices_state = _state(models_dir, OFFICIAL_VOICES)
    table.add_row(OFFICIAL_VOICES.name, "voices", f"{OFFICIAL_VOICES.size:,}", voices_state)
    console.print(table)
    console.print(f"from {escape(settings.model_base_url)}", style="dim")
    console.print("in use:", style="bold")
    _print_in_use(console, settings)
    return 0


def _assembled_locally(models_dir: Path) -> bool:
    """The int8 model from the embedded packages: the same bytes as the release's, no network."""
    from infra.model_files import ModelFilesError, assemble_embedded_model

    try:
        assemble_embedded_model(models_dir)
    except ModelFilesError:  # its packages are missing: download it instead
        return False
    return True


def download(args: Namespace, settings) -> int:
    if args.asr:
        return download_recognizer(settings)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from infra.model_download import download_files

    console = Console(highlight=False)
    models_dir = settings.models_dir
    files = [] if args.no_voices else [OFFICIAL_VOICES]
    model = OFFICIAL_MODELS[args.variant]
    if args.variant == EMBEDDED_VARIANT and _assembled_locally(models_dir):
        console.print(f"{model.name}: the embedded model, assembled from its packages, sha256 ok")
    else:
        files.insert(0, model)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    # A bar only on a terminal: piped or logged, the one line per file below says it all
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        tasks = {}

        def show(known: KnownFile, done: int) -> None:
            if known.name not in tasks:
                tasks[known.name] = progress.add_task(known.name, total=known.size)
            progress.update(tasks[known.name], completed=done)

        for known, fetched in download_files(
            settings.model_base_url, files, models_dir, progress=show
        ):
            what = "downloaded" if fetched else "already installed"
            progress.console.print(f"{known.name}: {what}, sha256 ok")
    console.print("in use:", style="bold")
    _print_in_use(console, settings)
    return 0


def download_recognizer(settings) -> int:
    """The recognizer proof-listening uses (docs/proof.md), hash-checked like the model."""
    from infra.asr_model import ASR_FILES, asr_model_dir, downloaded_asr_dir
    from infra.model_download import DownloadError, download_files

    target = downloaded_asr_dir(settings)
    try:
        for known, fetched in download_files(settings.asr_model_base_url, ASR_FILES, target):
            print(f"{known.name}: {'downloaded' if fetched else 'already installed'}, sha256 ok")
    except DownloadError as error:
        # Its messages name the Kokoro files' settings: these are the recognizer's
        raise DownloadError(
            f"{error} For the recognizer: set KQ_ASR_MODEL_BASE_URL to a mirror of "
            "Systran/faster-whisper-tiny.en, or copy a CTranslate2 Whisper model directory "
            "to this machine and set KQ_ASR_MODEL_DIR to it."
        ) from error
    print(f"recognizer in use: {asr_model_dir(settings)}")
    return 0


def verify(args: Namespace, settings) -> int:
    from infra.model_files import check_installed

    models_dir = settings.models_dir
    results = check_installed(models_dir, [*OFFICIAL_MODELS.values(), OFFICIAL_VOICES])
    if not results:
        print(f"no official or assembled model file in {models_dir}: nothing to verify")
        return 0
    embedded_name = OFFICIAL_MODELS[EMBEDDED_VARIANT].name
    for path, problem in results:
        verdict = "OK" if problem is None else "MISMATCH"
        embedded = " (the embedded model)" if path.name == embedded_name else ""
        print(f"{verdict:<9} {path}{embedded}  {problem or 'sha256 ok'}")
    if any(problem for _, problem in results):
        print(
            "A file marked MISMATCH is never used. `kokoro-queue models download` (with its "
            "--variant) fetches it again; the embedded int8 model is reassembled at the next "
            "start.",
            file=sys.stderr,
        )
        return 1
    return 0
