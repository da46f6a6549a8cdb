"""`[retention]` in stackflow.toml: what workers prune, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackflow.config import RetentionSettings, load_config
from stackflow.errors import ConfigError
from stackflow.records import ExecutionStatus


def _load(tmp_path: Path, table: str) -> RetentionSettings:
    path = tmp_path / "stackflow.toml"
    path.write_text(f'name = "shop"\n{table}\n', encoding="utf-8")
    return load_config(path).retention


def test_no_retention_keeps_everything(tmp_path: Path) -> None:
    assert _load(tmp_path, "").older_than_seconds is None
    assert _load(tmp_path, "[retention]").older_than_seconds is None


def test_older_than_and_statuses(tmp_path: Path) -> None:
    settings = _load(tmp_path, '[retention]\nolder_than = "30d"')
    assert settings.older_than_seconds == 30 * 86400
    assert settings.statuses == (ExecutionStatus.SUCCESS, ExecutionStatus.CANCELED)
    named = _load(tmp_path, '[retention]\nolder_than = "12h"\nstatuses = ["success", "FAILED"]')
    assert named.statuses == (ExecutionStatus.SUCCESS, ExecutionStatus.FAILED)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[retention]\nolder_than = "soon"',
            "'retention.older_than' must be a positive duration like '30d', '12h' or '90m', "
            "got 'soon'",
        ),
        ('[retention]\nolder_than = "30"', "'retention.older_than' must be a positive duration"),
        ("[retention]\nolder_than = 30", "'retention.older_than' must be a string, got int"),
        (
            '[retention]\nolder_than = "1d"\nstatuses = ["RUNNING"]',
            "'retention.statuses' may hold only final statuses (SUCCESS, FAILED, CANCELED), "
            "got 'RUNNING'",
        ),
        ('[retention]\nstatuses = ["FAILED"]', "[retention] needs 'retention.older_than'"),
        ('[retention]\nolder_than = "1d"\nkeep = 3', "unknown key 'retention.keep'"),
    ],
)
def test_bad_retention_is_one_line_naming_the_key(tmp_path: Path, table: str, message: str):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, table)
    assert message in str(caught.value) and "\n" not in str(caught.value)
