"""A project's TailorDB: its namespaces, their declared types, databases and migrations."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterable
from pathlib import Path, PurePath
from types import ModuleType
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from stackflow.config import ProjectConfig, display_path
from stackflow.errors import ConfigError, ProjectLoadError
from stackflow.module_names import module_name
from stackflow.tailordb.engines import IMMEDIATE_OPTION, dialect_name, engine_for
from stackflow.tailordb.errors import MigrationError, TypeDeclarationError, UnknownIdentifier
from stackflow.tailordb.migrate import Plan, apply, lock_migrations, plan, statement_sql
from stackflow.tailordb.schema import build_metadata
from stackflow.tailordb.types import TailorType

if TYPE_CHECKING:
    from stackflow.tailordb.triggers import BoundTrigger


class Namespace:
    """One `[db.<name>]`: its types, their tables, and the database they live in."""

    def __init__(self, name: str, url: str, types: Iterable[TailorType], store_url: str) -> None:
        self.name = name
        self.url = url
        self.store_url = store_url
        self.types = {t.name: t for t in types}
        self.dialect = dialect_name(url)
        self.metadata = build_metadata(self.types.values(), self.dialect)
        self.triggers: dict[tuple[str, str], tuple[BoundTrigger, ...]] = {}
        """The record triggers fired by writes, by (type name, operation)."""
        self._migrated = False
        self._lock = threading.Lock()

    @property
    def shares_store_database(self) -> bool:
        """Whether the tables live in the store's own database."""
        return self.url == self.store_url

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine of this namespace's database, migrated on first use."""
        self.ensure_migrated()
        return engine_for(self.url)

    def table(self, name: object) -> tuple[TailorType, sa.Table]:
        """The type and table called `name`; UnknownIdentifier lists the declared ones."""
        tailor_type = self.types.get(name) if isinstance(name, str) else None
        if tailor_type is None:
            known = ", ".join(sorted(self.types)) or "none are declared"
            raise UnknownIdentifier(
                f"unknown table {name!r} in namespace '{self.name}'; its tables are: {known}"
            )
        return tailor_type, self.metadata.tables[tailor_type.name]

    def plan(self) -> Plan:
        """The statements that would bring the database to the declared types."""
        self._prepare_store()
        with engine_for(self.url).connect() as conn:
            return plan(conn, self.metadata, self.types)

    def migration_sql(self) -> list[str]:
        """The SQL `migrate()` would run now, one statement per item."""
        found = self.plan()
        self._raise_problems(found)
        with engine_for(self.url).connect() as conn:
            return [statement_sql(statement, conn) for statement in found.statements]

    def migrate(self) -> list[str]:
        """Create what is missing; return the SQL that ran. MigrationError if unsafe."""
        self._prepare_store()
        engine = engine_for(self.url)
        with engine.connect() as conn:
            conn.execution_options(**{IMMEDIATE_OPTION: True})
            with conn.begin():
                lock_migrations(conn)
                found = plan(conn, self.metadata, self.types)
                self._raise_problems(found)
                apply(conn, found.statements)
                done = [statement_sql(statement, conn) for statement in found.statements]
        self._migrated = True
        return done

    def ensure_migrated(self) -> None:
        """Migrate once per process, on first use."""
        if self._migrated:
            return
        with self._lock:
            if not self._migrated:
                self.migrate()

    def _raise_problems(self, found: Plan) -> None:
        if found.problems:
            listed = "; ".join(found.problems)
            raise MigrationError(f"namespace '{self.name}' cannot be migrated safely: {listed}")

    def _prepare_store(self) -> None:
        """On the store's own database, the store's schema comes first."""
        if self.shares_store_database:
            from stackflow.store import open_store

            open_store(self.store_url).close()


class TailorDB:
    """Every namespace of a project, by name."""

    def __init__(self, namespaces: Iterable[Namespace]) -> None:
        self.namespaces = {namespace.name: namespace for namespace in namespaces}

    def namespace(self, name: str | None) -> Namespace:
        """The namespace called `name` (None: the only one); UnknownIdentifier lists them."""
        if name is None and len(self.namespaces) == 1:
            return next(iter(self.namespaces.values()))
        found = self.namespaces.get(name) if name is not None else None
        if found is None:
            known = ", ".join(sorted(self.namespaces)) or "none ([db.<name>] in stackflow.toml)"
            what = f"unknown namespace {name!r}" if name is not None else "name a namespace"
            raise UnknownIdentifier(f"{what}; the TailorDB namespaces are: {known}")
        return found

    def migrate(self) -> dict[str, list[str]]:
        """Migrate every namespace; the SQL run in each."""
        return {name: namespace.migrate() for name, namespace in self.namespaces.items()}


def load_tailordb(config: ProjectConfig) -> TailorDB:
    """Import every namespace's type files and collect their types (root must be importable)."""
    namespaces = []
    for name, declared in config.db.items():
        types = _collect_types(config, name, _type_files(config, name, declared.files))
        url = declared.database or config.database_url
        namespaces.append(Namespace(name, url, types, config.database_url))
    return TailorDB(namespaces)


def _type_files(config: ProjectConfig, namespace: str, patterns: Iterable[str]) -> list[Path]:
    found: dict[Path, None] = {}
    source = display_path(config.path)
    for pattern in patterns:
        if PurePath(pattern).is_absolute():
            raise ConfigError(
                f"{source}: 'db.{namespace}.files' glob {pattern!r} must be relative "
                "to the project root"
            )
        matches = sorted(p.resolve() for p in config.root.glob(pattern) if p.is_file())
        if not matches:
            raise ConfigError(
                f"{source}: 'db.{namespace}.files' glob {pattern!r} matches no file "
                f"under {config.root}"
            )
        found.update(dict.fromkeys(p for p in matches if "__pycache__" not in p.parts))
    return list(found)


def _collect_types(config: ProjectConfig, namespace: str, files: list[Path]) -> list[TailorType]:
    root = str(config.root.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    seen: dict[str, tuple[TailorType, str]] = {}
    for path in files:
        shown = _relative(path, config.root)
        for tailor_type in _module_types(_import(path, config.root, shown)):
            first = seen.get(tailor_type.name)
            if first is not None and first[0] is not tailor_type:
                raise ProjectLoadError(
                    f"{shown}: TailorDB type '{tailor_type.name}' is declared twice in "
                    f"namespace '{namespace}' (also in {first[1]}); type names are unique"
                )
            seen.setdefault(tailor_type.name, (tailor_type, shown))
    return [tailor_type for tailor_type, _ in seen.values()]


def _import(path: Path, root: Path, shown: str) -> ModuleType:
    name = module_name(path, root)
    _forget_stale(name, root)
    try:
        return importlib.import_module(name)
    except TypeDeclarationError as error:
        raise ProjectLoadError(f"{shown}: {error}{_line_in(error, path)}") from None
    except Exception as error:
        text = f"{type(error).__name__}: {error}"
        raise ProjectLoadError(f"{shown}: cannot import: {text}{_line_in(error, path)}") from None


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _forget_stale(name: str, root: Path) -> None:
    """Drop modules of this name (and its packages) imported from another project's root."""
    parts = name.split(".")
    prefix = str(root.resolve())
    for end in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:end]))
        if module is None:
            continue
        file = getattr(module, "__file__", None)
        places = [file] if file else list(getattr(module, "__path__", None) or [])
        if places and not all(str(Path(p).resolve()).startswith(prefix) for p in places):
            for key in [
                k
                for k in sys.modules
                if k == module.__name__ or k.startswith(module.__name__ + ".")
            ]:
                del sys.modules[key]
    importlib.invalidate_caches()


def _line_in(error: BaseException, path: Path) -> str:
    traceback, line = error.__traceback__, None
    while traceback is not None:
        if Path(traceback.tb_frame.f_code.co_filename).resolve() == path:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return f" (line {line})" if line else ""


def _module_types(module: ModuleType) -> list[TailorType]:
    return [value for value in vars(module).values() if isinstance(value, TailorType)]
