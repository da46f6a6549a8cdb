"""Typed job boundaries: a body's input and result types, validated and rebuilt from JSON."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import typing
from collections.abc import Callable
from typing import Any

from stackflow.errors import InvalidJobInput, InvalidJobResult

Convert = Callable[[Any], Any]
_MSGSPEC_PATH = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)


class Unresolved(Exception):
    """An annotation names something not defined yet (looked at again when the job runs)."""


def boundary_types(body: Callable[..., Any], takes_input: bool) -> tuple[Any, Any]:
    """(input type, result type) of a body from its annotations; None where there is none.

    Only these two annotations are evaluated (a `ctx: JobContext` imported for type
    checking only is never looked at). Raises Unresolved when one names something not
    defined yet.
    """
    annotations = getattr(body, "__annotations__", None)
    if not annotations:
        return None, None
    input_name = _input_parameter(body) if takes_input else None
    input_type = _evaluate(body, annotations.get(input_name)) if input_name else None
    return input_type, _evaluate(body, annotations.get("return"))


def _evaluate(body: Callable[..., Any], annotation: Any) -> Any:
    """The object a (possibly string) annotation names, in the body's module."""
    if not isinstance(annotation, str):
        return annotation
    scope = dict(getattr(body, "__globals__", {}))
    try:
        return eval(annotation, scope)  # what typing.get_type_hints does with strings
    except NameError as error:
        raise Unresolved(str(error)) from None
    except Exception:
        return None


def _input_parameter(body: Callable[..., Any]) -> str | None:
    try:
        parameters = list(inspect.signature(body).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return positional[0].name if positional else None


def input_converter(job_name: str, kind: Any) -> Convert | None:
    """JSON → the input type, raising InvalidJobInput naming the field; None for plain types."""
    convert = _converter(kind)
    if convert is None:
        return None

    def to_input(value: Any) -> Any:
        try:
            return convert(value)
        except Exception as error:
            raise InvalidJobInput(
                f"Input of job '{job_name}' is not a valid {_name(kind)}: {describe(error)}"
            ) from None

    return to_input


def output_converter(job_name: str, kind: Any) -> Convert | None:
    """JSON → the result type, raising InvalidJobResult naming the field; None for plain types."""
    convert = _converter(kind)
    if convert is None:
        return None

    def to_output(value: Any) -> Any:
        try:
            return convert(value)
        except Exception as error:
            raise InvalidJobResult(
                f"Result of job '{job_name}' is not a valid {_name(kind)}: {describe(error)}"
            ) from None

    return to_output


def _converter(kind: Any) -> Convert | None:
    if _is_pydantic_model(kind):
        validate: Convert = kind.model_validate
        return validate
    if (isinstance(kind, type) and dataclasses.is_dataclass(kind)) or typing.is_typeddict(kind):
        import msgspec  # loads only for typed jobs

        return lambda value: msgspec.convert(value, type=kind)
    return None


def _is_pydantic_model(kind: Any) -> bool:
    pydantic = sys.modules.get("pydantic")  # a model's class imported it already
    return pydantic is not None and isinstance(kind, type) and issubclass(kind, pydantic.BaseModel)


def _name(kind: Any) -> str:
    return getattr(kind, "__name__", repr(kind))


def describe(error: Exception) -> str:
    """A validation error as `path: problem` (paths like `items[0].qty`), one per problem."""
    errors = getattr(error, "errors", None)
    if callable(errors):  # pydantic
        return "; ".join(_pydantic_problem(problem) for problem in errors())
    text = str(error)
    found = _MSGSPEC_PATH.match(text)
    if found is None:
        return text
    path = found["path"].lstrip(".")
    return f"{path}: {found['message']}" if path else found["message"]


def _pydantic_problem(problem: dict[str, Any]) -> str:
    path = ""
    for part in problem.get("loc", ()):
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    message = str(problem.get("msg", "invalid"))
    return f"{path}: {message}" if path else message
