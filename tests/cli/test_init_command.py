"""`stackflow init`: the template is the repo's example, and nothing is overwritten."""

from __future__ import annotations

from pathlib import Path

from commands import stackflow

from stackflow.cli.init import template_files

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "order-processing"
IGNORED_PARTS = {"__pycache__", ".stackflow"}


def example_files() -> dict[str, str]:
    return {
        path.relative_to(EXAMPLE).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(EXAMPLE.rglob("*"))
        if path.is_file()
        and not IGNORED_PARTS.intersection(path.relative_to(EXAMPLE).parts)
        and path.suffix != ".pyc"
    }


def test_template_and_example_do_not_drift() -> None:
    assert template_files() == example_files()
    assert set(template_files()) == {
        "stackflow.toml",
        "workflows/jobs/fetch_customer.py",
        "workflows/jobs/send_notification.py",
        "workflows/order_processing.py",
    }


def test_init_writes_a_project_here(tmp_path: Path) -> None:
    done = stackflow(tmp_path, "init")
    assert done.code == 0, done.stderr
    for relative in template_files():
        assert (tmp_path / relative).is_file()
    assert ".stackflow/" in (tmp_path / ".gitignore").read_text()
    assert "stackflow workflow start order-processing -m admin" in done.stderr
    assert done.stdout == ""


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "stackflow.toml").write_text('name = "mine"\n')

    done = stackflow(tmp_path, "init")

    assert done.code == 2
    assert "stackflow.toml already exists" in done.one_error_line()
    assert (tmp_path / "stackflow.toml").read_text() == 'name = "mine"\n'
    assert not (tmp_path / "workflows").exists()
