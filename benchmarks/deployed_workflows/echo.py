"""W5: a one-job workflow that returns its input and the id of the process that ran it."""

import os
from typing import Any

from stackflow import create_workflow, create_workflow_job


def _echo(input: dict[str, Any]) -> dict[str, Any]:
    return {"i": input["i"], "pid": os.getpid()}


echo_job = create_workflow_job(name="echo", body=_echo)
workflow = create_workflow(name="echo", main_job=echo_job)
