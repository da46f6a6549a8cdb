"""The project configuration: finding and reading `stackflow.toml`."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from stackflow.errors import ConfigError

CONFIG_FILE_NAME = "stackflow.toml"
CONFIG_PATH_VARIABLE = "STACKFLOW_CONFIG"
TOKEN_VARIABLE = "STACKFLOW_TOKEN"
"""The API token of `stackflow serve` (before `[serve] token`)."""
LOOPBACK_ONLY_VARIABLE = "STACKFLOW_SERVE_LOOPBACK"
"""`1`: the web app answers only loopback Host headers (it listens on a loopback address)."""
DATABASE_URL_VARIABLE = "STACKFLOW_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///.stackflow/state.db"
DEFAULT_WORKFLOW_FILES = ("workflows/**/*.py",)
DEFAULT_WORKFLOW_IGNORE = ("test_*.py", "*_test.py")
DEFAULT_LEASE_SECONDS = 15.0
DEFAULT_PAYLOAD_LIMIT_BYTES = 1024 * 1024
DEFAULT_MAX_PARALLEL_CHILDREN = 64
DEFAULT_SQLITE_SYNCHRONOUS = "NORMAL"
DEFAULT_MAX_CONCURRENT_EXECUTIONS = 50
DEFAULT_MAX_CONCURRENT_PER_WORKFLOW = 20
"""Running executions of one workflow without a concurrency_policy (Tailor's default)."""
SQLITE_SYNCHRONOUS_MODES = ("NORMAL", "FULL", "OFF")
DEFAULT_SERVE_HOST = "127.0.0.1"
DEFAULT_SERVE_PORT = 8765

_SQLITE_PREFIX = "sqlite:///"
_TYPE_NAMES = {str: "string", int: "int", float: "float", bool: "bool", list: "list", dict: "table"}


@dataclass(frozen=True)
class MachineUser:
    """A machine user a workflow can be started as: `[machine_users.<name>]`."""

    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DbNamespace:
    """A TailorDB namespace: `[db.<name>]` with its type files and optional database."""

    name: str
    files: tuple[str, ...] = ()
    database: str | None = None


@dataclass(frozen=True)
class EngineSettings:
    """The `[engine]` table: limits and tuning of the durable engine."""

    lease_seconds: float = DEFAULT_LEASE_SECONDS
    payload_limit_bytes: int = DEFAULT_PAYLOAD_LIMIT_BYTES
    max_parallel_children: int = DEFAULT_MAX_PARALLEL_CHILDREN
    sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS
    max_concurrent_executions: int = DEFAULT_MAX_CONCURRENT_EXECUTIONS
    max_concurrent_per_workflow: int = DEFAULT_MAX_CONCURRENT_PER_WORKFLOW


@dataclass(frozen=True)
class ServeSettings:
    """The `[serve]` table: where `stackflow serve` listens and the API token it requires."""

    host: str = DEFAULT_SERVE_HOST
    port: int = DEFAULT_SERVE_PORT
    token: str | None = None


@dataclass(frozen=True)
class ProjectConfig:
    """A loaded `stackflow.toml`; `root` is the directory holding it."""

    path: Path
    root: Path
    name: str
    database_url: str = DEFAULT_DATABASE_URL
    workflow_files: tuple[str, ...] = DEFAULT_WORKFLOW_FILES
    workflow_ignore: tuple[str, ...] = DEFAULT_WORKFLOW_IGNORE
    env: dict[str, Any] = field(default_factory=dict)
    machine_users: dict[str, MachineUser] = field(default_factory=dict)
    db: dict[str, DbNamespace] = field(default_factory=dict)
    engine: EngineSettings = field(default_factory=EngineSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)


def display_path(path: Path) -> str:
    """`path` relative to the working directory when under it, else absolute."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def find_config(start: Path | None = None) -> Path:
    """Find `stackflow.toml` in `start` (default: the working directory) or a parent."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILE_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"No {CONFIG_FILE_NAME} found in {here} or any parent directory; "
        "run `stackflow init` or pass -c FILE"
    )


def _config_path(path: str | Path | None) -> Path:
    if path is None or str(path) == "":
        path = os.environ.get(CONFIG_PATH_VARIABLE) or None
    if path is None:
        return find_config()
    candidate = Path(path).expanduser()
    if candidate.is_dir():
        candidate = candidate / CONFIG_FILE_NAME
    if not candidate.is_file():
        raise ConfigError(f"{display_path(candidate)}: config file not found")
    return candidate.resolve()


def load_config(path: str | Path | None = None) -> ProjectConfig:
    """Read the project's `stackflow.toml` (found from the working directory if not given).

    Raises:
        ConfigError: one line naming the file and the key when the file is
            missing, is not valid TOML, or has an unknown key or a wrong type.
    """
    config_path = _config_path(path)
    source = display_path(config_path)
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: invalid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{source}: cannot read: {error}") from None
    return _read_project(_Table(source, data, ""), config_path)


def _read_project(table: _Table, config_path: Path) -> ProjectConfig:
    root = config_path.parent
    workflow = table.table("workflow")
    database = table.string("database")
    database = os.environ.get(DATABASE_URL_VARIABLE) or database
    config = ProjectConfig(
        path=config_path,
        root=root,
        name=table.string("name") or root.name,
        database_url=resolve_database_url(database or DEFAULT_DATABASE_URL, root),
        workflow_files=workflow.strings("files", DEFAULT_WORKFLOW_FILES),
        workflow_ignore=workflow.strings("ignore", DEFAULT_WORKFLOW_IGNORE),
        env=dict(table.table("env").data),
        machine_users=table.table("machine_users").each_table(_read_machine_user),
        db=table.table("db").each_table(lambda name, t: _read_db(name, t, root)),
        engine=_read_engine(table.table("engine")),
        serve=_read_serve(table.table("serve")),
    )
    workflow.done()
    table.done()
    return config


def _read_machine_user(name: str, table: _Table) -> MachineUser:
    user = MachineUser(name, dict(table.table("attributes").data))
    table.done()
    return user


def _read_db(name: str, table: _Table, root: Path) -> DbNamespace:
    database = table.string("database")
    namespace = DbNamespace(
        name,
        files=table.strings("files", ()),
        database=resolve_database_url(database, root) if database else None,
    )
    table.done()
    return namespace


def _read_engine(table: _Table) -> EngineSettings:
    synchronous = table.string("sqlite_synchronous") or DEFAULT_SQLITE_SYNCHRONOUS
    if synchronous.upper() not in SQLITE_SYNCHRONOUS_MODES:
        table.fail("sqlite_synchronous", f"must be one of {', '.join(SQLITE_SYNCHRONOUS_MODES)}")
    settings = EngineSettings(
        lease_seconds=table.positive_number("lease_seconds", DEFAULT_LEASE_SECONDS),
        payload_limit_bytes=table.positive_int("payload_limit_bytes", DEFAULT_PAYLOAD_LIMIT_BYTES),
        max_parallel_children=table.positive_int(
            "max_parallel_children", DEFAULT_MAX_PARALLEL_CHILDREN
        ),
        sqlite_synchronous=synchronous.upper(),
        max_concurrent_executions=table.positive_int(
            "max_concurrent_executions", DEFAULT_MAX_CONCURRENT_EXECUTIONS
        ),
        max_concurrent_per_workflow=table.positive_int(
            "max_concurrent_per_workflow", DEFAULT_MAX_CONCURRENT_PER_WORKFLOW
        ),
    )
    table.done()
    return settings


def _read_serve(table: _Table) -> ServeSettings:
    port = table.positive_int("port", DEFAULT_SERVE_PORT)
    if port > 65535:
        table.fail("port", "must be a port number (1-65535)")
    settings = ServeSettings(
        host=table.string("host") or DEFAULT_SERVE_HOST, port=port, token=table.string("token")
    )
    table.done()
    return settings


def resolve_database_url(url: str, root: Path) -> str:
    """Make a relative SQLite path absolute against `root`; other URLs are kept as given."""
    if not url.startswith(_SQLITE_PREFIX):
        return url
    path, query = url[len(_SQLITE_PREFIX) :], ""
    if "?" in path:
        path, query = path.split("?", 1)
        query = "?" + query
    if not path or path == ":memory:" or Path(path).is_absolute():
        return url
    return f"{_SQLITE_PREFIX}{(root / Path(path).expanduser()).resolve()}{query}"


def _type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class _Table:
    """A TOML table being read: known keys are taken, the rest reported as unknown."""

    def __init__(self, source: str, data: dict[str, Any], prefix: str) -> None:
        self.source = source
        self.data = data
        self.prefix = prefix
        self.known: list[str] = []

    def key(self, name: str) -> str:
        """The dotted name of `name` in the file, for messages."""
        return f"{self.prefix}{name}"

    def fail(self, name: str, problem: str) -> NoReturn:
        """Raise the one-line error for key `name`."""
        raise ConfigError(f"{self.source}: '{self.key(name)}' {problem}, got {self._got(name)}")

    def _got(self, name: str) -> str:
        value = self.data.get(name)
        return repr(value) if isinstance(value, str | int | float) else _type_name(value)

    def _take(self, name: str) -> Any:
        self.known.append(name)
        return self.data.get(name)

    def string(self, name: str) -> str | None:
        """A string value, or None when absent."""
        value = self._take(name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                f"{self.source}: '{self.key(name)}' must be a string, got {_type_name(value)}"
            )
        return value

    def strings(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """A list of strings, or `default` when absent."""
        value = self._take(name)
        if value is None:
            return default
        problem = f"{self.source}: '{self.key(name)}' must be a list of strings, got"
        if not isinstance(value, list):
            raise ConfigError(f"{problem} {_type_name(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise ConfigError(f"{problem} {_type_name(item)} at index {index}")
        return tuple(value)

    def table(self, name: str) -> _Table:
        """A sub-table (empty when absent)."""
        value = self._take(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(
                f"{self.source}: '{self.key(name)}' must be a table, got {_type_name(value)}"
            )
        return _Table(self.source, value, f"{self.key(name)}.")

    def each_table(self, read: Callable[[str, _Table], Any]) -> dict[str, Any]:
        """Every entry of this table read as a sub-table by `read(name, table)`."""
        return {name: read(name, self.table(name)) for name in list(self.data)}

    def positive_number(self, name: str, default: float) -> float:
        """A number greater than zero, or `default` when absent."""
        value = self._take(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(name, "must be a number greater than 0")
        return float(value)

    def positive_int(self, name: str, default: int) -> int:
        """An integer greater than zero, or `default` when absent."""
        value = self._take(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.fail(name, "must be an integer greater than 0")
        return int(value)

    def done(self) -> None:
        """Raise for the first key that was never read."""
        for name in self.data:
            if name not in self.known:
                known = ", ".join(sorted(self.known)) or "none"
                raise ConfigError(f"{self.source}: unknown key '{self.key(name)}' (known: {known})")
