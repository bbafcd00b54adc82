"""The definition's edges, driven on both interpreters: every scenario of tests/unit/test_executor.py
that needs no timeout runs on moto's Step Functions interpreter too, with the same scripted tasks, and
must enter the same states in the same order and end the same way. (moto times ``TimeoutSeconds`` in
real seconds, so the scenarios whose callbacks time out run on the executor only.)
"""

from __future__ import annotations

import copy
import json
import time
from collections import defaultdict
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dueflow.settings import Settings
from dueflow.workflow import definition as d
from dueflow.workflow.definition import Functions, build_definition
from dueflow_local.lambda_dispatch import Dispatcher, dispatching
from tests.unit.test_executor import SCENARIOS, Script

REGION = "eu-west-1"
ACCOUNT = "123456789012"


def arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def on_moto(script: Script) -> tuple[str, list[str]]:
    """The script's run on moto's interpreter: (status, states entered)."""
    stage = defaultdict(list, copy.deepcopy(dict(script.stage)))
    wait = defaultdict(list, copy.deepcopy(dict(script.wait)))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        sfn = boto3.client("stepfunctions", region_name=REGION)

        def stage_task(event: dict[str, Any], _: Any) -> Any:
            queue = stage[event["stage"]]
            action = queue.pop(0) if queue else {"outcome": "ok"}
            if isinstance(action, Exception):
                raise action
            return action

        def wait_task(event: dict[str, Any], _: Any) -> Any:
            queue = wait[event["state"]]
            action = queue.pop(0) if queue else "hold"
            if isinstance(action, Exception):
                raise action
            if isinstance(action, dict):
                sfn.send_task_success(taskToken=event["token"], output=json.dumps(action))
            return {"parked": event["case_id"]}

        dispatcher = Dispatcher()
        dispatcher.register("case_stage", stage_task)
        dispatcher.register("case_wait", wait_task)
        definition = build_definition(Functions(arn("case_stage"), arn("case_wait")), Settings())
        with dispatching(dispatcher):
            machine = sfn.create_state_machine(
                name="cases", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn"
            )["stateMachineArn"]
            execution = sfn.start_execution(
                stateMachineArn=machine,
                name="C1",
                input=json.dumps({"case_id": "C1", "loan_id": "L1", "resume_at": script.resume_at}),
            )["executionArn"]
            deadline = time.time() + 20
            while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.time() < deadline:
                time.sleep(0.02)
            status = sfn.describe_execution(executionArn=execution)["status"]
            history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    return status, [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


WITHOUT_TIMEOUTS = sorted(
    name for name, (build, _) in SCENARIOS.items() if "timeout" not in [a for q in build().wait.values() for a in q]
)


@pytest.mark.parametrize("name", WITHOUT_TIMEOUTS)
def test_a_scenario_enters_the_same_states_on_moto_and_on_the_executor(name: str) -> None:
    build, final = SCENARIOS[name]
    executor = build()
    entered = executor.run()
    status, on_moto_entered = on_moto(build())
    assert (status, on_moto_entered) == (executor.executor.executions["C1"].status, entered)
    assert entered[-2:] == ([d.CONTINUE, d.CONTINUED] if final == d.CONTINUED else [final, f"{final}: done"])


def test_the_scenarios_run_on_both_take_every_edge_but_the_safety_nets() -> None:
    """Only the timeout edges (a callback's Catch, its re-evaluation) are left to the executor alone."""
    from itertools import pairwise

    from tests.unit.test_executor import edges_of_definition

    taken = {edge for name in WITHOUT_TIMEOUTS for edge in pairwise(SCENARIOS[name][0]().run())}
    missing = edges_of_definition() - taken
    assert missing and all(any(s.endswith(": re-evaluate") for s in edge) for edge in missing), sorted(missing)
