"""Where conditions: `where(col, op, value)` and the Kysely-style expression builder `eb`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from stackflow.tailordb.errors import InvalidValue, UnknownIdentifier
from stackflow.tailordb.types import TailorType
from stackflow.tailordb.values import check_value, nul_refused

Condition = sa.ColumnElement[bool]

_COMPARISONS: dict[str, Callable[[sa.ColumnElement[Any], Any], Condition]] = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<>": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "like": lambda c, v: c.like(v),
    "not like": lambda c, v: c.not_like(v),
    "ilike": lambda c, v: c.ilike(v),
    "not ilike": lambda c, v: c.not_ilike(v),
}
_LISTS: dict[str, Callable[[sa.ColumnElement[Any], Any], Condition]] = {
    "in": lambda c, v: c.in_(v),
    "not in": lambda c, v: c.not_in(v),
}
_NULLS: dict[str, Callable[[sa.ColumnElement[Any], Any], Condition]] = {
    "is": lambda c, v: c.is_(v),
    "is not": lambda c, v: c.is_not(v),
}
OPERATORS = (*_COMPARISONS, *_LISTS, *_NULLS)
_TEXT_OPERATORS = ("like", "not like", "ilike", "not ilike")


class Expression:
    """A condition built by `eb(...)`, `eb.and_([...])`, `eb.or_([...])` or `eb.not_(...)`."""

    def __init__(self, clause: Condition) -> None:
        self.clause = clause


class ColumnResolver:
    """Checks column names of one table and turns them into SQLAlchemy columns."""

    def __init__(self, tailor_type: TailorType, table: sa.Table) -> None:
        self.type = tailor_type
        self.table = table

    def column(self, name: object) -> sa.Column[Any]:
        """The column called `name`; UnknownIdentifier lists the valid ones otherwise."""
        if not isinstance(name, str) or name not in self.type.fields:
            raise UnknownIdentifier(
                f"unknown column {name!r} of table '{self.type.name}'; "
                f"its columns are: {', '.join(self.type.fields)}"
            )
        return self.table.c[name]

    def condition(self, name: object, operator: object, value: object) -> Condition:
        """The SQL condition `name operator value`, checked against the declared field."""
        column = self.column(name)
        field = self.type.fields[column.name]
        what = f"the value compared with '{self.type.name}.{column.name}' ({operator})"
        if not isinstance(operator, str) or operator.lower() not in OPERATORS:
            raise UnknownIdentifier(
                f"unknown operator {operator!r}; the operators are: {', '.join(OPERATORS)}"
            )
        op = operator.lower()
        if op in _NULLS:
            if value is not None and not (field.kind == "bool" and isinstance(value, bool)):
                raise InvalidValue(f"{what} must be None ('is' and 'is not' test for null)")
            return _NULLS[op](column, value)
        if field.kind == "json":
            raise InvalidValue(
                f"'{self.type.name}.{column.name}' is a json field: only 'is' and 'is not' "
                "(null tests) apply to it"
            )
        if op in _LISTS:
            return _LISTS[op](column, self._list(field, value, what))
        if value is None:
            raise InvalidValue(f"{what} is None: compare with null using 'is' or 'is not'")
        checked = (
            _pattern(value, what) if op in _TEXT_OPERATORS else check_value(field, value, what)
        )
        return _COMPARISONS[op](column, checked)

    @staticmethod
    def _list(field: Any, value: object, what: str) -> list[Any]:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise InvalidValue(f"{what} must be a list of values, got {type(value).__name__}")
        return [check_value(field, item, what, allow_null=False) for item in value]


def _pattern(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"{what} must be a string pattern, got {type(value).__name__}")
    if "\x00" in value:
        raise nul_refused(what)
    return value


class ExpressionBuilder:
    """`eb` in `where(lambda eb: eb.or_([eb("a", "=", 1), eb("b", "=", 2)]))`."""

    def __init__(self, resolver: ColumnResolver) -> None:
        self._resolver = resolver

    def __call__(self, column: str, operator: str, value: Any) -> Expression:
        """The condition `column operator value`."""
        return Expression(self._resolver.condition(column, operator, value))

    def and_(self, expressions: Sequence[Expression]) -> Expression:
        """All of these conditions."""
        return Expression(sa.and_(sa.true(), *_clauses(expressions)))

    def or_(self, expressions: Sequence[Expression]) -> Expression:
        """Any of these conditions (none given: false)."""
        return Expression(sa.or_(sa.false(), *_clauses(expressions)))

    def not_(self, expression: Expression) -> Expression:
        """The negation of a condition."""
        return Expression(sa.not_(_clauses([expression])[0]))


def _clauses(expressions: Sequence[Expression]) -> list[Condition]:
    if isinstance(expressions, Expression):
        expressions = [expressions]
    clauses = []
    for expression in expressions:
        if not isinstance(expression, Expression):
            raise InvalidValue(
                f"expected conditions built with eb(column, operator, value), got {expression!r}"
            )
        clauses.append(expression.clause)
    return clauses


def where_clause(resolver: ColumnResolver, args: tuple[Any, ...]) -> Condition:
    """The condition of `where(col, op, value)`, `where(lambda eb: ...)` or `where(expr)`."""
    if len(args) == 3:
        return resolver.condition(*args)
    if len(args) == 1:
        argument = args[0]
        if callable(argument) and not isinstance(argument, Expression):
            argument = argument(ExpressionBuilder(resolver))
        return _clauses([argument])[0]
    raise TypeError(
        "where() takes (column, operator, value) or a function of the expression builder, "
        f"like where(lambda eb: eb.or_([...])); got {len(args)} arguments"
    )
