"""A workflow file that fails to import: one line naming the file, the error and where."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from stackflow.project.rules import IMPORTABLE_FILES, Breach, display_path

Where = tuple[str | None, int | None]


@dataclass(frozen=True)
class ImportFailure:
    """Why a workflow file did not import: its error, and the line that raised it."""

    file: str
    detail: str
    """`ExceptionType: message`."""
    raised_at: Where
    """The file (relative to the root) and line that raised, when under the project root."""
    line_in_file: int | None
    """The line of `file` the failure went through (its own line, or the import of another)."""

    def __str__(self) -> str:
        return f"{self.file}: cannot import: {self.detail}{self._where()}"

    def breach(self) -> Breach:
        """The failure as an `importable-files` breach at its line of the workflow file."""
        elsewhere = self._where() if self.raised_at[0] != self.file else ""
        return Breach(
            IMPORTABLE_FILES,
            f"cannot import: {self.detail}{elsewhere}",
            self.file,
            self.line_in_file,
        )

    def _where(self) -> str:
        shown, line = self.raised_at
        if shown is None or line is None:
            return ""
        return f" (line {line})" if shown == self.file else f" ({shown}, line {line})"


def import_failure(error: BaseException, path: Path, root: Path) -> ImportFailure:
    """The failure of importing the workflow file `path` with `error`."""
    file = display_path(path, root)
    if isinstance(error, SyntaxError):
        text, where = error.msg, (error.filename, error.lineno)
    else:
        text, where = " ".join(str(error).split()), _last_frame_under(root, error.__traceback__)
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    filename, line = where
    raised_at = (display_path(filename, root), line) if filename and line else (None, None)
    in_file = _last_line_in(path, error.__traceback__)
    if raised_at[0] == file:
        in_file = raised_at[1]
    return ImportFailure(file, detail, raised_at, in_file)


def _frames(traceback: TracebackType | None) -> list[tuple[str, int]]:
    frames = []
    while traceback is not None:
        frames.append((os.path.abspath(traceback.tb_frame.f_code.co_filename), traceback.tb_lineno))
        traceback = traceback.tb_next
    return frames


def _last_frame_under(root: Path, traceback: TracebackType | None) -> Where:
    prefix = str(root.resolve()) + os.sep
    under = [frame for frame in _frames(traceback) if frame[0].startswith(prefix)]
    return under[-1] if under else (None, None)


def _last_line_in(path: Path, traceback: TracebackType | None) -> int | None:
    own = os.path.abspath(path)
    lines = [line for filename, line in _frames(traceback) if filename == own]
    return lines[-1] if lines else None
