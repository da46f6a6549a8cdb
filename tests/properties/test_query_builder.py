"""The TailorDB query builder: any identifier or value is run (bound) or refused clearly."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from values import BIG_INTS, JSON_VALUES, NO_SURROGATES

from stackflow.tailordb import Db, get_db
from stackflow.tailordb.engines import dispose_engines
from stackflow.tailordb.errors import InvalidValue, UnknownIdentifier
from stackflow.tailordb.expressions import OPERATORS
from stackflow.tailordb.runtime import forget_discovered

TYPES = """
from stackflow.tailordb import db

note = db.type(
    "Note",
    {
        "title": db.string(),
        "serial": db.string().unique(),
        "count": db.int().optional(),
        "score": db.float().optional(),
        "extra": db.json().optional(),
    },
)
"""

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
COLUMNS = ("id", "createdAt", "updatedAt", "title", "serial", "count", "score", "extra")
EXAMPLES = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
_serials = itertools.count()


@pytest.fixture
def db(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Db]:
    (tmp_path / "tailordb").mkdir()
    (tmp_path / "tailordb" / "note.py").write_text(TYPES)
    (tmp_path / "workflows").mkdir()
    config = tmp_path / "stackflow.toml"
    config.write_text(
        f'name = "q"\ndatabase = "{store_url}"\n[workflow]\nfiles = ["workflows/*.py"]\n'
        '[db.tailordb]\nfiles = ["tailordb/*.py"]\n'
    )
    monkeypatch.setenv("STACKFLOW_CONFIG", str(config))
    forget_discovered()
    yield get_db("tailordb")
    forget_discovered()
    dispose_engines()


def _insert(db: Db, **values: Any) -> dict[str, Any] | None:
    row = {"title": "t", "serial": f"s{next(_serials)}", **values}
    found: dict[str, Any] | None = (
        db.insert_into("Note").values(row).returning_all().execute_take_first()
    )
    return found


def _rows(db: Db) -> int:
    return len(db.select_from("Note").select_all().execute())


@EXAMPLES
@given(name=st.text(NO_SURROGATES))
def test_an_unknown_table_is_refused_by_name(db: Db, name: str) -> None:
    if name == "Note":
        return
    with pytest.raises(UnknownIdentifier) as refused:
        db.select_from(name).select_all().execute()
    assert "Note" in str(refused.value)


@EXAMPLES
@given(column=st.text(NO_SURROGATES).filter(lambda c: c not in COLUMNS))
def test_an_unknown_column_is_refused_everywhere(db: Db, column: str) -> None:
    query = db.select_from("Note")
    for build in (
        lambda: query.select([column]).execute(),
        lambda: query.select_all().where(column, "=", 1).execute(),
        lambda: query.select_all().order_by(column).execute(),
        lambda: db.update_table("Note").set({column: 1}).execute(),
        lambda: db.insert_into("Note").values({"title": "t", "serial": "u", column: 1}).execute(),
    ):
        with pytest.raises(UnknownIdentifier):
            build()
    assert _rows(db) == 0


@EXAMPLES
@given(operator=st.text(NO_SURROGATES).filter(lambda op: op.lower() not in OPERATORS))
def test_an_unknown_operator_is_refused(db: Db, operator: str) -> None:
    with pytest.raises(UnknownIdentifier) as refused:
        db.select_from("Note").select_all().where("title", operator, "x").execute()
    assert "operators are" in str(refused.value)


@EXAMPLES
@given(text=st.text(NO_SURROGATES.filter(lambda ch: ch != "\x00")))
def test_a_string_value_is_bound_never_spliced(db: Db, text: str) -> None:
    _insert(db, title="other")
    inserted = _insert(db, title=text)

    found = db.select_from("Note").select_all().where("title", "=", text).execute()

    assert [row["id"] for row in found] == [inserted and inserted["id"]]
    assert found[0]["title"] == text
    db.delete_from("Note").execute()


@EXAMPLES
@given(value=INT64)
def test_an_int_value_round_trips(db: Db, value: int) -> None:
    inserted = _insert(db, count=value)

    assert inserted is not None and inserted["count"] == value
    db.delete_from("Note").execute()


@EXAMPLES
@given(value=BIG_INTS.filter(lambda n: not -(2**63) <= n < 2**63))
def test_an_int_value_past_64_bits_is_refused(db: Db, value: int) -> None:
    """An int field holds 64 bits on both backends: a larger int is refused by its name."""
    with pytest.raises(InvalidValue) as refused:
        _insert(db, count=value)
    assert "count" in str(refused.value) and "\n" not in str(refused.value)
    assert _rows(db) == 0


@EXAMPLES
@given(value=st.floats())
def test_a_float_value_round_trips_or_is_refused(db: Db, value: float) -> None:
    try:
        inserted = _insert(db, score=value)
    except InvalidValue:
        assert _rows(db) == 0
        return
    assert inserted is not None
    stored = inserted["score"]
    assert stored == value or (math.isnan(value) and math.isnan(stored))
    db.delete_from("Note").execute()


@EXAMPLES
@given(value=JSON_VALUES.filter(lambda v: "\\u0000" not in json.dumps(v)))
def test_a_json_value_round_trips(db: Db, value: Any) -> None:
    inserted = _insert(db, extra=value)

    assert inserted is not None and inserted["extra"] == value
    db.delete_from("Note").execute()


@EXAMPLES
@given(value=st.floats(min_value=2**53, max_value=1e300).filter(float.is_integer))
def test_a_large_float_in_a_json_field_round_trips(db: Db, value: float) -> None:
    """A whole float of 2**53 or more stays a float (PostgreSQL's jsonb would make it an int)."""
    inserted = _insert(db, extra={"n": value})

    assert inserted is not None and inserted["extra"] == {"n": value}
    assert isinstance(inserted["extra"]["n"], float)


@EXAMPLES
@given(
    field=st.sampled_from(["title", "extra"]), text=st.text(NO_SURROGATES).map(lambda s: s + "\x00")
)
def test_a_nul_character_is_refused_by_name(db: Db, field: str, text: str) -> None:
    """PostgreSQL cannot store a NUL in text or jsonb; both backends refuse it alike."""
    for value in (text, {"key": text}, {text: 1}, [text]) if field == "extra" else (text,):
        with pytest.raises(InvalidValue) as refused:
            _insert(db, **{field: value})
        assert field in str(refused.value) and "\n" not in str(refused.value)
    assert _rows(db) == 0


@EXAMPLES
@given(
    text=st.text(NO_SURROGATES).map(lambda s: "\x00" + s), operator=st.sampled_from(["=", "like"])
)
def test_a_nul_character_in_a_condition_is_refused_by_name(
    db: Db, text: str, operator: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        db.select_from("Note").select_all().where("title", operator, text).execute()
    assert "title" in str(refused.value) and "\n" not in str(refused.value)
