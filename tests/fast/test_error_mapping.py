"""Every error answer of the API is made in ``api/errors.py``: routes raise its helpers, and
middlewares and exception handlers answer with its ``error_response``; no other module builds
an ``HTTPException`` or a ``{"detail": ...}`` JSONResponse of its own. And every status the
helpers answer is one ``api/openapi.py`` can document."""

import ast
import inspect
import typing
from pathlib import Path

import pytest
from fastapi import HTTPException

from api import errors, openapi

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[2]
ERRORS_MODULE = ROOT / "api" / "errors.py"


def _called_name(call: ast.Call, aliases: dict[str, str]) -> str | None:
    """The name a call calls (``HTTPException(...)``, ``fastapi.HTTPException(...)``), through
    ``import ... as`` aliases."""
    if isinstance(call.func, ast.Name):
        return aliases.get(call.func.id, call.func.id)
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _is_plain_body(content: ast.expr | None) -> bool:
    """A JSONResponse body that is no error answer: a dict written out, without "detail"."""
    if not isinstance(content, ast.Dict) or None in content.keys:  # None: a ** unpacking
        return False
    return not any(isinstance(k, ast.Constant) and k.value == "detail" for k in content.keys)


def error_answers_made(source: str) -> list[tuple[int, str]]:
    """(line, what) of each error answer ``source`` makes itself."""
    tree = ast.parse(source)
    aliases = {
        alias.asname: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname
    }
    made = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node, aliases)
        if name == "HTTPException":
            made.append((node.lineno, "HTTPException(...)"))
        elif name == "JSONResponse":
            content = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "content":
                    content = keyword.value
            if not _is_plain_body(content):
                made.append((node.lineno, "JSONResponse with a detail body"))
    return made


def api_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "api").rglob("*.py") if p != ERRORS_MODULE)


@pytest.mark.parametrize(
    "source",
    [
        "from fastapi import HTTPException\nraise HTTPException(404, 'no such file')",
        "import fastapi\nraise fastapi.HTTPException(status_code=409, detail='busy')",
        "from starlette.exceptions import HTTPException as E\nraise E(503)",
        "answer = JSONResponse({'detail': 'too large'}, 413)",
        "answer = JSONResponse(content={'detail': 'too large'}, status_code=413)",
        "answer = JSONResponse(body, 403)",
        "answer = JSONResponse({**extra, 'ready': False}, 503)",
    ],
)
def test_the_scan_sees_an_error_answer_made_by_hand(source):
    assert error_answers_made(source)


def test_the_scan_lets_other_json_be():
    source = "JSONResponse({'ready': ready, 'checks': checks}, 503)\nraise not_found('job x')"
    assert error_answers_made(source) == []


def test_no_api_module_makes_an_error_answer_but_api_errors():
    modules = api_modules()
    assert len(modules) > 20, "the scan found too few modules: is ROOT right?"
    made = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in modules
        for line, what in error_answers_made(path.read_text(encoding="utf-8"))
    ]
    assert made == [], (
        "raise a helper of api/errors.py (or answer with its error_response) instead:\n"
        + "\n".join(made)
    )


DUMMIES: dict[object, object] = {
    str: "what is wrong, and how to fix it",
    int: 5,
    Exception: ConnectionError("connection refused"),
}


def error_helpers() -> list:
    """The functions of api/errors.py that make an error to raise."""
    return [
        function
        for name, function in inspect.getmembers(errors, inspect.isfunction)
        if function.__module__ == errors.__name__
        and not name.startswith("_")
        and typing.get_type_hints(function).get("return") is HTTPException
    ]


def raised_by(helper) -> HTTPException:
    """What ``helper`` answers, called with a made-up value for each argument it needs."""
    hints = typing.get_type_hints(helper)
    arguments = {
        name: DUMMIES[hints[name]]
        for name, parameter in inspect.signature(helper).parameters.items()
        if parameter.default is inspect.Parameter.empty
    }
    return helper(**arguments)


def test_the_helpers_are_found():
    names = {helper.__name__ for helper in error_helpers()}
    assert {"not_found", "unprocessable", "queue_unreachable"} <= names
    assert len(names) >= 8


@pytest.mark.parametrize("helper", error_helpers(), ids=lambda helper: helper.__name__)
def test_each_helper_answers_a_status_openapi_documents(helper):
    error = raised_by(helper)
    assert isinstance(error, HTTPException)
    assert isinstance(error.detail, str) and error.detail
    assert error.status_code in openapi.ERRORS, (
        f"{helper.__name__} answers {error.status_code}, which api/openapi.py's ERRORS does "
        "not describe: add it there"
    )
    documented = openapi.errors(error.status_code)[error.status_code]
    assert documented["description"] == openapi.ERRORS[error.status_code]


def test_error_response_is_the_body_every_error_has():
    answer = errors.error_response(503, "down; retry", headers={"Retry-After": "5"})
    assert answer.status_code == 503
    assert answer.body == b'{"detail":"down; retry"}'
    assert answer.headers["retry-after"] == "5"
