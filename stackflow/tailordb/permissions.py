"""Machine-user permissions of types: conditions on the invoker's attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackflow.tailordb.errors import PermissionDenied
from stackflow.tailordb.types import TailorType

_MISSING = object()


@dataclass(frozen=True)
class Access:
    """Who is asking: the invoker of the running execution, or full access outside one."""

    invoker: Mapping[str, Any] | None = None
    enforced: bool = False

    def check(self, tailor_type: TailorType, operation: str) -> None:
        """Raise PermissionDenied unless `operation` on `tailor_type` is allowed."""
        if not self.enforced or tailor_type.permission is None:
            return
        conditions = tailor_type.permission[operation]
        if self.invoker is None:
            raise PermissionDenied(
                f"permission denied: {operation} on '{tailor_type.name}' needs a machine user "
                "and this execution has none (start it with -m MACHINE_USER)"
            )
        attributes = self.invoker.get("attributes") or {}
        if any(_matches(condition, attributes) for condition in conditions):
            return
        user = self.invoker.get("id", "?")
        raise PermissionDenied(
            f"permission denied: machine user '{user}' may not {operation} '{tailor_type.name}' "
            f"(its {operation} permission allows: {_describe(conditions)}; "
            f"the machine user's attributes: {dict(attributes)})"
        )


def _matches(condition: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    return all(attributes.get(key, _MISSING) == value for key, value in condition.items())


def _describe(conditions: tuple[Mapping[str, Any], ...]) -> str:
    if not conditions:
        return "no machine user"
    return " or ".join(str(dict(condition)) for condition in conditions)


FULL_ACCESS = Access()
