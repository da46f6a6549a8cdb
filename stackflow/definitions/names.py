"""Names of jobs and workflows: what they may hold, and their `ctx.jobs` attribute."""

from __future__ import annotations

import re

from stackflow.errors import DefinitionError

_SEPARATORS = re.compile(r"[-\s]")
MAX_NAME_LENGTH = 64
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?: [A-Za-z0-9_-]+)*")
NAME_GRAMMAR = (
    "starts with a letter and holds only letters, digits, '-', '_' and single spaces "
    f"between words, at most {MAX_NAME_LENGTH} characters"
)
"""What a job or workflow name may be, as the messages state it."""


def attribute_name(job_name: str) -> str:
    """The `ctx.jobs` attribute of a job name: each `-` or whitespace becomes `_`."""
    return _SEPARATORS.sub("_", job_name)


def check_name(kind: str, name: object) -> str:
    """`name` when it is a valid name for a `kind` (job, workflow); DefinitionError otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise DefinitionError(f"{kind} name must be a non-empty string, got {name!r}")
    if "/" in name:
        raise DefinitionError(
            f"{kind} name {name!r} must not contain '/' (it separates stacked names)"
        )
    return name


def follows_name_grammar(name: str) -> bool:
    """Whether `name` follows NAME_GRAMMAR (so it is safe in stacked names and `ctx.jobs`)."""
    return len(name) <= MAX_NAME_LENGTH and _NAME.fullmatch(name) is not None
