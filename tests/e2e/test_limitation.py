"""The limitation period (诉讼时效) tracked on each case, under the cn pack: it runs from the last
installment's due date (民法典 第一百八十九条), three years (第一百八十八条), and starts again at each demand the
provider accepted and each acknowledgement (第一百九十五条); within 180 days of its end the case is flagged
once, legal hears of it, and the case goes to legal review, whose assessment carries the dates."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from dueflow_local.runtime import Runtime
from tests.e2e.conftest import borrower
from tests.e2e.test_paths import audit_ok

# three installments, the last due 2023-12-15: the period would end on 2026-12-15
OLD = {"start_date": "2023-09-15", "term_months": 3}
SILENT, REACHED = "S1-2023-10-15", "R1-2023-10-15"


def records(rt: Runtime, loan: str, case: str, kind: str) -> list[dict[str, Any]]:
    return [
        r["body"]
        for r in (json.loads(d) for _, d in rt.services.audit_store.read_case(loan, case))
        if r["type"] == kind
    ]


def test_a_period_nearing_its_end_is_flagged_once_and_escalated_and_a_demand_starts_it_again(runtime: Runtime) -> None:
    rt = runtime
    silent = borrower("S1", **OLD)  # no contact details the bank may use: nothing reaches the customer
    silent = silent.model_copy(
        update={"customer": silent.customer.model_copy(update={"phone": None, "email": None})}  # type: ignore[union-attr]
    )
    reached = borrower("R1", **OLD)
    rt.load_book([silent, reached], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))
    case = rt.services.cases.require(SILENT)
    assert (case.limitation_started_on, case.limitation_expires_on) == (date(2023, 12, 15), date(2026, 12, 15))
    assert case.limitation_warn_on == date(2026, 12, 15) - timedelta(days=180)  # 2026-06-18
    # the reachable customer's first SMS (a demand the provider accepted) started the period again
    other = rt.services.cases.require(REACHED)
    assert other.limitation_last_interruption == date(2026, 6, 17)
    assert other.limitation_expires_on == date(2029, 6, 17)

    reports = [rt.scan(date(2026, 6, 18)), rt.scan(date(2026, 6, 19))]
    # flagged once: the flag wakes the case, which goes to legal review at once (and closes there), so
    # the next morning it is no longer among the open cases nearing their end
    assert [r["limitation_nearing"] for r in reports] == [1, 0]
    assert [r["limitation_flagged"] for r in reports] == [1, 0]
    (flag,) = records(rt, "S1", SILENT, "limitation_nearing")
    assert flag == {
        "started_on": "2023-12-15",
        "last_interruption": "2023-12-15",
        "expires_on": "2026-12-15",
        "days_left": 180,
        "expired": False,
        "escalated_to": "legal",
    }
    notices = [n for n in rt.staff_notices() if n["type"] == "limitation_nearing"]
    assert {n["case_id"] for n in notices} == {SILENT}  # the flag, then legal review saying so again
    assert not records(rt, "R1", REACHED, "limitation_nearing")
    # escalated: the case reaches legal review, whose assessment carries the tracked dates
    for offset in range(1, 40):
        rt.run_day(date(2026, 6, 19) + timedelta(days=offset))
        if records(rt, "S1", SILENT, "legal_assessment"):
            break
    assessment = records(rt, "S1", SILENT, "legal_assessment")[0]
    assert (assessment["limitation_expires_on"], assessment["limitation_nearing"]) == ("2026-12-15", True)
    # at the next decision point (the wake the flag makes of "Await response"), not after a second
    # reminder and a round of negotiation (docs/workflow.md, "The limitation period")
    entered = [r["stage"] for r in records(rt, "S1", SILENT, "stage_entered")]
    assert "legal_review" in entered and "Await response" in entered
    assert "second_reminder" not in entered and "negotiate" not in entered, entered
    audit_ok(rt, SILENT, "S1")


def test_a_payment_acknowledges_the_debt_and_a_closed_case_leaves_the_index(runtime: Runtime) -> None:
    rt = runtime
    silent = borrower("S1", **OLD)
    silent = silent.model_copy(
        update={"customer": silent.customer.model_copy(update={"phone": None, "email": None})}  # type: ignore[union-attr]
    )
    rt.load_book([silent], date(2026, 6, 16))
    # paid the day the case opened, before the next morning's scan would flag the period (and send the
    # case to legal review at once)
    paid = {"date": "2026-06-17", "amount": "10.00", "reference": "bank-0617"}
    rt.run_day(date(2026, 6, 17), [("10:00", lambda: rt.api("POST", "/loans/S1/payments", paid, system=True))])
    case = rt.services.cases.require(SILENT)
    assert (case.limitation_last_interruption, case.limitation_expires_on) == (date(2026, 6, 17), date(2029, 6, 17))
    assert rt.scan(date(2026, 6, 19))["limitation_nearing"] == 0
    assert list(rt.services.cases.limitations_due(date(2029, 1, 1))) == [SILENT]
    everything = {"date": "2026-06-20", "amount": "20000.00", "reference": "bank-all"}
    rt.run_day(date(2026, 6, 20), [("10:00", lambda: rt.api("POST", "/loans/S1/payments", everything, system=True))])
    rt.run_day(date(2026, 6, 21))
    assert rt.services.cases.require(SILENT).status == "CLOSED"
    assert list(rt.services.cases.limitations_due(date(2029, 1, 1))) == []


def test_under_the_us_pack_messages_and_payments_do_not_extend_the_period(runtime: Runtime) -> None:
    """New York GOL 17-101 (Consumer Credit Fairness Act): nothing revives or extends the period, which
    runs from the oldest unpaid installment (CPLR 214-i, 3 years): 2023-10-15 to 2026-10-15."""
    from tests.e2e.test_us_pack import NEW_YORK

    rt = runtime
    us = borrower("U1", currency="USD", rules="us", customer=NEW_YORK, **OLD)
    rt.load_book([us], date(2026, 6, 16))
    paid = {"date": "2026-06-17", "amount": "10.00", "reference": "bank-0617"}
    rt.run_day(date(2026, 6, 17), [("23:00", lambda: rt.api("POST", "/loans/U1/payments", paid, system=True))])
    case = rt.services.cases.require("U1-2023-10-15")
    assert records(rt, "U1", case.case_id, "message_sent") and records(rt, "U1", case.case_id, "payment_received")
    assert (case.limitation_started_on, case.limitation_expires_on) == (date(2023, 10, 15), date(2026, 10, 15))
    assert case.limitation_last_interruption == date(2023, 10, 15)
    # within 180 days of its end from the start: flagged by the scan that opened it, once
    assert case.limitation_flagged_on == date(2026, 6, 17)
    rt.scan(date(2026, 6, 18))
    assert rt.services.cases.require(case.case_id).limitation_flagged_on == date(2026, 6, 17)
