"""A cast's voices checked against this server's, and a job's `cast: "name"`: the saved cast
read in its place before the job is checked and planned (the planning runs in a reading
process, which holds no database session)."""

from api.auth import Principal
from api.errors import unprocessable
from api.schemas import CastVoicesIn, JobCast, JobCreate
from core.voices.specs import canonical_voice
from infra.model_files import list_voices
from infra.settings import Settings
from storage.casts import saved_cast
from storage.db import session_factory


def checked_cast_voices(settings: Settings, cast: CastVoicesIn) -> dict:
    """The cast's voices, each in its canonical form (as a job stores its `voice`); 422 naming
    the role of one this server lacks."""
    available = list_voices(settings)

    def check(spec: str | None, role: str) -> str | None:
        if spec is None:
            return None
        try:
            return canonical_voice(spec, available)
        except ValueError as error:
            raise unprocessable(f"cast {role}: {error}") from error

    return {
        "narrator": check(cast.narrator, "narrator"),
        "characters": {name: check(v, repr(name)) for name, v in cast.characters.items()},
        "female": check(cast.female, "female"),
        "male": check(cast.male, "male"),
        "unknown": check(cast.unknown, "unknown"),
    }


def with_saved_cast(settings: Settings, principal: Principal, body: JobCreate) -> JobCreate:
    """``body`` with its saved cast's voices in place of its name (422 for a name this key has
    not saved); as it is when its cast is given in full, or it has none."""
    if not isinstance(body.cast, str):
        return body
    with session_factory(settings.sqlalchemy_url, readonly=True)() as session:
        row = saved_cast(session, principal.owner, body.cast)
        voices = None if row is None else dict(row.voices)
    if voices is None:
        raise unprocessable(
            f"no saved cast is named {body.cast!r}: save it first (PUT /v1/casts/{body.cast}; "
            "GET /v1/casts lists yours), or give the cast itself"
        )
    return body.model_copy(update={"cast": JobCast(**voices)})
