"""The collection paths, end to end on the local runtime."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dueflow.domain.audit_chain import verify_chain
from dueflow.domain.position import assess
from dueflow.settings import Settings
from dueflow_local.runtime import BACKENDS, Backend, Runtime, open_runtime
from tests.e2e.conftest import NO_TABLE, accept_shown, borrower, sent_messages

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE = "L1-2026-06-15"


def audit_ok(rt: Runtime, case_id: str, loan_id: str = "L1") -> list[str]:
    case = rt.services.cases.require(case_id)
    objects = rt.services.audit_store.read_case(loan_id, case_id)
    report = verify_chain(case_id, objects, case.audit_head)
    assert report.ok, report.problems
    return [key.rsplit("/", 1)[-1].split("-", 1)[1].removesuffix(".json") for key, _ in objects]


def test_path_1_pays_after_the_first_reminder_and_is_cured(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    # Day 1 (DPD 2): the scan opens the case; the reminders go out when the window opens at 08:00
    rt.run_day(date(2026, 6, 17))
    assert rt.stages_entered(CASE)[:4] == [
        "New or continued case?",
        "Confirm overdue",
        "First contact",
        "Await response",
    ]
    first = sent_messages(rt, CASE)
    assert [(m.channel, m.template, m.language) for m in first] == [
        ("email", "first_reminder", "zh-CN"),
        ("sms", "first_reminder", "zh-CN"),
    ]
    assert {m.sent_at.astimezone(SHANGHAI).strftime("%H:%M") for m in first} == {"08:00"}  # type: ignore[union-attr]
    # Day 2: the customer pays the total overdue at noon
    total = rt.services.cases.require(CASE).statement["total_overdue"]
    rt.run_day(date(2026, 6, 18), [("12:00", lambda: rt.post_payment("L1", date(2026, 6, 18), "1100.00"))])
    assert total
    case = rt.services.cases.require(CASE)
    assert (case.status, case.outcome) == ("CLOSED", "CURED")
    assert rt.execution(CASE)["status"] == "SUCCEEDED"
    assert rt.stages_entered(CASE)[-2:] == ["Closed: cured", "Closed: cured: done"]
    # no further message, ever
    rt.run_day(date(2026, 6, 19))
    assert len(sent_messages(rt, CASE)) == 2
    kinds = audit_ok(rt, CASE)
    assert kinds[0] == "case_opened" and kinds[-1] == "case_closed" and kinds.count("message_sent") == 2
    assert "payment_received" in kinds


def days(start: date, count: int) -> list[date]:
    return [date.fromordinal(start.toordinal() + n) for n in range(count)]


def test_path_4_never_answers_with_a_small_balance_and_goes_to_write_off_review(runtime: Runtime) -> None:
    """A silent customer is reminded, then called by an agent every negotiation round until the loan is
    90 days past due (the legal-review threshold); only then legal review, here write-off review."""
    rt = runtime
    rt.load_book([borrower(principal="3000.00")], date(2026, 6, 16))
    for day in days(date(2026, 6, 17), 120):
        rt.run_day(day)
        if not rt.services.cases.require(CASE).is_open:
            break
    case = rt.services.cases.require(CASE)
    assert (case.status, case.outcome) == ("CLOSED", "WRITE_OFF_REVIEW")
    loan = rt.services.loans.get("L1")
    assert loan is not None and case.closed_on is not None
    assert assess(loan, case.closed_on).dpd >= 90 > assess(loan, case.closed_on - timedelta(days=14)).dpd
    stages = [s for s in rt.stages_entered(CASE) if not s.endswith("what happened?")]
    assert stages[:8] == [
        "New or continued case?",
        "Confirm overdue",
        "First contact",
        "Await response",
        "Second reminder",
        "Await response to second reminder",
        "Negotiate by phone",
        "Await agreement",
    ]
    rounds = stages[6:-4]
    assert rounds == ["Negotiate by phone", "Await agreement"] * (len(rounds) // 2) and len(rounds) >= 10
    assert stages[-4:] == ["Legal review", "Litigate?", "Closed: write-off review", "Closed: write-off review: done"]
    templates = [(m.channel, m.template) for m in sent_messages(rt, CASE)]
    assert templates.count(("sms", "first_reminder")) == 1 and templates.count(("sms", "second_reminder")) == 1
    assert templates.count(("call", "second_reminder")) == len(rounds) // 2  # an agent's call each round
    kinds = audit_ok(rt, CASE)
    assert "legal_assessment" in kinds and "litigation_package" not in kinds


@pytest.mark.parametrize("backend", BACKENDS)
def test_path_6_a_reminder_due_at_23_00_goes_out_at_08_00(backend: Backend) -> None:
    # Given a bank that runs its daily scan at 23:00
    late = Settings(environment="late", index_shards=2, scan_time=time(23, 0), **NO_TABLE)
    with open_runtime(backend, late, start=datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.scan(date(2026, 6, 17))  # 23:00 Shanghai: the case opens and the first reminder is queued
        rt.dispatch_through(rt.local(date(2026, 6, 18), "12:00"))
        sent = sent_messages(rt, CASE)
        assert [(m.channel, m.template, m.language) for m in sent] == [
            ("email", "first_reminder", "zh-CN"),
            ("sms", "first_reminder", "zh-CN"),
        ]
        for message in sent:
            local = message.sent_at.astimezone(SHANGHAI)  # type: ignore[union-attr]
            assert (local.date(), local.strftime("%H:%M")) == (date(2026, 6, 18), "08:00")
        # and the case goes on to its outcome: the customer pays that afternoon
        rt.at(rt.local(date(2026, 6, 18), "15:00"))
        rt.post_payment("L1", date(2026, 6, 18), "1100.00")
        assert rt.services.cases.require(CASE).outcome == "CURED"
        assert [s for s in rt.stages_entered(CASE) if not s.endswith("?")] == [
            "Confirm overdue",
            "First contact",
            "Await response",
            "Closed: cured",
            "Closed: cured: done",
        ]
        assert audit_ok(rt, CASE).count("message_sent") == 2


def test_path_7_the_scan_run_twice_the_same_day_opens_one_case_and_sends_once(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    first = rt.scan(date(2026, 6, 17))
    again = rt.scan(date(2026, 6, 17))
    assert (first["cases_opened"], again["cases_opened"], again["cases_already_open"]) == (1, 0, 1)
    rt.dispatch_through(rt.local(date(2026, 6, 17), "23:59"))
    assert len(sent_messages(rt, CASE)) == 2
    assert [c.case_id for c in rt.services.cases.all()] == [CASE]
    assert list(rt.execution_statuses()) == [CASE]
    # the one case still runs its course: never answering, it reaches the second reminder on day 8
    for day in days(date(2026, 6, 18), 8):
        rt.run_day(day)
    assert [s for s in rt.stages_entered(CASE) if not s.endswith("?")][:5] == [
        "Confirm overdue",
        "First contact",
        "Await response",
        "Second reminder",
        "Await response to second reminder",
    ]
    assert [m.template for m in sent_messages(rt, CASE)].count("first_reminder") == 2  # sms + email, once
    audit_ok(rt, CASE)


SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}
AGENT = {"user": "ag1", "groups": ("agent",)}


def test_path_2_agrees_a_plan_and_keeps_it_and_is_settled(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))

    def negotiate() -> None:
        assert rt.api("POST", f"/cases/{CASE}/assignment", {"agent": "ag1"}, **SUPERVISOR)[0] == 200
        status, plan = rt.api("POST", f"/cases/{CASE}/plan-proposals", {}, **AGENT)
        assert status == 200, plan
        assert accept_shown(rt, CASE)[0] == 200

    rt.run_day(date(2026, 6, 18), [("12:00", negotiate)])
    plan = rt.services.cases.require(CASE).plan
    assert plan is not None
    plan = plan.to_item()
    (installment,) = plan["installments"]  # affordable in one month
    assert installment["due_date"] == "2026-06-25"

    def pay_the_plan() -> None:
        status, _ = rt.api(
            "POST",
            "/loans/L1/payments",
            {"date": "2026-06-25", "amount": installment["amount"], "reference": "bank-0625"},
            system=True,
        )
        assert status == 200

    for day in days(date(2026, 6, 19), 6):
        rt.run_day(day)
    rt.run_day(date(2026, 6, 25), [("10:00", pay_the_plan)])
    case = rt.services.cases.require(CASE)
    assert (case.status, case.outcome) == ("CLOSED", "SETTLED")
    stages = rt.stages_entered(CASE)
    assert stages[-2:] == ["Closed: settled", "Closed: settled: done"]
    assert "Follow up plan" in stages and "Await agreement" in stages
    templates = [m.template for m in sent_messages(rt, CASE)]
    assert "plan_installment_reminder" in templates  # 3 days before the plan installment
    kinds = audit_ok(rt, CASE)
    assert {"plan_proposed", "plan_accepted", "waiver_decision"} <= set(kinds)


def test_path_3_breaks_the_plan_twice_and_goes_to_litigation(runtime: Runtime) -> None:
    rt = runtime
    big = borrower(
        principal="300000.00",
        collateral={"type": "real_estate", "value": "600000.00"},
        customer={
            "name": "李强",
            "phone": "+8613900139000",
            "email": "lq@example.com",
            "monthly_income": "80000.00",
            "monthly_expenses": "20000.00",
        },
    )
    rt.load_book([big], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))

    def plan() -> None:
        status, body = rt.api("POST", f"/cases/{CASE}/plan-proposals", {}, **SUPERVISOR)
        assert status == 200, body
        assert accept_shown(rt, CASE)[0] == 200

    rt.run_day(date(2026, 6, 18), [("12:00", plan)])
    # the customer never pays: the plan breaks, is renegotiated once, breaks again; negotiation goes on
    # until the loan is 90 days past due, then legal review
    renegotiated = False
    for day in days(date(2026, 6, 19), 120):
        case = rt.services.cases.require(CASE)
        if case.status != "OPEN":
            break
        actions = []
        if case.waiting_state == "Await agreement" and not renegotiated:
            renegotiated = True
            actions = [("12:00", plan)]
        rt.run_day(day, actions)
    case = rt.services.cases.require(CASE)
    assert (case.status, case.outcome) == ("CLOSED", "LITIGATION")
    stages = rt.stages_entered(CASE)
    assert stages.count("Follow up plan") >= 2 and stages.count("Negotiate by phone") >= 3
    assert stages[-4:] == ["Legal review", "Litigate?", "Closed: litigation", "Closed: litigation: done"]
    assert case.closed_on is not None
    assert assess(rt.services.loans.get("L1"), case.closed_on).dpd >= 90  # type: ignore[arg-type]
    kinds = audit_ok(rt, CASE)
    assert "litigation_package" in kinds
    status, package = rt.api("GET", f"/cases/{CASE}/litigation-package", user="law1", groups=("legal",))
    # secured by real estate: no preservation order is asked for (the mortgage already holds the asset)
    assert status == 200 and package[0]["record"]["body"]["asset_preservation_requested"] is False
    assert rt.api("GET", f"/cases/{CASE}/litigation-package", **AGENT)[0] == 403

    # a payment after the hand-over clears the oldest installment but not the arrears: the loan is still
    # with legal, so the scan opens no new collection case (its oldest unpaid installment has moved on)
    day = case.closed_on + timedelta(days=1)
    paid = {"date": day.isoformat(), "amount": "30000.00", "reference": "bank-after"}  # the first installment, no more
    rt.run_day(day, [("10:00", lambda: rt.api("POST", "/loans/L1/payments", paid, system=True))])
    rt.run_day(day + timedelta(days=1))
    loan = rt.services.loans.get("L1")
    assert loan is not None and assess(loan, day).dpd > 0  # still overdue: the later installments
    assert [c.case_id for c in rt.services.cases.all() if c.loan_id == "L1"] == [CASE]


def test_path_5_a_complaint_pauses_contact_and_the_case_resumes_after_resolution(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))  # first reminders go out
    rt.run_day(date(2026, 6, 18), [("09:00", lambda: rt.api("POST", f"/cases/{CASE}/complaints", system=True))])
    before = len(sent_messages(rt, CASE))
    for day in days(date(2026, 6, 19), 9):  # the wake-up date (06-24) passes while the complaint is open
        rt.run_day(day)
    assert len(sent_messages(rt, CASE)) == before == 2
    assert rt.services.cases.require(CASE).waiting_state == "Await response"
    rt.run_day(
        date(2026, 6, 28), [("10:00", lambda: rt.api("POST", f"/cases/{CASE}/complaints/resolve", **SUPERVISOR))]
    )
    # the case wakes at its wake-up date: 06-24 where the callback never timed out (moto's interpreter
    # times TimeoutSeconds in real seconds); on Step Functions and the local executor the safety net fired
    # on 06-27 while the complaint was open, the re-evaluation found it paused and the wait began again
    for day in days(date(2026, 6, 29), 7):
        rt.run_day(day)
    templates = [m.template for m in sent_messages(rt, CASE)]
    assert templates.count("second_reminder") >= 2  # sms and email of the second reminder
    sent_after = [m for m in sent_messages(rt, CASE) if m.sent_at.date() >= date(2026, 6, 28)]  # type: ignore[union-attr]
    assert sent_after and all(m.template == "second_reminder" or m.channel == "call" for m in sent_after)
    kinds = audit_ok(rt, CASE)
    assert kinds.count("complaint_opened") == 1 and kinds.count("complaint_resolved") == 1


def test_a_loan_id_step_functions_would_refuse_as_a_name_runs_its_case(runtime: Runtime) -> None:
    """Loan ids may hold ':' and '.'; execution names may not: the case's execution gets a safe name."""
    from dueflow.domain.case import execution_name

    rt = runtime
    rt.load_book([borrower("L:1.A")], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))
    case_id = "L:1.A-2026-06-15"
    case = rt.services.cases.require(case_id)
    name = execution_name(case_id)
    assert name != case_id and name.startswith("L_1_A-2026-06-15-") and case.execution_arn.endswith(f":{name}")
    assert rt.execution(case_id)["status"] == "RUNNING"
    assert rt.stages_entered(case_id)[:4] == [
        "New or continued case?",
        "Confirm overdue",
        "First contact",
        "Await response",
    ]
    pay = {"date": "2026-06-18", "amount": "1200.00", "reference": "bank-0618"}
    rt.run_day(date(2026, 6, 18), [("10:00", lambda: rt.api("POST", "/loans/L:1.A/payments", pay, system=True))])
    assert rt.services.cases.require(case_id).outcome == "CURED"
    assert rt.execution(case_id)["status"] == "SUCCEEDED"
    audit_ok(rt, case_id, loan_id="L:1.A")
