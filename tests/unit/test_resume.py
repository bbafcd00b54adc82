"""Answering a waiting case when its token cannot be answered: never swallowed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from dueflow.ports import TokenNotWaiting
from dueflow.services.waiting import resume
from dueflow.settings import Settings
from dueflow_local.runtime import open_runtime
from tests.e2e.conftest import borrower

CASE = "L1-2026-06-15"


class TimedOutOnce:
    """A workflow whose first answer finds the task timed out: meanwhile the execution's safety net
    re-evaluated the case and parked it again with a new token (as Step Functions may, concurrently)."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.answered: list[tuple[str, Mapping[str, Any]]] = []

    def resume(self, token: str, output: Mapping[str, Any]) -> None:
        if not self.answered and token != "after-re-evaluation":
            self.answered.append((token, {"refused": "TaskTimedOut"}))
            self.services.cases.park(CASE, "after-re-evaluation", "Await agreement", date(2026, 7, 1))
            raise TokenNotWaiting("TaskTimedOut")
        self.answered.append((token, output))


def test_an_answer_that_finds_its_task_timed_out_goes_to_the_re_parked_case() -> None:
    with open_runtime("memory", Settings(environment="re", index_shards=2), datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
        old = rt.services.cases.require(CASE).task_token
        assert old
        services = dataclasses.replace(rt.services, workflow=TimedOutOnce(rt.services))
        assert resume(services, CASE, {"kind": "plan_accepted"})
        assert services.workflow.answered == [  # type: ignore[attr-defined]
            (old, {"refused": "TaskTimedOut"}),
            ("after-re-evaluation", {"kind": "plan_accepted"}),
        ]
        assert rt.services.cases.require(CASE).task_token is None  # both tokens are off the case


def test_an_answer_already_given_is_left_to_that_answer() -> None:
    class Answered:
        def resume(self, token: str, output: Mapping[str, Any]) -> None:
            raise TokenNotWaiting("InvalidToken")

    with open_runtime("memory", Settings(environment="re", index_shards=2), datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
        services = dataclasses.replace(rt.services, workflow=Answered())
        assert resume(services, CASE, {"kind": "cured"})
        case = rt.services.cases.require(CASE)
        assert case.task_token is None and case.continuations == 0  # no second execution for it
