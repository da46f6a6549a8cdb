"""The pytest plugin users get: the `engine` fixture and run_workflow."""

from __future__ import annotations

pytest_plugins = ["pytester"]


def test_the_engine_fixture_runs_a_workflow(pytester):
    pytester.makepyfile(
        """
        from stackflow import create_workflow, create_workflow_job
        from stackflow.testing import assert_job_executions, run_workflow

        double = create_workflow_job(name="double", body=lambda input: {"n": input["n"] * 2})
        main = create_workflow_job(
            name="main", body=lambda input, ctx: ctx.jobs.double(input), deps=[double]
        )
        flow = create_workflow(name="doubling", main_job=main)

        def test_doubling(engine):
            execution = run_workflow(engine, flow, {"n": 21})
            assert execution.result == {"n": 42}
            assert_job_executions(execution, [("main", "SUCCESS"), ("main/double", "SUCCESS")])
            assert engine.database_url.endswith("stackflow-state.db")

        def test_each_test_gets_a_fresh_store(engine):
            assert engine.list_executions() == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
