"""Clawback: a waiver granted for a repayment plan is owed again when the plan breaks (the cn pack's
``waivers.reinstate_on_broken_plan``, docs/rules.md), end to end through the API, the ledger and the case's
audit record. The amounts are checked against the domain engine reading the book and the payments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dueflow.domain.position import assess
from dueflow.settings import Settings
from dueflow_local.memory_runtime import MemoryRuntime
from tests.e2e.conftest import accept_shown, borrower

CASE = "L1-2026-06-15"
AGENT = {"user": "ag1", "groups": ("agent",)}
SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}


@pytest.fixture
def rt() -> Iterator[MemoryRuntime]:
    with MemoryRuntime(
        Settings(environment="clawback", index_shards=2), start=datetime(2026, 6, 16, tzinfo=UTC)
    ) as runtime:
        runtime.load_book([borrower()], date(2026, 6, 16))
        for day in range(17, 26):
            runtime.run_day(date(2026, 6, day))
        yield runtime


def records(rt: MemoryRuntime, kind: str) -> list[dict[str, Any]]:
    objects = rt.services.audit_store.read_case("L1", CASE)
    return [r["body"] for r in (json.loads(d) for _, d in objects) if r["type"] == kind]


def test_a_broken_plan_reinstates_its_waiver_on_the_ledger_and_the_record(rt: MemoryRuntime) -> None:
    today = date(2026, 6, 26)
    loan = rt.services.loans.get("L1")
    assert loan is not None
    penalty = assess(loan, today).penalty
    assert penalty > 0

    def negotiate() -> None:
        assert rt.api("POST", f"/cases/{CASE}/assignment", {"agent": "ag1"}, **SUPERVISOR)[0] == 200
        status, plan = rt.api("POST", f"/cases/{CASE}/plan-proposals", {"waive_penalty": str(penalty)}, **AGENT)
        assert status == 200, plan
        assert plan["waiver_conditional"] is True  # the term the customer accepts
        assert accept_shown(rt, CASE)[0] == 200

    rt.run_day(today, [("12:00", negotiate)])
    case = rt.services.cases.require(CASE)
    assert case.plan is not None and case.plan.waived_penalty == penalty and case.waived == penalty
    first_due = case.plan.installments[0].due_date
    loan = rt.services.loans.get("L1")
    assert loan is not None and assess(loan, today + timedelta(days=1)).penalty == 0

    # the customer pays nothing: the plan breaks the day after its grace (3 days)
    broken_on = first_due + timedelta(days=rt.services.settings.broken_promise_grace_days + 1)
    day = today + timedelta(days=1)
    while day <= broken_on:
        rt.run_day(day)
        day += timedelta(days=1)
    loan = rt.services.loans.get("L1")
    assert loan is not None
    position = assess(loan, broken_on)
    assert position.plan is not None and position.plan.broken_on == broken_on
    assert position.reinstated == penalty and position.waived == 0
    assert position.penalty > penalty  # owed again, plus what accrued since the plan broke
    (record,) = records(rt, "waiver_reinstated")
    assert record == {
        "plan_version": 1,
        "broken_on": broken_on.isoformat(),
        "reinstated": str(penalty),
        "penalty": str(penalty),
        "interest": "0.00",
    }
    after = rt.services.cases.require(CASE)
    assert (after.waived, after.waiver_reinstated) == (penalty, penalty)
    rt.run_day(broken_on + timedelta(days=1))  # a later wake does not record it twice
    assert len(records(rt, "waiver_reinstated")) == 1


def test_under_a_pack_without_clawback_the_waiver_is_booked_unconditionally(
    rt: MemoryRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dueflow.domain import rules
    from dueflow.services import case_actions

    cn = rules.load_pack("cn")
    lenient = cn.model_copy(update={"waivers": cn.waivers.model_copy(update={"reinstate_on_broken_plan": False})})
    monkeypatch.setattr(case_actions, "load_pack", lambda name: lenient)
    assert rt.api("POST", f"/cases/{CASE}/assignment", {"agent": "ag1"}, **SUPERVISOR)[0] == 200
    status, plan = rt.api("POST", f"/cases/{CASE}/plan-proposals", {"waive_penalty": "1.00"}, **AGENT)
    assert status == 200 and plan["waiver_conditional"] is False
    assert accept_shown(rt, CASE)[0] == 200
    loan = rt.services.loans.get("L1")
    assert loan is not None
    (waiver,) = [e for e in loan.adjustments if e.kind == "waiver"]
    assert waiver.conditional_on is None  # type: ignore[union-attr]
