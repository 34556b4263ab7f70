"""``kokoro-queue keys deliver``: where a key's finished books go unless a job says otherwise.

The Audiobookshelf token is read from the terminal (not echoed) or from standard input, never
from the command line, where other users of the machine could see it in the process list.
"""

import argparse
import getpass
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", help="the key's id or shown prefix")
    parser.add_argument(
        "--audiobookshelf",
        metavar="URL",
        help="upload each finished book to this Audiobookshelf server; the API token of a "
        "user who may upload is asked for (or read from standard input)",
    )
    parser.add_argument("--library", help="the Audiobookshelf library id (lib_...)")
    parser.add_argument("--folder", help="the id of the library's folder (fol_...)")
    parser.add_argument(
        "--clear", action="store_true", help="deliver this key's books nowhere (the default)"
    )


def read_token() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Audiobookshelf API token (not shown): ").strip()
    return sys.stdin.readline().strip()


def settings_of(args: argparse.Namespace, allow_private: bool) -> dict | None:
    """The key's delivery settings from the arguments, checked as a job's are; ValueError
    saying what to fix. None: --clear."""
    if args.clear:
        if args.audiobookshelf:
            raise ValueError("give either --audiobookshelf or --clear")
        return None
    if not (args.audiobookshelf and args.library and args.folder):
        raise ValueError("give --audiobookshelf URL --library ID --folder ID, or --clear")
    # Here, not at the top: the other commands do not need the API's schemas
    from pydantic import ValidationError

    from api.schemas import DeliverIn
    from core.jobs.callback_urls import written_address_refusal
    from core.publish.audiobookshelf import URL_USE

    token = read_token()
    if not token:
        raise ValueError("no Audiobookshelf token given: type it when asked, or pipe it in")
    shelf = {
        "url": args.audiobookshelf,
        "token": token,
        "library": args.library,
        "folder": args.folder,
    }
    try:
        deliver = DeliverIn.model_validate({"audiobookshelf": shelf})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in error.errors()
        )
        raise ValueError(problems) from None
    refusal = not allow_private and written_address_refusal(args.audiobookshelf, URL_USE)
    if refusal:
        raise ValueError(refusal)
    return deliver.stored()


def describe(deliver: dict | None) -> str:
    """Where books go, without the secrets."""
    shelf = (deliver or {}).get("audiobookshelf")
    if not shelf:
        return "delivers its finished books nowhere"
    return (
        f"delivers its finished books to Audiobookshelf at {shelf['url']} (library "
        f"{shelf['library']}, folder {shelf['folder']})"
    )
