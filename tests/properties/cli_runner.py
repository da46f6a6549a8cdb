"""Running `stackflow.cli.main.main(argv)` in this process, with a UTF-8 terminal's streams."""

from __future__ import annotations

import io
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from stackflow.cli.main import main


@dataclass(frozen=True)
class Outcome:
    """The exit code and what the command wrote."""

    code: int
    stdout: str
    stderr: str

    def assert_no_traceback(self) -> None:
        assert "Traceback" not in self.stdout + self.stderr, self.stderr

    def error_line(self) -> str:
        """The one line a refused command prints on stderr (and nothing on stdout)."""
        self.assert_no_traceback()
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), self.stderr
        assert self.stdout == ""
        return lines[0]


def invoke(*argv: str) -> Outcome:
    """main(argv): stdout strict UTF-8 and stderr backslash-escaping, as Python sets them up."""
    out, err = io.BytesIO(), io.BytesIO()
    streams = (
        io.TextIOWrapper(out, encoding="utf-8", errors="strict"),
        io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace"),
    )
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = streams
    try:
        code = main(list(argv))
    finally:
        sys.stdout, sys.stderr = saved
        for stream in streams:
            stream.flush()
            stream.detach()
    return Outcome(code, out.getvalue().decode(), err.getvalue().decode("utf-8", "replace"))


def executions(database: Path) -> list[tuple[str, str]]:
    """(id, status) of every execution in a SQLite store, for before/after comparisons."""
    if not database.exists():
        return []
    with closing(sqlite3.connect(database)) as conn:
        return list(conn.execute("SELECT id, status FROM executions ORDER BY id"))
