"""A case whose execution fails (a stage out of retries in an S3 outage) is continued from its record, on
both worlds: at once from the execution's status-change event, and by the next scan when the outage
outlasted the day's restarts. Nothing is sent twice, nothing is lost, and the case ends as it would have."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest

from dueflow.domain.audit_chain import verify_chain
from dueflow.services.recovery import MAX_RESTARTS_A_DAY
from dueflow.settings import Settings
from dueflow_local.faults import FaultPlan, injecting, injecting_memory
from dueflow_local.runtime import BACKENDS, Runtime, open_runtime
from tests.e2e.conftest import borrower

CASE = "L1-2026-06-15"


@pytest.fixture(params=BACKENDS)
def faulty(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    settings = Settings(environment="e2e", index_shards=2)
    with open_runtime(request.param, settings, start=datetime(2026, 6, 16, tzinfo=UTC), tolerate_failures=True) as rt:
        yield rt


@contextmanager
def stage_outage(rt: Runtime, faults: str) -> Iterator[None]:
    """Every SDK attempt of the ``faults`` calls fails while a stage task runs: the stage exhausts its
    ``Retry`` and the execution fails. Other functions are not touched."""
    plan = FaultPlan.parse(faults)
    only = lambda: rt.dispatcher.current() == "case_stage"  # noqa: E731
    inject = injecting_memory(plan, rt.wire, 1, only) if rt.backend == "memory" else injecting(plan, 1, only)  # type: ignore[attr-defined]
    with inject:
        yield


def sent(rt: Runtime, template: str) -> list[str]:
    messages = [rt.services.outbox.get(i["message_id"]) for i in rt.services.outbox.all()]
    mine = [m for m in messages if m and m.case_id == CASE and m.template == template]
    return sorted(m.channel for m in mine if m.status == "SENT")


def up_to_the_second_reminder(rt: Runtime) -> date:
    """The case opened and waiting for a response; the day before its second reminder is due."""
    rt.load_book([borrower()], date(2026, 6, 16))
    day = date(2026, 6, 17)
    rt.run_day(day)
    case = rt.services.cases.require(CASE)
    assert case.waiting_state == "Await response" and case.wake_on is not None
    while day < case.wake_on - timedelta(days=1):
        day += timedelta(days=1)
        rt.run_day(day)
    return day


def cured_with_its_chain(rt: Runtime, day: date) -> list[bytes]:
    """A payment cures the case through its current execution; the case's audit records (verified)."""
    rt.run_day(day, [("12:00", lambda: rt.post_payment("L1", day, "1200.00"))])
    case = rt.services.cases.require(CASE)
    assert (case.status, case.outcome) == ("CLOSED", "CURED")
    assert rt.execution(CASE)["status"] == "SUCCEEDED"
    objects = rt.services.audit_store.read_case("L1", CASE)
    report = verify_chain(CASE, objects, case.audit_head)
    assert report.ok, report.problems
    return [body for key, body in objects if "execution_restarted" in key]


def test_a_failed_execution_is_continued_at_once_from_its_status_change(faulty: Runtime) -> None:
    rt = faulty
    day = up_to_the_second_reminder(rt) + timedelta(days=1)
    first_execution = rt.services.cases.require(CASE).execution_arn
    # Given an S3 outage while the second reminder's stage runs: it fails on every retry
    with stage_outage(rt, "s3:PutObject=1.0"):
        rt.scan(day)
        rt.at(rt.now + timedelta(minutes=5))  # past the stage's retry intervals
        rt.settle()
    # Then the status-change event continued the case in the stage that failed, as the same visit
    case = rt.services.cases.require(CASE)
    assert rt.stages_entered(CASE).count("Second reminder") == 2  # the failed execution's and the new one's
    assert case.restarts == 1 and case.execution_arn != first_execution
    assert rt.execution(CASE)["status"] == "RUNNING" and case.waiting_state == "Await response to second reminder"
    rt.dispatch_through(rt.local(day, "23:59"))
    assert sent(rt, "second_reminder") == ["email", "sms"]  # once on each channel
    restarts = cured_with_its_chain(rt, day + timedelta(days=1))
    assert len(restarts) == 1 and b"execution status change" in restarts[0] and b"FAILED" in restarts[0]


def test_a_case_failing_all_day_is_continued_by_the_next_scan(faulty: Runtime) -> None:
    rt = faulty
    day = up_to_the_second_reminder(rt) + timedelta(days=1)
    # Given DynamoDB refusing every write of the stage tasks all day: each restart fails again
    with stage_outage(rt, "dynamodb:UpdateItem=1.0,dynamodb:PutItem=1.0"):
        rt.run_day(day)
    # Then the day's restarts from status changes are used up, and the case waits, open, for the scan
    case = rt.services.cases.require(CASE)
    assert case.is_open and case.restarts == MAX_RESTARTS_A_DAY
    assert rt.execution(CASE)["status"] == "FAILED"
    assert sent(rt, "second_reminder") == []
    # When the outage is over, the next scan finds the failed execution and continues the case
    day += timedelta(days=1)
    rt.run_day(day)
    case = rt.services.cases.require(CASE)
    assert case.restarts == MAX_RESTARTS_A_DAY + 1
    assert rt.execution(CASE)["status"] == "RUNNING" and case.waiting_state == "Await response to second reminder"
    assert sent(rt, "second_reminder") == ["email", "sms"]
    assert sent(rt, "first_reminder") == ["email", "sms"]
    restarts = cured_with_its_chain(rt, day + timedelta(days=1))
    assert len(restarts) == MAX_RESTARTS_A_DAY + 1
    assert b"daily scan" in restarts[-1] and all(b"execution status change" in r for r in restarts[:-1])
