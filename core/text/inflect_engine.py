"""One inflect engine (number words, ordinals, plurals) for the process, loaded without
typeguard's run-time checks.

inflect decorates its methods with typeguard's ``@typechecked``, which re-reads and recompiles
inflect's source at import: about 3 s of CPU, most of it inside ``ast.parse`` calls that hold the
GIL for tens of milliseconds each, so an API warming its normalizer answered other requests
hundreds of milliseconds late. Our calls pass the types inflect declares; the checks are the
library's own debugging aid, and leaving them out changes no result.
"""

from functools import cache

import typeguard


def _unchecked(target=None, **_options):
    return target if target is not None else _unchecked


@cache
def inflect_engine():
    """The process's inflect engine (made on first use)."""
    checked = typeguard.typechecked
    typeguard.typechecked = _unchecked  # read by inflect's ``from typeguard import typechecked``
    try:
        import inflect
    finally:
        typeguard.typechecked = checked
    return inflect.engine()
