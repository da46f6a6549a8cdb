"""Migrations: create missing tables, columns and indexes; refuse unsafe changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex, CreateTable, ExecutableDDLElement
from sqlalchemy.sql.compiler import DDLCompiler

from stackflow.tailordb.errors import MigrationError
from stackflow.tailordb.schema import kind_family, type_family
from stackflow.tailordb.types import TailorType

MIGRATION_LOCK_KEY = 0x7461696C6F726462  # "tailordb"; the store's own migrations use "stackflo"


def lock_migrations(conn: Connection) -> None:
    """On PostgreSQL, wait for any other TailorDB migration of this database to end.

    The lock is held until the caller's transaction ends: a migration planned after it
    reads the schema that the one before it left, so it finds nothing more to do.
    SQLite needs nothing: a migration's transaction is BEGIN IMMEDIATE, one writer at a time.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))


class AddColumn(ExecutableDDLElement):
    """ALTER TABLE ... ADD COLUMN, compiled by the dialect's own column specification."""

    def __init__(self, table: sa.Table, column: sa.Column[Any]) -> None:
        self.table = table
        self.column = column


class SetNotNull(ExecutableDDLElement):
    """ALTER TABLE ... ALTER COLUMN ... SET/DROP NOT NULL (PostgreSQL only)."""

    def __init__(self, table: sa.Table, column: sa.Column[Any], *, not_null: bool) -> None:
        self.table = table
        self.column = column
        self.not_null = not_null


@compiles(AddColumn)
def _add_column(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    table = compiler.preparer.format_table(element.table)
    spec = compiler.get_column_specification(element.column)
    return f"ALTER TABLE {table} ADD COLUMN {spec}"


@compiles(SetNotNull)
def _set_not_null(element: SetNotNull, compiler: DDLCompiler, **kw: Any) -> str:
    table = compiler.preparer.format_table(element.table)
    column = compiler.preparer.format_column(element.column)
    action = "SET" if element.not_null else "DROP"
    return f"ALTER TABLE {table} ALTER COLUMN {column} {action} NOT NULL"


@dataclass
class Plan:
    """The statements that bring one database to the declared types, and what blocks it."""

    statements: list[sa.Executable] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def plan(conn: Connection, metadata: sa.MetaData, types: dict[str, TailorType]) -> Plan:
    """What to run on `conn` so every declared table, column and index exists."""
    inspector = sa.inspect(conn)
    existing = set(inspector.get_table_names())
    result = Plan()
    for table in metadata.sorted_tables:
        if table.name not in existing:
            result.statements.append(CreateTable(table, if_not_exists=True))
            result.statements.extend(CreateIndex(i, if_not_exists=True) for i in table.indexes)
            continue
        _plan_columns(conn, table, types[table.name], result)
        names = {i["name"] for i in inspector.get_indexes(table.name)}
        names |= {u["name"] for u in inspector.get_unique_constraints(table.name)}
        missing = [i for i in table.indexes if i.name not in names]
        result.statements.extend(CreateIndex(i, if_not_exists=True) for i in missing)
    return result


def _plan_columns(conn: Connection, table: sa.Table, tailor_type: TailorType, out: Plan) -> None:
    reflected = {c["name"]: c for c in sa.inspect(conn).get_columns(table.name)}
    has_rows = conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
    for column in table.columns:
        found = reflected.get(column.name)
        field = tailor_type.fields[column.name]
        where = f"'{table.name}.{column.name}'"
        if found is None:
            _plan_new_column(table, column, field.has_default, field.default_value, out)
            if field.is_optional:
                continue
            if has_rows and not field.has_default:
                out.problems.append(
                    f"{where} is a new required field but '{table.name}' already has rows: "
                    "give it a .default(...), or declare it .optional(), fill it in, then "
                    "make it required"
                )
            elif conn.dialect.name == "postgresql":
                out.statements.append(SetNotNull(table, column, not_null=True))
            continue
        family = type_family(found["type"])
        if family is not None and family != kind_family(field.kind):
            out.problems.append(
                f"{where} is {found['type']} in the database but declared {field.kind}: "
                "stackflow never changes a column's type; declare a new field with the new "
                "kind and copy the data over, or restore the old kind"
            )
        _plan_nullability(conn, table, column, field.is_optional, found["nullable"], out)


def _plan_new_column(
    table: sa.Table, column: sa.Column[Any], has_default: bool, default: Any, out: Plan
) -> None:
    added = column._copy()
    added.nullable = True
    added.primary_key = False
    out.statements.append(AddColumn(table, added))
    if has_default:
        out.statements.append(
            sa.update(table).where(table.c[column.name].is_(None)).values({column.name: default})
        )


def _plan_nullability(
    conn: Connection,
    table: sa.Table,
    column: sa.Column[Any],
    optional: bool,
    db_nullable: bool,
    out: Plan,
) -> None:
    postgres = conn.dialect.name == "postgresql"
    if optional:
        if postgres and not db_nullable:
            out.statements.append(SetNotNull(table, column, not_null=False))
        return
    if not db_nullable:
        return
    nulls = conn.execute(
        sa.select(sa.literal(1)).select_from(table).where(column.is_(None)).limit(1)
    ).first()
    if nulls is not None:
        out.problems.append(
            f"'{table.name}.{column.name}' is declared required but some rows hold NULL "
            "there: declare it .optional() again, or fill those rows (or give the field a "
            ".default(...)) before making it required"
        )
    elif postgres:
        out.statements.append(SetNotNull(table, column, not_null=True))


def statement_sql(statement: sa.Executable, conn: Connection) -> str:
    """The SQL text of a planned statement, values rendered for display."""
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled).strip() + ";"


def apply(conn: Connection, statements: Sequence[sa.Executable]) -> None:
    """Run the planned statements on `conn` (inside the caller's transaction)."""
    for statement in statements:
        try:
            conn.execute(statement)
        except sa.exc.IntegrityError as error:
            raise MigrationError(
                f"cannot apply {statement_sql(statement, conn)!r}: {error.orig}; "
                "existing rows break the new constraint (e.g. duplicate values for a "
                ".unique() field): fix those rows first"
            ) from None
