"""The `[worker]` table of stackflow.toml: log format and metrics port, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackflow.config import WorkerSettings, load_config
from stackflow.errors import ConfigError


@pytest.fixture(autouse=True)
def _in_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STACKFLOW_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def _load(text: str) -> WorkerSettings:
    Path("stackflow.toml").write_text(f'name = "x"\n{text}', encoding="utf-8")
    return load_config().worker


def test_defaults_and_values() -> None:
    assert _load("") == WorkerSettings(log_format="text", metrics_port=None)
    settings = _load('[worker]\nlog_format = "json"\nmetrics_port = 9464\n')
    assert settings == WorkerSettings(log_format="json", metrics_port=9464)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[worker]\nlog_format = "xml"\n',
            "stackflow.toml: 'worker.log_format' must be one of text, json, got 'xml'",
        ),
        ("[worker]\nlog_format = 1\n", "stackflow.toml: 'worker.log_format' must be a string"),
        (
            '[worker]\nmetrics_port = "9464"\n',
            "stackflow.toml: 'worker.metrics_port' must be an integer greater than 0, got '9464'",
        ),
        (
            "[worker]\nmetrics_port = 70000\n",
            "stackflow.toml: 'worker.metrics_port' must be a port number (1-65535), got 70000",
        ),
        (
            '[worker]\nlog_fromat = "json"\n',
            "stackflow.toml: unknown key 'worker.log_fromat' (known: log_format, metrics_port)",
        ),
        ('worker = "json"\n', "stackflow.toml: 'worker' must be a table, got string"),
    ],
)
def test_errors_name_the_key_in_one_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(text)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)
