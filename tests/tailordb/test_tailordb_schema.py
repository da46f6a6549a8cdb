"""Declarations, migrations, `stackflow db migrate` and `stackflow generate` (checked by mypy)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tailordb_helpers import MakeProject, write_project

from stackflow.config import load_config
from stackflow.errors import ProjectLoadError
from stackflow.tailordb import MigrationError, TypeDeclarationError, db, get_db
from stackflow.tailordb.registry import load_tailordb
from stackflow.tailordb.runtime import forget_discovered

V1 = """
from stackflow.tailordb import db
item = db.type("Item", {"title": db.string(), "size": db.int().optional()})
"""


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STACKFLOW_CONFIG": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "stackflow", *args],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _redeclare(config: Path, types: str) -> None:
    (config.parent / "tailordb" / "types.py").write_text(textwrap.dedent(types))
    forget_discovered()


def test_declaration_errors_are_clear() -> None:
    with pytest.raises(TypeDeclarationError, match=r"'id'.*automatically"):
        db.type("Thing", {"id": db.string()})
    with pytest.raises(TypeDeclarationError, match=r"db\.strng\(\).*string, int"):
        db.strng()  # type: ignore[operator]
    with pytest.raises(TypeDeclarationError, match=r"field 'name'.*field kind"):
        db.type("Thing", {"name": "string"})  # type: ignore[dict-item]
    with pytest.raises(TypeDeclarationError, match="keys create, read, update, delete"):
        db.type("Thing", {"name": db.string()}, permission={"read": []})


def test_a_type_declared_twice_names_both_files(tmp_path: Path, sqlite_url: str) -> None:
    config = write_project(tmp_path, sqlite_url, V1)
    (tmp_path / "tailordb" / "again.py").write_text(V1)
    with pytest.raises(ProjectLoadError, match=r"'Item' is declared twice") as raised:
        load_tailordb(load_config(config))
    assert "tailordb/again.py" in str(raised.value) and "tailordb/types.py" in str(raised.value)


def test_a_bad_type_file_is_an_error_naming_it(tmp_path: Path, sqlite_url: str) -> None:
    config = write_project(tmp_path, sqlite_url, V1.replace("db.int()", "db.integer()"))
    expected = r"^tailordb/types\.py: unknown field kind db\.integer\(\)"
    with pytest.raises(ProjectLoadError, match=expected):
        load_tailordb(load_config(config))


def test_new_fields_and_indexes_are_added_to_existing_tables(make_project: MakeProject) -> None:
    config = make_project(V1)
    get_db("tailordb").insert_into("Item").values({"title": "old"}).execute()
    _redeclare(
        config,
        V1.replace(
            '"size": db.int().optional()',
            '"size": db.int().optional().index(), "color": db.string().optional(), '
            '"count": db.int().default(7)',
        ),
    )
    tdb = get_db("tailordb")
    tdb.insert_into("Item").values({"title": "new", "color": "red"}).execute()
    rows = tdb.select_from("Item").select("title", "color", "count").order_by("title").execute()
    assert rows == [
        {"title": "new", "color": "red", "count": 7},
        {"title": "old", "color": None, "count": 7},
    ]
    assert tdb.namespace.migration_sql() == []


def test_a_kind_change_is_refused_with_advice(make_project: MakeProject) -> None:
    config = make_project(V1)
    get_db("tailordb").insert_into("Item").values({"title": "a", "size": 1}).execute()
    _redeclare(config, V1.replace("db.int().optional()", "db.string().optional()"))
    with pytest.raises(MigrationError, match=r"'Item\.size'.*declared string.*new field"):
        get_db("tailordb").select_from("Item").execute()


def test_required_over_existing_nulls_is_refused_with_advice(make_project: MakeProject) -> None:
    config = make_project(V1)
    get_db("tailordb").insert_into("Item").values({"title": "a"}).execute()
    _redeclare(config, V1.replace("db.int().optional()", "db.int()"))
    with pytest.raises(MigrationError, match=r"'Item\.size'.*NULL.*optional"):
        get_db("tailordb").select_from("Item").execute()


def test_db_migrate_dry_run_prints_sql_and_runs_nothing(make_project: MakeProject) -> None:
    config = make_project(V1)
    dry = _cli(config, "db", "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert 'CREATE TABLE IF NOT EXISTS "Item"' in dry.stdout and "would run" in dry.stderr
    assert _cli(config, "db", "migrate", "--dry-run").stdout == dry.stdout
    done = _cli(config, "db", "migrate")
    assert done.returncode == 0 and done.stdout == dry.stdout
    assert _cli(config, "db", "migrate", "--dry-run").stdout == ""


USER_MODULE = """
from generated.tailordb import get_db


def find(email: str) -> str | None:
    db = get_db("tailordb")
    row = db.select_from({table!r}).select_all().where({column!r}, "=", email).execute_take_first()
    return row["name"] if row else None
"""


@pytest.mark.parametrize(
    ("table", "column", "error"),
    [
        ("Customer", "email", None),
        ("Custmer", "email", "Custmer"),
        ("Customer", "emial", "where"),
    ],
)
def test_mypy_flags_a_misspelled_table_or_column_in_generated_get_db(
    tmp_path: Path, sqlite_url: str, table: str, column: str, error: str | None
) -> None:
    config = write_project(tmp_path, sqlite_url)
    generated = _cli(config, "generate")
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "generated" / "tailordb.py").is_file()
    (tmp_path / "user.py").write_text(USER_MODULE.format(table=table, column=column))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if error is None:
        assert checked.returncode == 0, checked.stdout
    else:
        assert checked.returncode == 1, checked.stdout
        assert "user.py:7: error" in checked.stdout and error in checked.stdout
