"""The ``CaseWorkflow`` port on Step Functions: one Standard execution per case, callbacks by token."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from dueflow.ports import ExecutionAlreadyExists, TokenNotWaiting

TOKEN_GONE = ("InvalidToken", "TaskTimedOut", "TaskDoesNotExist")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class StepFunctionsWorkflow:
    def __init__(self, sfn: Any, state_machine_arn: str) -> None:
        self._sfn = sfn
        self._arn = state_machine_arn

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        try:
            response = self._sfn.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        except ClientError as exc:
            if _code(exc) == "ExecutionAlreadyExists":
                raise ExecutionAlreadyExists(name) from exc
            raise
        return str(response["executionArn"])

    def resume(self, token: str, output: Mapping[str, Any]) -> None:
        try:
            self._sfn.send_task_success(taskToken=token, output=json.dumps(output))
        except ClientError as exc:
            if _code(exc) in TOKEN_GONE:
                raise TokenNotWaiting(_code(exc), str(exc)) from exc
            raise

    def fail(self, token: str, error: str, cause: str) -> None:
        try:
            self._sfn.send_task_failure(taskToken=token, error=error, cause=cause)
        except ClientError as exc:
            if _code(exc) in TOKEN_GONE:
                raise TokenNotWaiting(_code(exc), str(exc)) from exc
            raise

    def status(self, execution: str) -> str:
        return str(self._sfn.describe_execution(executionArn=execution)["status"])
