"""stackflow.toml: discovery, defaults, overrides and one-line errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackflow.config import (
    DEFAULT_WORKFLOW_FILES,
    DEFAULT_WORKFLOW_IGNORE,
    EngineSettings,
    MachineUser,
    ServeSettings,
    find_config,
    load_config,
    resolve_database_url,
)
from stackflow.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STACKFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("STACKFLOW_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def write_config(directory: Path, text: str) -> Path:
    path = directory / "stackflow.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, 'name = "my-app"\n')
    config = load_config()
    assert config.name == "my-app"
    assert config.root == tmp_path.resolve()
    assert config.path == tmp_path.resolve() / "stackflow.toml"
    assert config.database_url == f"sqlite:///{tmp_path.resolve()}/.stackflow/state.db"
    assert config.database_url.startswith("sqlite:////")
    assert config.workflow_files == DEFAULT_WORKFLOW_FILES
    assert config.workflow_ignore == DEFAULT_WORKFLOW_IGNORE == ("test_*.py", "*_test.py")
    assert config.env == {} and config.machine_users == {} and config.db == {}
    assert config.engine == EngineSettings()
    assert config.engine.lease_seconds == 15.0
    assert config.engine.payload_limit_bytes == 1048576
    assert config.engine.max_parallel_children == 64
    assert config.engine.sqlite_synchronous == "NORMAL"
    assert config.engine.max_concurrent_executions == 50
    assert config.engine.max_concurrent_per_workflow == 20


def test_name_defaults_to_the_directory(tmp_path: Path) -> None:
    write_config(tmp_path, "")
    assert load_config().name == tmp_path.name


def test_full_file(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
name = "shop"
database = "postgresql://u:p@db:5432/shop"
[workflow]
files = ["flows/*.py", "more/**/*.py"]
ignore = ["draft_*.py"]
[env]
foo = 1
bar = { nested = true }
[machine_users.admin]
attributes = { role = "ADMIN" }
[machine_users.robot]
[db.tailordb]
files = ["tailordb/*.py"]
[db.analytics]
files = ["analytics/*.py"]
database = "sqlite:///analytics.db"
[engine]
lease_seconds = 5
payload_limit_bytes = 2048
max_parallel_children = 8
sqlite_synchronous = "full"
max_concurrent_executions = 3
""",
    )
    config = load_config()
    assert config.database_url == "postgresql://u:p@db:5432/shop"
    assert config.workflow_files == ("flows/*.py", "more/**/*.py")
    assert config.workflow_ignore == ("draft_*.py",)
    assert config.env == {"foo": 1, "bar": {"nested": True}}
    assert config.machine_users == {
        "admin": MachineUser("admin", {"role": "ADMIN"}),
        "robot": MachineUser("robot", {}),
    }
    assert config.db["tailordb"].files == ("tailordb/*.py",)
    assert config.db["tailordb"].database is None
    assert config.db["analytics"].database == f"sqlite:///{tmp_path.resolve()}/analytics.db"
    assert config.engine == EngineSettings(5.0, 2048, 8, "FULL", 3)


def test_database_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, 'database = "sqlite:///other.db"\n')
    monkeypatch.setenv("STACKFLOW_DATABASE_URL", "postgresql://localhost/x")
    assert load_config().database_url == "postgresql://localhost/x"
    monkeypatch.setenv("STACKFLOW_DATABASE_URL", "sqlite:///env.db")
    assert load_config().database_url == f"sqlite:///{tmp_path.resolve()}/env.db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///state.db", "sqlite:////project/state.db"),
        ("sqlite:///a/b.db?mode=ro", "sqlite:////project/a/b.db?mode=ro"),
        ("sqlite:////abs/state.db", "sqlite:////abs/state.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://h/db", "postgresql://h/db"),
    ],
)
def test_resolve_database_url(url: str, expected: str) -> None:
    assert resolve_database_url(url, Path("/project")) == expected


def test_find_config_walks_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, 'name = "up"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == path.resolve()
    monkeypatch.chdir(deep)
    assert load_config().name == "up"


def test_no_config_anywhere(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path)
    assert str(caught.value) == (
        f"No stackflow.toml found in {tmp_path.resolve()} or any parent directory; "
        "run `stackflow init` or pass -c FILE"
    )


def test_explicit_path_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write_config(other, 'name = "other"\n')
    assert load_config(other / "stackflow.toml").name == "other"
    assert load_config(str(other)).name == "other"
    monkeypatch.setenv("STACKFLOW_CONFIG", str(other / "stackflow.toml"))
    assert load_config().name == "other"


def test_missing_file(tmp_path: Path) -> None:
    assert config_error(tmp_path / "nope.toml") == "nope.toml: config file not found"


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    write_config(tmp_path, 'name = "x"\n[workflow\n')
    message = config_error()
    assert message.startswith("stackflow.toml: invalid TOML: ")
    assert "line 2" in message and "column" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[workflow]\nfilez = ["a"]\n',
            "stackflow.toml: unknown key 'workflow.filez' (known: files, ignore)",
        ),
        (
            "nam = 1\n",
            "stackflow.toml: unknown key 'nam' "
            "(known: database, db, engine, env, machine_users, name, serve, workflow)",
        ),
        (
            "[machine_users.admin]\nattribute = {}\n",
            "stackflow.toml: unknown key 'machine_users.admin.attribute' (known: attributes)",
        ),
        (
            "[engine]\nlease = 1\n",
            "stackflow.toml: unknown key 'engine.lease' (known: lease_seconds, "
            "max_concurrent_executions, max_concurrent_per_workflow, max_parallel_children, "
            "payload_limit_bytes, sqlite_synchronous)",
        ),
    ],
)
def test_unknown_key(tmp_path: Path, text: str, expected: str) -> None:
    write_config(tmp_path, text)
    assert config_error() == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[workflow]\nfiles = 1\n", "'workflow.files' must be a list of strings, got int"),
        (
            '[workflow]\nfiles = ["a", 2]\n',
            "'workflow.files' must be a list of strings, got int at index 1",
        ),
        ("name = 3\n", "'name' must be a string, got int"),
        ("database = true\n", "'database' must be a string, got bool"),
        ("env = 1\n", "'env' must be a table, got int"),
        ("[machine_users]\nadmin = 1\n", "'machine_users.admin' must be a table, got int"),
        ("[machine_users.a]\nattributes = 1\n", "'machine_users.a.attributes' must be a table"),
        ('[db.tailordb]\nfiles = "x.py"\n', "'db.tailordb.files' must be a list of strings"),
        ('[engine]\nlease_seconds = "1s"\n', "'engine.lease_seconds' must be a number"),
        ("[engine]\nlease_seconds = 0\n", "'engine.lease_seconds' must be a number greater"),
        ("[engine]\nmax_parallel_children = 1.5\n", "'engine.max_parallel_children' must be"),
        ("[engine]\npayload_limit_bytes = true\n", "'engine.payload_limit_bytes' must be"),
        (
            '[engine]\nsqlite_synchronous = "fast"\n',
            "'engine.sqlite_synchronous' must be one of NORMAL, FULL, OFF, got 'fast'",
        ),
        ("[serve]\ntoken = 1\n", "'serve.token' must be a string, got int"),
        ('[serve]\nport = "80"\n', "'serve.port' must be an integer greater than 0"),
        ("[serve]\nport = 70000\n", "'serve.port' must be a port number (1-65535), got 70000"),
    ],
)
def test_wrong_type(tmp_path: Path, text: str, expected: str) -> None:
    write_config(tmp_path, text)
    message = config_error()
    assert message.startswith("stackflow.toml: ")
    assert expected in message


def test_serve_table(tmp_path: Path) -> None:
    write_config(tmp_path, 'name = "x"\n')
    assert load_config().serve == ServeSettings(host="127.0.0.1", port=8765, token=None)
    write_config(tmp_path, '[serve]\nhost = "0.0.0.0"\nport = 9000\ntoken = "s3cret"\n')
    assert load_config().serve == ServeSettings(host="0.0.0.0", port=9000, token="s3cret")
    write_config(tmp_path, '[serve]\nhots = "x"\n')
    assert config_error() == "stackflow.toml: unknown key 'serve.hots' (known: host, port, token)"
