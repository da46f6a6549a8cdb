"""Typed jobs: `WorkflowJob[In, Out]` from the body's annotations, checked by mypy and pyright,
and inputs of dataclass, TypedDict or pydantic types validated at the job boundary."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import pydantic
import pytest

from stackflow import JobContext, create_workflow, create_workflow_job, workflow_job
from stackflow.engine.engine import Engine
from stackflow.errors import InvalidJobInput

if TYPE_CHECKING:
    from collections import OrderedDict as Ghost

ROOT = Path(__file__).resolve().parents[2]
TYPING = ROOT / "tests" / "typecheck"
REVEAL = TYPING / "reveal_jobs.py"
MISUSE = TYPING / "misuse_jobs.py"
FILES = (str(REVEAL), str(MISUSE))


# What the type checkers see --------------------------------------------------------------


def _marked(path: Path, *, reveals: bool) -> dict[int, str]:
    """Line number → the comment of each `reveal_type(...)  # <type>` or `...  # error` line."""
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        code, _, comment = line.partition("  # ")
        if ("reveal_type(" in code) if reveals else comment.strip() == "error":
            found[number] = comment.strip()
    return found


def _short(type_text: str) -> str:
    """`pkg.mod.WorkflowJob[mod.Order, ...]` → `WorkflowJob[Order, ...]`; Unknown → Any."""
    type_text = re.sub(r"TypedDict\(([\w.]+), \{.*?\}\)", r"\1", type_text)
    type_text = re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", type_text)
    return "Any" if type_text == "Unknown" else type_text


def _mypy() -> tuple[dict[int, str], set[int]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            str(REVEAL),
            str(MISUSE),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    revealed, errors = {}, set()
    for line in done.stdout.splitlines():
        found = re.match(r"(.+?):(\d+): (\w+): (.*)", line)
        if found is None:
            continue
        file, number, kind, message = found.groups()
        if file.endswith("reveal_jobs.py") and message.startswith("Revealed type is"):
            revealed[int(number)] = _short(message.split('"')[1])
        elif file.endswith("misuse_jobs.py") and kind == "error":
            errors.add(int(number))
        else:
            pytest.fail(f"unexpected mypy output: {line}")
    return revealed, errors


def _pyright(tmp_path: Path) -> tuple[dict[int, str], set[int]]:
    config = tmp_path / "pyrightconfig.json"
    config.write_text(
        json.dumps(
            {"typeCheckingMode": "standard", "extraPaths": [str(ROOT)], "pythonVersion": "3.11"}
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "basedpyright", "-p", str(config), "--outputjson", *FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    revealed, errors = {}, set()
    for diagnostic in json.loads(done.stdout)["generalDiagnostics"]:
        number = diagnostic["range"]["start"]["line"] + 1
        if (
            diagnostic["file"].endswith("reveal_jobs.py")
            and diagnostic["severity"] == "information"
        ):
            revealed[number] = _short(diagnostic["message"].rsplit(" is ", 1)[1].strip('"'))
        elif diagnostic["file"].endswith("misuse_jobs.py") and diagnostic["severity"] == "error":
            errors.add(number)
        else:
            pytest.fail(f"unexpected pyright diagnostic: {diagnostic}")
    return revealed, errors


@pytest.mark.slow
@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_type_checkers_see_the_job_types(checker: str, tmp_path: Path) -> None:
    revealed, errors = _mypy() if checker == "mypy" else _pyright(tmp_path)
    assert revealed == _marked(REVEAL, reveals=True)
    assert errors == set(_marked(MISUSE, reveals=False))


# What the boundary does ------------------------------------------------------------------


@dataclass
class Item:
    sku: str
    qty: int = 1


@dataclass
class Order:
    id: str
    items: list[Item]
    placed_at: datetime | None = None


@dataclass
class Receipt:
    order_id: str
    units: int
    placed_at: datetime | None = None


class Note(TypedDict):
    text: str
    urgent: bool


class Refund(pydantic.BaseModel):
    order_id: str
    cents: int


def _place(order: Order) -> Receipt:
    assert isinstance(order, Order) and all(isinstance(item, Item) for item in order.items)
    return Receipt(order.id, sum(item.qty for item in order.items), order.placed_at)


place = create_workflow_job(name="place", body=_place)


@workflow_job("send-note")
async def send_note(note: Note, ctx: JobContext) -> Refund:
    return Refund(order_id=note["text"], cents=100 if note["urgent"] else 0)


def test_local_trigger_converts_inputs_and_results() -> None:
    at = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    receipt = place.trigger(Order("o1", [Item("a", 2), Item("b")], at))
    assert receipt == Receipt("o1", 3, at)
    assert place.trigger({"id": "o2", "items": [{"sku": "a"}]}) == Receipt("o2", 1)
    assert place.start(Order("o3", [])).result() == Receipt("o3", 0)
    assert send_note.trigger({"text": "o4", "urgent": True}) == Refund(order_id="o4", cents=100)


@pytest.mark.parametrize(
    ("job", "bad", "message"),
    [
        (place, {"id": "o1", "items": [{"sku": "a", "qty": "2"}]}, "items[0].qty: Expected `int`"),
        (place, {"items": []}, "Object missing required field `id`"),
        (send_note, {"text": "x", "urgent": "yes"}, "urgent: Expected `bool`, got `str`"),
    ],
)
def test_a_bad_input_names_the_field(job: Any, bad: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidJobInput, match=re.escape(message)):
        job.trigger(bad)


def test_pydantic_inputs_are_validated() -> None:
    def _refund(refund: Refund) -> dict[str, Any]:
        return {"cents": refund.cents}

    job = create_workflow_job(name="refund", body=_refund)
    assert job.trigger({"order_id": "o1", "cents": "5"}) == {"cents": 5}
    with pytest.raises(InvalidJobInput, match=r"not a valid Refund: cents: Input should be"):
        job.trigger({"order_id": "o1", "cents": "five"})


def _late(order: LateOrder) -> LateOrder:
    return LateOrder(order.qty + 1)


late_job = create_workflow_job(name="late", body=_late)  # LateOrder is not defined yet


@dataclass
class LateOrder:
    qty: int


def _ghost(ghost: Ghost, ctx: JobContext) -> Ghost:  # Ghost exists for type checkers only
    return ghost


ghost_job = create_workflow_job(name="ghost", body=_ghost)


def test_annotations_are_resolved_when_the_job_first_runs() -> None:
    assert late_job.trigger({"qty": 1}) == LateOrder(2)
    with pytest.raises(InvalidJobInput, match="qty: Expected `int`, got `str`"):
        late_job.trigger({"qty": "1"})
    assert ghost_job.trigger({"anything": [1]}) == {"anything": [1]}


def test_plain_jobs_pass_their_input_through_untouched() -> None:
    seen: list[Any] = []
    job = create_workflow_job(name="plain", body=lambda input: seen.append(input) or input)
    value = {"a": 1}
    assert job.invoke(value, None) is value and seen == [value]


# Through the engine (both backends) -----------------------------------------------------


def _ship(order: Order, ctx: JobContext) -> dict[str, Any]:
    receipt = place.trigger(order)  # a typed child: its result comes back as a Receipt
    handle = place.start(Order(order.id + "-copy", order.items))
    return {
        "units": receipt.units,
        "copy": handle.result().order_id,
        "kind": type(receipt).__name__,
    }


ship = create_workflow_job(name="ship", body=_ship)
ship_flow = create_workflow(name="ship-typed", main_job=ship)
note_flow = create_workflow(name="note-typed", main_job=send_note)


def test_typed_jobs_in_executions(store_url: str) -> None:
    with Engine(store_url, [ship_flow, note_flow]) as engine:
        done = engine.wait(engine.start(ship_flow, {"id": "o1", "items": [{"sku": "a", "qty": 4}]}))
        assert done.status == "SUCCESS", done.error
        assert done.result == {"units": 4, "copy": "o1-copy", "kind": "Receipt"}
        children = [j for j in done.job_executions if j.job_name == "place"]
        assert children[0].result == {"order_id": "o1", "units": 4, "placed_at": None}

        refunded = engine.wait(engine.start(note_flow, {"text": "o9", "urgent": False}))
        assert refunded.result == {"order_id": "o9", "cents": 0}

        bad = engine.wait(engine.start(ship_flow, {"id": "o2", "items": [{"qty": 1}]}))
    assert bad.status == "FAILED"
    assert bad.error is not None and bad.error["type"] == "InvalidJobInput"
    assert bad.error["message"] == (
        "Input of job 'ship' is not a valid Order: items[0]: Object missing required field `sku`"
    )
