"""Where `submit -o` and `download -o` write: a trailing slash means a directory."""

from pathlib import Path

import pytest

from cli.client import output_target
from cli.main import build_parser


@pytest.mark.parametrize(
    "argv, count, expected",
    [
        (["submit", "one.txt", "-o", "out/"], 1, (Path("out"), None)),  # bug: wrote a file "out"
        (["submit", "one.txt", "-o", "book.mp3"], 1, (None, Path("book.mp3"))),
        (["submit", "a.txt", "b.txt", "-o", "books"], 2, (Path("books"), None)),
        (["download", "0" * 32, "-o", "out/"], 1, (Path("out"), None)),
        (["download", "0" * 32, "-o", "out.wav"], 1, (None, Path("out.wav"))),
    ],
)
def test_output_names_a_directory_or_a_file(argv, count, expected):
    args = build_parser().parse_args(argv)
    assert output_target(args.output, count) == expected


def test_an_existing_directory_without_a_slash_is_a_directory(tmp_path):
    assert output_target(str(tmp_path), 1) == (tmp_path, None)
    assert output_target(None, 1) == (None, None)
