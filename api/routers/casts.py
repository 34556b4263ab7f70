"""/v1/casts: casts saved by name for the books of a series (a job's `cast: "name"`).

A saved cast holds voices only (by character name and by gender, and the narrator's); the
corrections of who says a quote belong to one book, and go in that job's own `cast`.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from api.auth import authenticate
from api.casts import checked_cast_voices
from api.deps import ApiKeyDep, SessionDep, SettingsDep
from api.errors import conflict, not_found
from api.openapi import errors
from api.schemas import CAST_NAME_PATTERN, CastVoicesIn
from storage.casts import TooManyCasts, delete_cast, save_cast, saved_cast, saved_casts
from storage.db import transaction

router = APIRouter(prefix="/v1/casts", tags=["casts"], dependencies=[Depends(authenticate)])

CastName = Annotated[
    str, Path(pattern=CAST_NAME_PATTERN, description="letters, digits, space, . _ -; 1 to 100")
]


class SavedCastOut(CastVoicesIn):
    name: str
    created_at: datetime
    updated_at: datetime


def _out(row) -> SavedCastOut:
    return SavedCastOut(
        name=row.name, created_at=row.created_at, updated_at=row.updated_at, **row.voices
    )


@router.put(
    "/{name}",
    response_model=SavedCastOut,
    status_code=status.HTTP_200_OK,
    responses={201: {"description": "Saved as a new cast"}, **errors(409, 422)},
)
def put_cast(
    name: CastName,
    cast: CastVoicesIn,
    response: Response,
    settings: SettingsDep,
    principal: ApiKeyDep,
) -> SavedCastOut:
    """Save (or replace) the voices of a cast under ``name``; jobs then give `cast: "name"`."""
    voices = checked_cast_voices(settings, cast)
    try:
        with transaction(settings.sqlalchemy_url) as session:
            row, created = save_cast(session, principal.owner, name, voices)
            out = _out(row)
    except TooManyCasts as error:
        raise conflict(str(error)) from error
    if created:
        response.status_code = status.HTTP_201_CREATED
    return out


@router.get("", response_model=list[SavedCastOut])
def list_casts(session: SessionDep, principal: ApiKeyDep) -> list[SavedCastOut]:
    """This key's saved casts, by name."""
    return [_out(row) for row in saved_casts(session, principal.owner)]


@router.get("/{name}", response_model=SavedCastOut, responses=errors(404))
def get_cast(name: CastName, session: SessionDep, principal: ApiKeyDep) -> SavedCastOut:
    row = saved_cast(session, principal.owner, name)
    if row is None:
        raise not_found(f"saved cast {name!r}")
    return _out(row)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
def remove_cast(
    name: CastName,
    settings: SettingsDep,
    principal: ApiKeyDep,
) -> Response:
    with transaction(settings.sqlalchemy_url) as session:
        gone = delete_cast(session, principal.owner, name)
    if not gone:
        raise not_found(f"saved cast {name!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
