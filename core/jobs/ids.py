"""Job and batch ids: 32 lowercase hex digits (a UUID4 without dashes)."""

import re
import uuid

JOB_ID = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    return uuid.uuid4().hex


def is_id(value: str) -> bool:
    """Whether ``value`` could be a job or batch id; anything else is not looked up at all."""
    return JOB_ID.fullmatch(value) is not None
