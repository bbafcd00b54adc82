"""The scan's slices: a shard's due-index and its wake-ups in their own invocations, and a slice that
does not fit one invocation handing over to the next at its index position, on both worlds' stores.

The oracle is the book through the domain engine: every overdue loan past grace gets a case, every
loan due within the reminder horizon its reminders, however the work is cut."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from unittest import mock

import pytest

from dueflow import clock
from dueflow.domain.position import assess
from dueflow.pacing import Budget
from dueflow.services.context import Services
from dueflow.services.scan import ScanEvent, run_scan
from dueflow.settings import Settings
from dueflow_local.generate import generate_book
from dueflow_local.memory import Wire
from dueflow_local.memory_runtime import memory_services

AS_OF = date(2026, 7, 1)
NOON = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)


class Started:
    """A case workflow that records the executions started (this test is about the scan, not the cases)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def start(self, name: str, payload: Any) -> str:
        self.names.append(name)
        return f"arn:aws:states:local:000000000000:execution:cases:{name}"

    def resume(self, token: str, output: Any) -> None:
        raise AssertionError("not resumed here")

    def fail(self, token: str, error: str, cause: str) -> None:
        raise AssertionError("not failed here")

    def status(self, execution: str) -> str:
        return "RUNNING"  # every execution started here is still running


@pytest.fixture
def services() -> Iterator[Services]:
    clock.set_clock(lambda: NOON)
    clock.set_sleep(lambda seconds: None)
    services = memory_services(Settings(environment="slices", index_shards=2), Wire(), Started())
    services.loans.put(list(generate_book(120, seed=5, as_of=AS_OF)), AS_OF)
    yield services
    clock.set_sleep(None)
    clock.reset_clock()


def expected_cases(services: Services) -> set[str]:
    grace = max(services.settings.grace_days, 1)
    return {loan.loan_id for loan in services.loans.all() if assess(loan, AS_OF).dpd >= grace}


def opened(services: Services) -> set[str]:
    return {case.loan_id for case in services.cases.all()}


def budget_of(items: int) -> Budget:
    """Time for ``items`` items, then under the reserve."""
    left = iter([600_000] * items + [1_000] * 10_000)
    return Budget(lambda: next(left))


def test_a_shard_that_does_not_fit_one_invocation_hands_over_and_the_chain_does_all_of_it(
    services: Services,
) -> None:
    invocations = 0
    loans_read = 0
    for shard in (0, 1):
        after: tuple[str, str] | None = None
        while True:
            invocations += 1
            report = run_scan(services, AS_OF, [shard], parts=("due",), after=after, budget=budget_of(3))
            loans_read += report.loans_read
            if report.continue_after is None:
                break
            assert len(report.continue_after) == 2 and report.loans_read == 3
            after = (report.continue_after[0], report.continue_after[1])
    everything = sum(1 for shard in (0, 1) for _ in services.loans.due_by(AS_OF, 3, shard=shard))
    assert loans_read == everything and invocations >= 6  # each loan read exactly once, over many slices
    assert opened(services) == expected_cases(services) != set()
    assert len(services.workflow.names) == len(set(services.workflow.names)) == len(opened(services))  # type: ignore[attr-defined]


def test_a_slice_that_stops_before_its_first_item_starts_over_rather_than_skipping(services: Services) -> None:
    report = run_scan(services, AS_OF, [0], parts=("due",), budget=budget_of(0))
    assert report.continue_after == [] and report.loans_read == 0
    event = ScanEvent.parse({"as_of": "2026-07-01", "shard": 0, "part": "due", "after": []}, "Asia/Shanghai")
    assert event.after is None and event.run(services).continue_after is None


def test_wake_ups_run_in_their_own_invocation_and_hand_over_too(services: Services) -> None:
    run_scan(services, AS_OF, parts=("due",))  # the cases open and park (the executor is not running here)
    parked = []
    for index, case in enumerate(sorted(services.cases.all(), key=lambda c: c.case_id)):
        services.cases.park(case.case_id, f"token-{index}", "Await response", AS_OF)
        parked.append(case.case_id)
    woken: list[str] = []
    with mock.patch("dueflow.services.scan.wake", lambda _s, case, _d: woken.append(case.case_id) or "no_reply"):
        for shard in (0, 1):
            after = None
            while True:
                report = run_scan(services, AS_OF, [shard], parts=("wake",), after=after, budget=budget_of(2))
                if report.continue_after is None:
                    break
                after = (report.continue_after[0], report.continue_after[1])
    assert sorted(woken) == sorted(parked) and len(woken) == len(set(woken)) > 2


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"shard": "x"}, "shard"),
        ({"shard": 0, "part": "everything"}, "part"),
        ({"shard": 0, "part": "due", "after": ["2026-07-01"]}, "after"),
        ({"after": ["2026-07-01", "L1"]}, "after"),
    ],
)
def test_a_bad_scan_event_names_its_field(event: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"scan event field {field}"):
        ScanEvent.parse({"as_of": "2026-07-01", **event}, "Asia/Shanghai")


def test_the_handler_invokes_the_next_slice_with_the_position_when_its_time_runs_out(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dueflow.services.context import reset_default_services, set_default_services
    from dueflow_local.lambda_dispatch import LambdaContext
    from dueflow_local.runtime import load_handler

    sent: list[dict[str, Any]] = []
    monkeypatch.setenv("SCAN_FAN_OUT", "true")
    monkeypatch.setattr("dueflow.adapters.fanout.invoke_async", lambda _name, events, client=None: sent.extend(events))
    set_default_services(services)
    context = LambdaContext("dueflow-slices-scan", "r1")
    left: Callable[[], int] = iter([600_000] * 3 + [1_000] * 100).__next__
    context.get_remaining_time_in_millis = left  # type: ignore[method-assign]
    try:
        event = {"time": "2026-06-30T18:00:00Z", "shard": 1, "part": "due"}
        report = load_handler("scan").handler(event, context)
    finally:
        reset_default_services()
    assert report["loans_read"] == 3 and report["continue_after"]
    assert sent == [{**event, "after": report["continue_after"]}]


def test_a_loan_whose_calls_fail_a_few_times_still_gets_its_case_the_same_day(services: Services) -> None:
    """A short outage fails an item's calls on their first attempts: the item is tried again, and every
    overdue loan has its case from this one invocation."""
    from dueflow.ports import ServiceUnavailable

    failures = iter([True, False, False, False] * 1000)  # one case write in four fails

    def flaky(service: str, operation: str, params: Any) -> None:
        if service == "dynamodb" and operation == "PutItem" and next(failures):
            raise ServiceUnavailable(service, operation, "injected")

    services.cases._wire.before.append(flaky)  # type: ignore[attr-defined]
    report = run_scan(services, AS_OF)
    assert report.items_failed == 0 and opened(services) == expected_cases(services)


def test_an_outage_stops_the_invocation_after_a_few_items_instead_of_trying_each(services: Services) -> None:
    from dueflow.ports import ServiceUnavailable
    from dueflow.services.scan import OUTAGE_ITEMS, ItemsFailed

    attempts = 0

    def down(service: str, operation: str, params: Any) -> None:
        nonlocal attempts
        if service == "dynamodb" and operation == "PutItem":
            attempts += 1
            raise ServiceUnavailable(service, operation, "injected")

    services.cases._wire.before.append(down)  # type: ignore[attr-defined]
    with pytest.raises(ItemsFailed):
        run_scan(services, AS_OF)
    assert opened(services) == set() and attempts <= OUTAGE_ITEMS * 4 + 4
    services.cases._wire.before.remove(down)  # type: ignore[attr-defined]
    run_scan(services, AS_OF)  # the trigger's retry, after the outage
    assert opened(services) == expected_cases(services)
