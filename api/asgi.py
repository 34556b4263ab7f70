"""Answers that middleware sends itself, before any route (or FastAPI's error handling) runs."""

import json

from starlette.types import Send


async def send_json_error(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()
) -> None:
    """A ``{"detail": ...}`` answer, as every error of the API has."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
