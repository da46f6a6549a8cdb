"""Ids: executions get time-ordered UUIDs; a job execution's id is derived from its place."""

from __future__ import annotations

import uuid

import pytest

from stackflow.clock import job_execution_id, new_id


def test_execution_ids_are_uuid7_in_creation_order() -> None:
    ids = [new_id() for _ in range(1_000)]

    assert ids == sorted(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}


@pytest.mark.parametrize("seq", [0, 1, 999, (1 << 48) - 1, 1 << 48, (1 << 62) - 1])
def test_a_job_execution_id_is_the_execution_id_with_its_seq_mixed_into_the_random_bits(
    seq: int,
) -> None:
    execution_id = new_id()
    expected = uuid.UUID(int=uuid.UUID(execution_id).int ^ seq)

    derived = job_execution_id(execution_id, seq)

    assert derived == str(expected)


def test_job_execution_ids_of_one_execution_are_distinct_across_the_whole_seq_range() -> None:
    execution_id = new_id()
    seqs = [*range(1, 2_000), *range((1 << 48) - 1_000, (1 << 48) + 1_000)]

    assert len({job_execution_id(execution_id, seq) for seq in seqs}) == len(seqs)
