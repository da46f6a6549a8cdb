"""The exceptions of TailorDB: declarations, identifiers, values, permissions, migrations."""

from __future__ import annotations

from stackflow.errors import DefinitionError, StackflowError


class TailorDBError(StackflowError):
    """A TailorDB operation failed."""


class TypeDeclarationError(DefinitionError):
    """A TailorDB type declaration is not valid."""


class UnknownIdentifier(TailorDBError, ValueError):
    """A query names a namespace, table, column or operator that is not declared."""


class InvalidValue(TailorDBError, ValueError):
    """A value does not fit the kind of its field."""


class UniqueViolation(TailorDBError):
    """A write would make two rows share a unique value."""


class NoResultError(TailorDBError):
    """execute_take_first_or_throw found no row."""


class PermissionDenied(TailorDBError):
    """The machine user running the job may not do this operation on this type."""


class MigrationError(TailorDBError):
    """The database cannot be brought to the declared types safely."""


class TransactionalJobError(TailorDBError):
    """A transactional job cannot run as declared."""


class RecordTriggerError(TailorDBError):
    """A record trigger could not start its workflow; the write that fired it is refused."""


class TriggerLoopError(RecordTriggerError):
    """Record triggers started each other deeper than the limit (a loop, most likely)."""
