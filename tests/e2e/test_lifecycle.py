"""The lifecycle's notices and safety nets, on the in-memory world (whose executor fires callback
timeouts on the simulated clock, as Step Functions does)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from dueflow.settings import Settings
from dueflow_local.runtime import Runtime, open_runtime
from tests.e2e.conftest import borrower, sent_messages

CASE = "L1-2026-06-15"
SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}


@pytest.fixture
def rt() -> Iterator[Runtime]:
    with open_runtime("memory", Settings(environment="life", index_shards=2), datetime(2026, 6, 16, tzinfo=UTC)) as r:
        r.load_book([borrower()], date(2026, 6, 16))
        r.run_day(date(2026, 6, 17))
        yield r


def accept_plan(rt: Runtime, months: int) -> list[dict[str, str]]:
    status, plan = rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": months}, **SUPERVISOR)  # type: ignore[arg-type]
    assert status == 200, plan
    assert rt.api("POST", f"/cases/{CASE}/plan-acceptance", system=True)[0] == 200
    return list(plan["installments"])


def test_a_three_month_plan_sends_a_progress_notice_every_fourteen_days(rt: Runtime) -> None:
    day = date(2026, 6, 18)
    installments: list[dict[str, str]] = []
    rt.run_day(day, [("10:00", lambda: installments.extend(accept_plan(rt, 3)))])
    assert len(installments) == 3
    payments = {date.fromisoformat(i["due_date"]): i["amount"] for i in installments}
    while rt.services.cases.require(CASE).is_open and day < date(2026, 10, 1):
        day += timedelta(days=1)
        pay = payments.get(day)
        actions = []
        if pay is not None:
            body = {"date": day.isoformat(), "amount": pay, "reference": f"plan-{day}"}
            actions = [("10:00", lambda b=body: rt.api("POST", "/loans/L1/payments", b, system=True))]
        rt.run_day(day, actions)
    case = rt.services.cases.require(CASE)
    assert (case.status, case.outcome) == ("CLOSED", "SETTLED")
    assert case.closed_on == max(payments)
    notices = [m for m in sent_messages(rt, CASE) if m.template == "plan_progress"]
    # one notice a channel at each 14 days since acceptance while the plan was in force
    accepted = date(2026, 6, 18)
    periods = [n for n in range(1, 12) if accepted + timedelta(days=14 * n) < max(payments)]
    assert len(periods) == 4
    assert sorted((m.sent_at.date(), m.channel) for m in notices) == sorted(  # type: ignore[union-attr]
        (accepted + timedelta(days=14 * n), channel) for n in periods for channel in ("email", "sms")
    )


def test_a_plan_broken_while_nothing_woke_the_case_is_caught_by_the_timeout_and_renegotiated(rt: Runtime) -> None:
    """No scan runs (the schedule is down): the plan's callback times out, the re-evaluation finds the
    plan broken and the case goes to "Renegotiation allowed?", which reads what the re-evaluation said."""
    rt.run_day(date(2026, 6, 18), [("10:00", lambda: accept_plan(rt, 3))])
    rt.at(rt.now + timedelta(days=20))  # timers fire as time passes; no scan, no payment
    stages = rt.stages_entered(CASE)
    assert stages[-5:] == [
        "Await plan event: re-evaluate",
        "Await plan event: what happened?",
        "Renegotiation allowed?",
        "Negotiate by phone",
        "Await agreement",
    ], stages
    assert rt.execution(CASE)["status"] == "RUNNING"
    case = rt.services.cases.require(CASE)
    assert case.renegotiations_used == 1 and case.waiting_state == "Await agreement"
