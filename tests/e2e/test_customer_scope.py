"""A customer's choices hold for all their loans (the rule pack's opt-out scope ``customer``): a complaint
on one case pauses contact on the customer's other cases; an opt-out given on one case holds on the others;
do-not-contact, set and cleared through the API with a reason, stops and resumes everything, pre-due
reminders included. Checked against what the providers accepted, on both worlds."""

from __future__ import annotations

import json
from datetime import date, timedelta

from dueflow_local.runtime import Runtime
from tests.e2e.conftest import borrower

SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}
ONE, TWO = "L1-2026-06-15", "L2-2026-06-16"


def dropped(rt: Runtime, loan: str, case: str) -> list[str]:
    return [
        record["body"]["reason"]
        for record in (json.loads(d) for _, d in rt.services.audit_store.read_case(loan, case))
        if record["type"] == "message_dropped"
    ]


def sent_sms_for(rt: Runtime, loan: str, case: str) -> int:
    return sum(
        1
        for record in (json.loads(d) for _, d in rt.services.audit_store.read_case(loan, case))
        if record["type"] == "message_sent" and record["body"]["channel"] == "sms"
    )


def two_loans_one_customer(rt: Runtime) -> None:
    first = borrower("L1", customer_id="C9")
    second = borrower("L2", customer_id="C9", start_date="2026-05-16")
    rt.load_book([first, second], date(2026, 6, 16))


def test_a_complaint_on_one_case_pauses_the_customers_other_cases(runtime: Runtime) -> None:
    rt = runtime
    two_loans_one_customer(rt)
    rt.run_day(date(2026, 6, 17), [("07:00", lambda: rt.api("POST", f"/cases/{ONE}/complaints", system=True))])
    rt.run_day(date(2026, 6, 18))
    assert rt.services.cases.require(TWO).complaint_open is False  # the complaint is on the other case
    assert sent_sms_for(rt, "L2", TWO) == 0
    # its first reminder (a notice the law requires) waits for contact to resume; nothing else went
    held = rt.services.outbox.get(f"{TWO}:first_reminder:sms")
    assert held is not None and held.status == "PENDING"


def test_an_opt_out_on_one_case_holds_on_the_customers_other_cases(runtime: Runtime) -> None:
    rt = runtime
    two_loans_one_customer(rt)

    def opt_out() -> None:
        rt.api("POST", f"/cases/{ONE}/opt-outs", {"channel": "sms"}, **SUPERVISOR)

    rt.run_day(date(2026, 6, 17), [("07:00", opt_out)])
    assert sent_sms_for(rt, "L1", ONE) == 0 and sent_sms_for(rt, "L2", TWO) == 0
    assert any("opted out of sms" in reason for reason in dropped(rt, "L2", TWO))


def test_do_not_contact_stops_everything_until_cleared(runtime: Runtime) -> None:
    rt = runtime
    two_loans_one_customer(rt)
    reason = {"reason": "cease-and-desist letter received"}

    def stop() -> None:
        rt.api("POST", f"/cases/{ONE}/do-not-contact", reason, **SUPERVISOR)

    rt.run_day(date(2026, 6, 17), [("07:00", stop)])
    assert sent_sms_for(rt, "L1", ONE) == sent_sms_for(rt, "L2", TWO) == 0
    assert any(r == "do not contact: cease-and-desist letter received" for r in dropped(rt, "L2", TWO))
    agent = {"user": "ag1", "groups": ("agent",)}
    assert rt.api("POST", f"/cases/{ONE}/do-not-contact/clear", reason, **agent)[0] == 403
    assert rt.api("POST", f"/cases/{ONE}/do-not-contact/clear", {"reason": "letter withdrawn"}, **SUPERVISOR)[0] == 200
    for day in (date(2026, 6, 17) + timedelta(days=n) for n in range(1, 9)):
        rt.run_day(day)
    assert sent_sms_for(rt, "L1", ONE) > 0  # the next reminder went out once cleared
