"""Revisions of a job: the request it was made from with only what changes, planned against
the chunk audio already made, so that a correction costs the size of the correction."""

import difflib

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import conflict, unprocessable
from api.schemas import ChunkChange, JobCreate, JobSource, RevisionCreate, RevisionPlan
from api.submission import CheckedJob
from storage.jobs import reusable_audio
from storage.models import Chunk, Job


def _stored_request(job: Job) -> dict:
    """The request ``job`` was made from; 409 for a job stored without it."""
    if job.source is None:
        raise conflict(
            f"job {job.id} was made before jobs kept their text for revisions: submit it again "
            "as a new job (its chunks are reused where they are unchanged)"
        )
    return dict(job.source)


def job_source(job: Job) -> JobSource:
    stored = _stored_request(job)
    return JobSource(
        text=stored.get("text"),
        chapters=stored.get("chapters"),
        pronunciations=stored.get("pronunciations"),
        markup=stored.get("markup", "none"),
    )


def revised_request(job: Job, change: RevisionCreate) -> JobCreate:
    """The request of ``job`` with ``change`` applied; 409 for a job stored without its
    request, 422 for a change that does not fit it."""
    source = _stored_request(job)
    if "text" in source:
        # A job stored before `headings` existed read its # lines as text: its revisions too
        source.setdefault("headings", "text")
    chapters = [dict(c) for c in source["chapters"]] if "chapters" in source else None
    if change.text is not None:
        if chapters is not None:
            raise unprocessable(
                'this job was made from chapters: give `chapters` by index, {"0": "new text"}'
            )
        source["text"] = change.text
    for field, values in (("text", change.chapters), ("voice", change.chapter_voices)):
        if not values:
            continue
        if chapters is None:
            raise unprocessable("this job has no chapters: give the whole new `text` instead")
        for key, value in values.items():
            index = int(key)
            if index >= len(chapters):
                raise unprocessable(
                    f"no chapter {index}: this job's chapters are 0 to {len(chapters) - 1}"
                )
            chapters[index][field] = value
    if chapters is not None:
        source["chapters"] = chapters
    if change.pronunciations or change.remove_pronunciations:
        entries = dict(source.get("pronunciations") or {})
        for word in change.remove_pronunciations or []:
            if entries.pop(word, None) is None:
                raise unprocessable(
                    f"{word!r} is not among this job's pronunciations "
                    f"({', '.join(sorted(entries)) or 'it has none'})"
                )
        entries.update(
            change.model_dump(mode="json", include={"pronunciations"}, exclude_none=True).get(
                "pronunciations", {}
            )
        )
        source["pronunciations"] = entries or None
    source.update(
        change.model_dump(
            mode="json",
            include={"voice", "speed", "format", "loudness", "title", "author"},
            exclude_none=True,
        )
    )
    try:
        return JobCreate.model_validate({k: v for k, v in source.items() if v is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5]
        )
        raise unprocessable(f"the revised job is not valid: {problems}") from error


def revision_plan(session: Session, job: Job, body: JobCreate, checked: CheckedJob) -> RevisionPlan:
    """What the revision would reuse and make, the chunks to make beside what the earlier
    revision said in their place."""
    reuse = reusable_audio(session, job.reuse_scope if body.reuse else None, checked.keys)
    before = session.execute(
        select(Chunk.content_key, Chunk.text).where(Chunk.job_id == job.id).order_by(Chunk.index)
    ).all()
    old_keys = [row.content_key for row in before]
    aligned: dict[int, str] = {}
    matcher = difflib.SequenceMatcher(a=old_keys, b=checked.keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            aligned.update((j1 + k, before[i1 + k].text) for k in range(j2 - j1))
        elif j2 > j1:
            aligned[j1] = " ".join(row.text for row in before[i1:i2])
    changes = [
        ChunkChange(
            index=chunk.index, chapter=chunk.chapter, before=aligned.get(i, ""), after=chunk.text
        )
        for i, chunk in enumerate(checked.chunks)
        if i not in reuse
    ]
    return RevisionPlan(
        revision_of=job.id,
        chunks_total=len(checked.chunks),
        chunks_reused=len(reuse),
        chunks_to_make=len(changes),
        changes=changes,
    )


def revisions_of(session: Session, job: Job) -> list[Job]:
    """Every revision of the book ``job`` belongs to that still exists, oldest first."""
    root = job.revision_root or job.id
    return list(
        session.scalars(
            select(Job)
            .where(Job.revision_root == root, Job.owner == job.owner)
            .order_by(Job.created_at, Job.id)
        )
    )
