"""The query builder on SQLite and PostgreSQL: reads, writes, conditions, transactions."""

from __future__ import annotations

import datetime

import pytest

from stackflow.tailordb import (
    Db,
    InvalidValue,
    NoResultError,
    UniqueViolation,
    UnknownIdentifier,
    get_db,
)

HOSTILE = 'Robert\'); DROP TABLE "Customer";--'


def _add(tdb: Db, name: str, credit: int | None = None, **more: object) -> dict[str, object]:
    row = {"name": name, "email": f"{name}@example.com", "credit": credit, **more}
    inserted = tdb.insert_into("Customer").values(row).returning_all().execute_take_first()
    assert inserted is not None
    return inserted


def _names(rows: list[dict[str, object]]) -> list[object]:
    return [row["name"] for row in rows]


def test_insert_fills_id_created_at_and_defaults_and_select_reads_it_back(tdb: Db) -> None:
    row = _add(tdb, "ada", 10)
    assert len(str(row["id"])) == 36
    assert row["active"] is True and row["tier"] == "FREE" and row["updatedAt"] is None
    created = row["createdAt"]
    assert isinstance(created, datetime.datetime) and created.tzinfo == datetime.UTC
    found = tdb.select_from("Customer").select_all().where("id", "=", row["id"]).execute()
    assert found == [row]


def test_select_columns_as_list_or_arguments(tdb: Db) -> None:
    _add(tdb, "ada", 10)
    query = tdb.select_from("Customer")
    assert query.select(["name", "credit"]).execute() == [{"name": "ada", "credit": 10}]
    assert query.select("name").execute_take_first() == {"name": "ada"}


def test_hostile_string_is_stored_and_read_back_literally(tdb: Db) -> None:
    _add(tdb, HOSTILE, email="bobby@example.com")
    found = tdb.select_from("Customer").select("name").where("name", "=", HOSTILE).execute()
    assert found == [{"name": HOSTILE}]
    assert len(tdb.select_from("Customer").execute()) == 1


def test_multi_row_insert_returns_count_and_rows(tdb: Db) -> None:
    rows = [{"name": n, "email": f"{n}@x.io"} for n in ("a", "b", "c")]
    assert tdb.insert_into("Customer").values(rows).execute() == 3
    more = [{"name": "d", "email": "d@x.io"}]
    returned = tdb.insert_into("Customer").values(more).returning(["id", "name"]).execute()
    assert isinstance(returned, list) and _names(returned) == ["d"]
    assert set(returned[0]) == {"id", "name"}


def test_where_operators_order_limit_offset(tdb: Db) -> None:
    for index, name in enumerate(["a", "b", "c", "d", "e"]):
        _add(tdb, name, index * 10)
    query = tdb.select_from("Customer").select_all()
    assert _names(query.where("credit", ">=", 20).order_by("credit").execute()) == ["c", "d", "e"]
    assert _names(query.where("credit", "<", 20).order_by("name", "desc").execute()) == ["b", "a"]
    assert _names(query.where("name", "!=", "a").where("name", "<>", "b").order_by("name")
                  .limit(2).execute()) == ["c", "d"]  # fmt: skip
    assert _names(query.order_by("credit", "desc").limit(2).offset(1).execute()) == ["d", "c"]
    assert _names(query.where("name", "in", ["a", "e", "zz"]).order_by("name").execute()) == [
        "a",
        "e",
    ]
    assert len(query.where("name", "not in", ["a", "e"]).execute()) == 3
    assert _names(query.where("email", "like", "c@%").execute()) == ["c"]
    assert query.where("name", "in", []).execute() == []


def test_or_groups_with_the_expression_builder(tdb: Db) -> None:
    for index, name in enumerate(["a", "b", "c", "d"]):
        _add(tdb, name, index)
    found = (
        tdb.select_from("Customer")
        .select("name")
        .where(lambda eb: eb.or_([eb("name", "=", "a"), eb("credit", ">", 2)]))
        .where("name", "!=", "zz")
        .order_by("name")
        .execute()
    )
    assert _names(found) == ["a", "d"]
    nested = (
        tdb.select_from("Customer")
        .where(
            lambda eb: eb.and_(
                [
                    eb.or_([eb("credit", "=", 1), eb("credit", "=", 2)]),
                    eb.not_(eb("name", "=", "b")),
                ]
            )
        )
        .execute()
    )
    assert _names(nested) == ["c"]


def test_is_null_and_is_not_null(tdb: Db) -> None:
    _add(tdb, "a", None)
    _add(tdb, "b", 1)
    assert _names(tdb.select_from("Customer").where("credit", "is", None).execute()) == ["a"]
    assert _names(tdb.select_from("Customer").where("credit", "is not", None).execute()) == ["b"]


def test_update_returns_count_and_sets_updated_at(tdb: Db) -> None:
    _add(tdb, "a", 1)
    _add(tdb, "b", 1)
    _add(tdb, "c", 2)
    count = tdb.update_table("Customer").set({"tier": "PRO"}).where("credit", "=", 1).execute()
    assert count == 2
    rows = tdb.select_from("Customer").select_all().order_by("name").execute()
    assert [(r["name"], r["tier"]) for r in rows] == [("a", "PRO"), ("b", "PRO"), ("c", "FREE")]
    assert isinstance(rows[0]["updatedAt"], datetime.datetime) and rows[2]["updatedAt"] is None
    none = tdb.update_table("Customer").set({"credit": 5}).where("name", "=", "zz").execute()
    assert none == 0


def test_delete_returns_count(tdb: Db) -> None:
    _add(tdb, "a", 1)
    _add(tdb, "b", 2)
    assert tdb.delete_from("Customer").where("credit", ">", 1).execute() == 1
    assert _names(tdb.select_from("Customer").execute()) == ["a"]


def test_take_first_and_or_throw(tdb: Db) -> None:
    assert tdb.select_from("Customer").execute_take_first() is None
    with pytest.raises(NoResultError, match="Customer"):
        tdb.select_from("Customer").where("name", "=", "x").execute_take_first_or_throw()
    _add(tdb, "a")
    assert tdb.select_from("Customer").execute_take_first_or_throw()["name"] == "a"


def test_kinds_round_trip(tdb: Db) -> None:
    seen = datetime.datetime(
        2025, 1, 15, 19, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=9))
    )
    row = _add(
        tdb,
        "a",
        score=1.5,
        active=False,
        joinedOn=datetime.date(2024, 2, 29),
        lastSeen=seen,
        externalId="0b7e3c1e-1111-4222-8333-444455556666",
        profile={"tags": ["x", 1], "nested": {"ok": True}},
    )
    read = tdb.select_from("Customer").select_all().where("id", "=", row["id"]).execute()[0]
    assert read["lastSeen"] == seen and read["lastSeen"].tzinfo == datetime.UTC
    assert read["joinedOn"] == datetime.date(2024, 2, 29)
    assert read["profile"] == {"tags": ["x", 1], "nested": {"ok": True}}
    assert (read["score"], read["active"]) == (1.5, False)
    later = tdb.select_from("Customer").where("lastSeen", ">", "2025-01-15T10:00:00Z").execute()
    assert _names(later) == ["a"]


def test_values_are_checked_against_field_kinds(tdb: Db) -> None:
    with pytest.raises(InvalidValue, match=r"Customer.credit.*integer"):
        tdb.insert_into("Customer").values({"name": "a", "email": "a@x", "credit": "many"})
    with pytest.raises(InvalidValue, match=r"Customer.tier.*'FREE', 'PRO'"):
        tdb.insert_into("Customer").values({"name": "a", "email": "a@x", "tier": "GOLD"})
    with pytest.raises(InvalidValue, match=r"Customer.email.*required"):
        tdb.insert_into("Customer").values({"name": "a"})
    with pytest.raises(InvalidValue, match=r"Customer.name.*required"):
        tdb.update_table("Customer").set({"name": None})
    with pytest.raises(InvalidValue, match="'is' or 'is not'"):
        tdb.select_from("Customer").where("credit", "=", None)


def test_unknown_identifiers_fail_before_any_sql(tdb: Db) -> None:
    with pytest.raises(UnknownIdentifier, match=r"'Custmer'.*Customer"):
        tdb.select_from("Custmer")
    with pytest.raises(UnknownIdentifier, match=r"'emial'.*email"):
        tdb.select_from("Customer").where("emial", "=", "x")
    with pytest.raises(UnknownIdentifier, match=r"'emial'.*email"):
        tdb.select_from("Customer").select(["emial"])
    with pytest.raises(UnknownIdentifier, match=r"'emial'"):
        tdb.insert_into("Customer").values({"name": "a", "email": "a@x", "emial": "x"})
    with pytest.raises(UnknownIdentifier, match=r"'==='.*like"):
        tdb.select_from("Customer").where("email", "===", "x")
    with pytest.raises(UnknownIdentifier, match=r"'up'"):
        tdb.select_from("Customer").order_by("name", "up")
    with pytest.raises(UnknownIdentifier, match=r"'crm'.*tailordb"):
        get_db("crm")


def test_unique_violation_is_a_clear_error(tdb: Db) -> None:
    _add(tdb, "a")
    with pytest.raises(UniqueViolation, match=r"'Customer'.*'email'"):
        tdb.insert_into("Customer").values({"name": "b", "email": "a@example.com"}).execute()


def test_transaction_commits_and_get_db_inside_uses_it(tdb: Db) -> None:
    with tdb.transaction() as trx:
        trx.insert_into("Customer").values({"name": "a", "email": "a@x"}).execute()
        assert len(get_db("tailordb").select_from("Customer").execute()) == 1
    assert _names(tdb.select_from("Customer").execute()) == ["a"]


def test_transaction_rolls_back_on_error(tdb: Db) -> None:
    _add(tdb, "kept")
    with pytest.raises(UniqueViolation), tdb.transaction() as trx:
        trx.insert_into("Customer").values({"name": "a", "email": "a@x"}).execute()
        trx.insert_into("Customer").values({"name": "b", "email": "a@x"}).execute()
    assert _names(tdb.select_from("Customer").execute()) == ["kept"]


def test_nested_transaction_is_a_savepoint(tdb: Db) -> None:
    def body(trx: Db) -> None:
        trx.insert_into("Customer").values({"name": "outer", "email": "o@x"}).execute()
        with pytest.raises(RuntimeError), trx.transaction() as inner:
            inner.insert_into("Customer").values({"name": "inner", "email": "i@x"}).execute()
            raise RuntimeError("undo the inner part only")

    tdb.transaction().execute(body)
    assert _names(tdb.select_from("Customer").execute()) == ["outer"]


def test_for_update_inside_a_transaction(tdb: Db) -> None:
    _add(tdb, "a", 1)
    with tdb.transaction() as trx:
        row = trx.select_from("Customer").where("name", "=", "a").for_update().execute_take_first()
        assert row is not None
        trx.update_table("Customer").set({"credit": row["credit"] + 1}).where(
            "id", "=", row["id"]
        ).execute()
    assert tdb.select_from("Customer").select("credit").execute() == [{"credit": 2}]
