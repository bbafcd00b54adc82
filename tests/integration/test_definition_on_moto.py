"""The deployed definition runs on moto's Step Functions interpreter, with in-process Lambda dispatch.

The stage and wait functions here are recording fakes: this proves the definition itself (paths, data
flow, callbacks), not the handlers.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dueflow.settings import Settings
from dueflow.workflow.definition import Functions, build_definition
from dueflow_local.lambda_dispatch import Dispatcher, dispatching
from tests.integration.conftest import REGION

ACCOUNT = "123456789012"


def arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class Fakes:
    def __init__(self, legal_outcome: str = "litigate") -> None:
        self.tokens: dict[str, str] = {}
        self.waiting = threading.Event()
        self.stages: list[str] = []
        self.legal_outcome = legal_outcome

    def stage(self, event: dict[str, Any], _: Any) -> dict[str, Any]:
        self.stages.append(event["stage"] + (f":{event['outcome']}" if "outcome" in event else ""))
        return {"outcome": self.legal_outcome if event["stage"] == "legal_review" else "done"}

    def wait(self, event: dict[str, Any], _: Any) -> dict[str, Any]:
        self.tokens[event["state"]] = event["token"]
        self.waiting.set()
        return {"parked": True}


@pytest.fixture
def sfn(aws: None) -> Any:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        yield boto3.client("stepfunctions", region_name=REGION)


def run(sfn: Any, fakes: Fakes, answers: list[tuple[str, dict[str, Any]]]) -> tuple[str, list[str]]:
    dispatcher = Dispatcher()
    dispatcher.register("case_stage", fakes.stage)
    dispatcher.register("case_wait", fakes.wait)
    definition = build_definition(Functions(arn("case_stage"), arn("case_wait")), Settings())
    with dispatching(dispatcher):
        machine = sfn.create_state_machine(
            name="cases", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn"
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=machine,
            name="L1-2026-06-15",
            input=json.dumps({"case_id": "C1", "loan_id": "L1", "resume_at": "Confirm overdue"}),
        )["executionArn"]
        for state, event in answers:
            deadline = time.time() + 10
            while state not in fakes.tokens and time.time() < deadline:
                time.sleep(0.02)
            sfn.send_task_success(taskToken=fakes.tokens.pop(state), output=json.dumps(event))
        deadline = time.time() + 10
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.time() < deadline:
            time.sleep(0.02)
        status = sfn.describe_execution(executionArn=execution)["status"]
        history = sfn.get_execution_history(executionArn=execution)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    return status, entered


def test_a_customer_who_never_answers_goes_to_legal_review_and_litigation(sfn: Any) -> None:
    fakes = Fakes("litigate")
    status, entered = run(
        sfn,
        fakes,
        [
            ("Await response", {"kind": "no_response"}),
            ("Await response to second reminder", {"kind": "no_response"}),
            ("Await agreement", {"kind": "no_response"}),
        ],
    )
    assert status == "SUCCEEDED"
    assert [s for s in entered if not s.endswith("what happened?")] == [
        "New or continued case?",
        "Confirm overdue",
        "First contact",
        "Await response",
        "Second reminder",
        "Await response to second reminder",
        "Negotiate by phone",
        "Await agreement",
        "Legal review",
        "Litigate?",
        "Closed: litigation",
        "Closed: litigation: done",
    ]
    assert fakes.stages[-1] == "close:LITIGATION"


def test_a_payment_during_the_first_wait_closes_the_case_as_cured(sfn: Any) -> None:
    fakes = Fakes()
    status, entered = run(sfn, fakes, [("Await response", {"kind": "cured"})])
    assert status == "SUCCEEDED" and entered[-2:] == ["Closed: cured", "Closed: cured: done"]
    assert fakes.stages == ["confirm_overdue", "first_contact", "close:CURED"]


def test_a_kept_plan_settles_and_a_broken_one_is_renegotiated_once(sfn: Any) -> None:
    fakes = Fakes("write_off_review")
    status, entered = run(
        sfn,
        fakes,
        [
            ("Await response", {"kind": "plan_proposed"}),
            ("Await agreement", {"kind": "plan_accepted"}),
            ("Await plan event", {"kind": "tick"}),
            ("Await plan event", {"kind": "broken_promise", "renegotiations_left": 1}),
            ("Await agreement", {"kind": "plan_accepted"}),
            ("Await plan event", {"kind": "broken_promise", "renegotiations_left": 0}),
        ],
    )
    assert status == "SUCCEEDED"
    assert entered.count("Follow up plan") == 3 and entered.count("Negotiate by phone") == 1
    assert entered[-2:] == ["Closed: write-off review", "Closed: write-off review: done"]


def test_a_complaint_keeps_the_case_waiting_where_it_was(sfn: Any) -> None:
    fakes = Fakes()
    status, entered = run(sfn, fakes, [("Await response", {"kind": "paused"}), ("Await response", {"kind": "cured"})])
    assert status == "SUCCEEDED" and entered.count("Await response") == 2 and "Second reminder" not in entered
