"""TailorDB: typed application data for jobs, a Kysely-style query builder on SQLAlchemy Core."""

from stackflow.tailordb.database import Db, Transaction
from stackflow.tailordb.errors import (
    InvalidValue,
    MigrationError,
    NoResultError,
    PermissionDenied,
    RecordTriggerError,
    TailorDBError,
    TransactionalJobError,
    TriggerLoopError,
    TypeDeclarationError,
    UniqueViolation,
    UnknownIdentifier,
)
from stackflow.tailordb.fields import Field
from stackflow.tailordb.runtime import get_db
from stackflow.tailordb.types import TailorType, TypeBuilder, db

__all__ = [
    "Db",
    "Field",
    "InvalidValue",
    "MigrationError",
    "NoResultError",
    "PermissionDenied",
    "RecordTriggerError",
    "TailorDBError",
    "TailorType",
    "Transaction",
    "TransactionalJobError",
    "TriggerLoopError",
    "TypeBuilder",
    "TypeDeclarationError",
    "UniqueViolation",
    "UnknownIdentifier",
    "db",
    "get_db",
]
