"""The lifecycle's notices and safety nets, on the in-memory world (whose executor fires callback
timeouts on the simulated clock, as Step Functions does)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dueflow.settings import Settings
from dueflow_local.runtime import Runtime, open_runtime
from tests.e2e.conftest import accept_shown, borrower, sent_messages

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
    assert accept_shown(rt, CASE)[0] == 200
    return list(plan["installments"])


REGULAR = "1066.19"  # the loan's own installment, due on the 15th: paid alongside a plan


def pay(rt: Runtime, day: date, amount: str) -> tuple[str, object]:
    body = {"date": day.isoformat(), "amount": amount, "reference": f"pay-{day}"}
    return ("10:00", lambda: rt.api("POST", "/loans/L1/payments", body, system=True))


def play(rt: Runtime, start: date, end: date, payments: dict[date, str]) -> date:
    """Run the days after ``start`` until the case closes or ``end``, paying ``payments`` on their days;
    on every day, the loan (by the book, its payments and the ledger) past grace has an open case."""
    from dueflow.domain.position import assess

    day = start
    while rt.services.cases.require(CASE).is_open and day < end:
        day += timedelta(days=1)
        rt.run_day(day, [pay(rt, day, payments[day])] if day in payments else [])
        loan = rt.services.loans.get("L1")
        assert loan is not None
        if assess(loan, day).dpd >= 1:
            open_case = rt.services.cases.open_case_for_loan("L1")
            latest = rt.services.cases.latest_case_for_loan("L1")
            assert open_case is not None or (
                latest is not None and latest.outcome in ("LITIGATION", "WRITE_OFF_REVIEW")
            ), day
    return day


def test_a_three_month_plan_sends_a_progress_notice_every_fourteen_days(rt: Runtime) -> None:
    day = date(2026, 6, 18)
    installments: list[dict[str, str]] = []
    rt.run_day(day, [("10:00", lambda: installments.extend(accept_plan(rt, 3)))])
    assert len(installments) == 3
    plan = {date.fromisoformat(i["due_date"]): i["amount"] for i in installments}
    regular = {date(2026, 7, 15): REGULAR, date(2026, 8, 15): REGULAR, date(2026, 9, 15): REGULAR}
    payments = plan | regular
    play(rt, day, date(2026, 10, 1), payments)
    case = rt.services.cases.require(CASE)
    assert (case.status, case.outcome) == ("CLOSED", "SETTLED")
    assert case.closed_on == max(plan)
    notices = [m for m in sent_messages(rt, CASE) if m.template == "plan_progress"]
    # one notice a channel at each 14 days since acceptance while the plan was in force
    accepted = date(2026, 6, 18)
    periods = [n for n in range(1, 12) if accepted + timedelta(days=14 * n) < max(plan)]
    assert len(periods) == 4
    assert sorted((m.sent_at.date(), m.channel) for m in notices) == sorted(  # type: ignore[union-attr]
        (accepted + timedelta(days=14 * n), channel) for n in periods for channel in ("email", "sms")
    )


def test_a_plan_paid_without_the_installments_falling_due_beside_it_does_not_settle_the_case(rt: Runtime) -> None:
    """The first round closed such a case SETTLED on the last plan payment while the loan was 41 days
    past due, and never opened another. Now the plan breaks when July's installment is unpaid past the
    grace, and the case goes on collecting until the loan is current."""
    day = date(2026, 6, 18)
    installments: list[dict[str, str]] = []
    rt.run_day(day, [("10:00", lambda: installments.extend(accept_plan(rt, 3)))])
    plan = {date.fromisoformat(i["due_date"]): i["amount"] for i in installments}
    play(rt, day, date(2026, 7, 25), plan)
    case = rt.services.cases.require(CASE)
    assert case.is_open and case.plan_broken_on == date(2026, 7, 19)  # 07-15 + 3 days of grace + 1
    assert rt.stages_entered(CASE)[-3:] == ["Renegotiation allowed?", "Negotiate by phone", "Await agreement"]
    # the customer catches up: the case closes CURED only when the ledger says the loan is current
    end = play(rt, date(2026, 7, 25), date(2026, 8, 10), {date(2026, 7, 28): "1500.00"})
    case = rt.services.cases.require(CASE)
    assert (case.status, case.outcome, case.closed_on) == ("CLOSED", "CURED", date(2026, 7, 28)), end


@pytest.mark.parametrize("short", ["0.00", "4.80"])
def test_a_waiver_is_booked_on_the_ledger_and_the_case_settles_only_when_nothing_is_left(
    rt: Runtime, short: str
) -> None:
    """A penalty waiver approved with a one-month plan is a ledger entry naming its approver; paying the
    plan to the cent settles the case, paying 4.80 less leaves it in collection (the first round
    closed such a case and left the 4.80 unpaid with no case)."""
    from decimal import Decimal

    from dueflow.domain.position import assess

    loan = rt.services.loans.get("L1")
    assert loan is not None
    penalty = str(assess(loan, date(2026, 6, 18)).penalty)
    proposal = {"months": 1, "waive_penalty": penalty}
    answers: list[object] = []
    rt.run_day(
        date(2026, 6, 18),
        [
            ("10:00", lambda: answers.append(rt.api("POST", f"/cases/{CASE}/plan-proposals", proposal, **SUPERVISOR))),  # type: ignore[arg-type]
            ("11:00", lambda: answers.append(accept_shown(rt, CASE))),
        ],
    )
    status, plan = answers[0]  # type: ignore[misc]
    assert status == 200 and answers[1][0] == 200  # type: ignore[index]
    booked = rt.services.loans.get("L1")
    assert booked is not None
    waiver, restructuring = booked.adjustments
    assert (waiver.kind, str(waiver.penalty), waiver.approved_by) == ("waiver", penalty, "sup1")  # type: ignore[union-attr]
    assert restructuring.kind == "restructuring" and restructuring.reference == f"{CASE}:plan:1"
    assert assess(booked, date(2026, 6, 18)).waived == Decimal(penalty)
    only = plan["installments"][0]
    amount = str(Decimal(only["amount"]) - Decimal(short))
    play(rt, date(2026, 6, 18), date(2026, 7, 10), {date.fromisoformat(only["due_date"]): amount})
    case = rt.services.cases.require(CASE)
    loan = rt.services.loans.get("L1")
    assert loan is not None
    if short == "0.00":
        assert (case.outcome, case.closed_on) == ("SETTLED", date.fromisoformat(only["due_date"]))
        assert assess(loan, date(2026, 7, 10)).total_overdue == 0
    else:
        assert case.is_open and case.plan_broken_on is not None
        assert assess(loan, date(2026, 7, 10)).total_overdue >= Decimal(short)


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


@pytest.mark.parametrize("promised", ["2026-06-17", "2026-06-10", "9999-12-31", "0001-01-01", "2026-07-18"])
def test_a_promise_dated_today_in_the_past_or_beyond_the_horizon_is_refused_naming_the_field(
    rt: Runtime, promised: str
) -> None:
    before = rt.services.cases.require(CASE)
    body = {"promised_date": promised, "amount": "100.00"}
    status, answer = rt.api("POST", f"/cases/{CASE}/promises", body, **SUPERVISOR)  # type: ignore[arg-type]
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "promised_date"], answer
    after = rt.services.cases.require(CASE)
    assert after.promise is None and after.audit_seq == before.audit_seq  # nothing recorded
    ok = {"promised_date": "2026-07-17", "amount": "100.00"}  # the last day of the 30-day horizon
    assert rt.api("POST", f"/cases/{CASE}/promises", ok, **SUPERVISOR)[0] == 200  # type: ignore[arg-type]


def test_each_waiver_decision_has_its_own_record_naming_who_decided(rt: Runtime) -> None:
    import json

    agent = {"user": "ag1", "groups": ("agent",)}
    assert rt.api("POST", f"/cases/{CASE}/assignment", {"agent": "ag1"}, **SUPERVISOR)[0] == 200  # type: ignore[arg-type]
    request = {"waive_interest": "0.01"}
    assert rt.api("POST", f"/cases/{CASE}/plan-proposals", request, **agent)[0] == 409  # type: ignore[arg-type]
    assert rt.api("POST", f"/cases/{CASE}/plan-proposals", request, **agent)[0] == 409  # the same, retried
    assert rt.api("POST", f"/cases/{CASE}/plan-proposals", request, **SUPERVISOR)[0] == 200  # type: ignore[arg-type]
    records = [
        json.loads(data)["body"]
        for key, data in rt.services.audit_store.read_case("L1", CASE)
        if key.endswith("-waiver_decision.json")
    ]
    assert [(r["by"], r["role"], r["approved"]) for r in records] == [
        ("ag1", "agent", False),
        ("sup1", "supervisor", True),
    ]


def test_an_acceptance_retried_after_its_resume_failed_moves_the_case_to_follow_up() -> None:
    from dueflow_local.faults import FaultPlan, injecting_memory
    from dueflow_local.memory_runtime import MemoryRuntime

    settings = Settings(environment="life", index_shards=2)
    with open_runtime("memory", settings, datetime(2026, 6, 16, tzinfo=UTC), tolerate_failures=True) as rt:
        assert isinstance(rt, MemoryRuntime)
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
        assert rt.api("POST", f"/cases/{CASE}/plan-proposals", {}, **SUPERVISOR)[0] == 200  # type: ignore[arg-type]
        # the workflow cannot be told: SendTaskSuccess fails on every SDK attempt, the API answers 502
        with injecting_memory(FaultPlan.parse("states:SendTaskSuccess=1.0"), rt.wire, 0, rt.dispatcher.in_handler):
            assert accept_shown(rt, CASE)[0] == 502
        assert rt.services.cases.require(CASE).waiting_state == "Await agreement"
        # the bank's channel calls again: the plan stands, and now the workflow hears it
        status, plan = accept_shown(rt, CASE)
        assert status == 200 and plan["accepted_on"] == "2026-06-17"
        assert rt.stages_entered(CASE)[-4:] == [
            "Await agreement: what happened?",
            "Follow up plan",
            "Follow up plan: continue in a new execution?",
            "Await plan event",
        ]
        assert rt.services.cases.require(CASE).waiting_state == "Await plan event"
        # a third call changes nothing more
        assert accept_shown(rt, CASE)[0] == 200
        assert rt.stages_entered(CASE)[-1] == "Await plan event"


def test_a_new_proposal_while_a_plan_is_in_force_is_refused_naming_the_plan(rt: Runtime) -> None:
    accept_plan(rt, 3)
    status, answer = rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": 6}, **SUPERVISOR)  # type: ignore[arg-type]
    assert status == 409 and "plan 1" in answer["message"] and "in force" in answer["message"]
    case = rt.services.cases.require(CASE)
    assert case.plan is not None and case.plan.version == 1 and case.plan_version == 1


def test_a_silent_unsecured_60000_loan_reaches_legal_review_at_90_days_past_due_not_before() -> None:
    import json

    from dueflow.domain.position import assess

    with open_runtime("memory", Settings(environment="life", index_shards=2), datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower(principal="60000.00")], date(2026, 6, 16))
        day = date(2026, 6, 17)
        rt.run_day(day)
        while rt.services.cases.require(CASE).is_open and day < date(2026, 10, 31):
            day += timedelta(days=1)
            rt.run_day(day)
        loan = rt.services.loans.get("L1")
        assert loan is not None
        records = [json.loads(data) for _, data in rt.services.audit_store.read_case("L1", CASE)]
    from zoneinfo import ZoneInfo

    def local_day(at: str) -> date:  # the bank's business date of a record (its time is UTC)
        return datetime.fromisoformat(at).astimezone(ZoneInfo("Asia/Shanghai")).date()

    entered = {r["body"]["stage"]: local_day(r["at"]) for r in records if r["type"] == "stage_entered"}
    legal = entered["legal_review"]
    assert assess(loan, legal).dpd == 90  # on the day the threshold is reached, not before
    # until then the contact cadence went on: an agent's negotiation round every 14 days
    rounds = [r for r in records if r["type"] == "stage_entered" and r["body"]["stage"] == "negotiate"]
    assert len(rounds) >= 5


@pytest.mark.parametrize("pays", [False, True])
def test_a_promise_to_pay_holds_escalation_then_is_kept_or_broken_on_the_record(rt: Runtime, pays: bool) -> None:
    import json

    promise = {"promised_date": "2026-07-10", "amount": "500.00"}  # part of the arrears
    status, _ = rt.api("POST", f"/cases/{CASE}/promises", promise, **SUPERVISOR)  # type: ignore[arg-type]
    assert status == 200
    assert rt.services.cases.require(CASE).wake_on == date(2026, 7, 14)  # the promised date + 3 days' grace + 1
    day = date(2026, 6, 17)
    while day < date(2026, 7, 13):
        day += timedelta(days=1)
        actions = []
        if pays and day == date(2026, 7, 9):
            body = {"date": "2026-07-09", "amount": "500.00", "reference": "promise-paid"}
            actions = [("10:00", lambda b=body: rt.api("POST", "/loans/L1/payments", b, system=True))]
        rt.run_day(day, actions)
    # held: no reminder, no negotiation while the promise stood (the 7-day timer would have sent one)
    assert rt.stages_entered(CASE)[-1] == "Await agreement" and "Second reminder" not in rt.stages_entered(CASE)
    rt.run_day(date(2026, 7, 14))
    case = rt.services.cases.require(CASE)
    outcome = "kept" if pays else "broken"
    assert case.promise is not None and case.promise.outcome == outcome
    records = [json.loads(d) for _, d in rt.services.audit_store.read_case("L1", CASE)]
    decided = [r for r in records if r["type"].startswith("promise_") and r["type"] != "promise_to_pay"]
    assert [r["type"] for r in decided] == [f"promise_{outcome}"]
    missed = [m for m in sent_messages(rt, CASE) if m.template == "promise_missed"]
    assert len(missed) == (0 if pays else 2)  # the polite message, by SMS and e-mail, only when broken
    if case.is_open:  # still overdue: the cadence resumes (another negotiation round below 90 days)
        assert "Negotiate by phone" in rt.stages_entered(CASE)[-3:]


def test_a_fourteen_month_plan_crosses_into_a_second_execution_of_the_same_case() -> None:
    """A Standard execution lives at most a year. The plan's execution hands over to a new one before
    that (continue_after_days), which follows the plan to its end: one case id, one audit chain."""
    import json

    from dueflow.domain.audit_chain import verify_chain
    from dueflow.domain.case import continuation_name
    from dueflow.domain.schedule import iter_schedule
    from dueflow_local.memory_runtime import MemoryRuntime

    settings = Settings(environment="life", index_shards=2)
    with open_runtime("memory", settings, datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        assert isinstance(rt, MemoryRuntime)
        rt.load_book([borrower(principal="60000.00")], date(2026, 6, 16))  # installments of 5330.95
        rt.run_day(date(2026, 6, 17))
        installments: list[dict[str, str]] = []
        rt.run_day(date(2026, 6, 18), [("10:00", lambda: installments.extend(accept_plan(rt, 14)))])
        assert len(installments) == 14
        plan = {date.fromisoformat(i["due_date"]): i["amount"] for i in installments}
        # the regular installments are paid alongside, on their due dates
        regular = {i.due_date: str(i.amount) for i in iter_schedule(borrower(principal="60000.00"))}
        regular = {day: amount for day, amount in regular.items() if day > date(2026, 6, 18)}
        payments = {d: str(sum(Decimal(a) for a in (plan.get(d, "0"), regular.get(d, "0")))) for d in {*plan, *regular}}
        last = play(rt, date(2026, 6, 18), date(2027, 9, 30), payments)
        case = rt.services.cases.require(CASE)
        assert (case.outcome, case.closed_on) == ("SETTLED", max(plan)), last
        first, second = (rt.executor.executions[continuation_name(CASE, n)] for n in (0, 1))
        assert case.continuations == 1 and continuation_name(CASE, 2) not in rt.executor.executions
        assert first.status == "SUCCEEDED"
        assert [s for s in rt.executor.history(first.name) if s.get("stateEnteredEventDetails")][-1][
            "stateEnteredEventDetails"
        ]["name"] == "Continued in a new execution"
        assert first.stopped is not None and first.stopped - first.started < timedelta(days=350)
        assert second.status == "SUCCEEDED" and second.input["resume_at"] == "Follow up plan"
        objects = rt.services.audit_store.read_case("L1", CASE)
        assert verify_chain(CASE, objects, case.audit_head).ok
        types = [json.loads(data)["type"] for _, data in objects]
        assert types.count("execution_continued") == 1 and types[-1] == "case_closed"


def test_a_case_whose_execution_ran_out_of_time_is_re_evaluated_in_a_new_execution(rt: Runtime) -> None:
    """A complaint left open for more than a year pauses the case that long; Step Functions ends its
    execution (TIMED_OUT). Its status change continues the case in a new execution at the state it was
    waiting in (still paused); when the complaint is resolved, the case is woken and collected."""
    assert rt.api("POST", f"/cases/{CASE}/complaints", **SUPERVISOR)[0] == 200  # type: ignore[arg-type]
    day = date(2026, 6, 17)
    while day < date(2027, 6, 24):
        day += timedelta(days=1)
        rt.run_day(day)
    # the execution timed out; its status change continued the case at once, still paused
    assert rt.executor.executions[CASE].status == "TIMED_OUT"  # type: ignore[attr-defined]
    assert rt.execution(CASE)["name"] == f"{CASE}-x1" and rt.execution(CASE)["status"] == "RUNNING"
    case = rt.services.cases.require(CASE)
    assert case.is_open and case.complaint_open and case.waiting_state == "Await response"
    assert case.restarts == 1 and case.task_token is not None  # parked again in its new execution
    resolve = ("10:00", lambda: rt.api("POST", f"/cases/{CASE}/complaints/resolve", **SUPERVISOR))  # type: ignore[arg-type]
    rt.run_day(date(2027, 6, 25), [resolve])
    rt.run_day(date(2027, 6, 26))  # the scan wakes the case in its new execution
    case = rt.services.cases.require(CASE)
    assert case.continuations == 1 and rt.execution(CASE)["status"] == "RUNNING"
    assert rt.execution(CASE)["name"] == f"{CASE}-x1"
    assert "Second reminder" in rt.stages_entered(CASE)[-4:]  # re-evaluated: a year silent, it moves on
    end = play(rt, date(2027, 6, 26), date(2027, 7, 10), {date(2027, 6, 28): "70000.00"})
    case = rt.services.cases.require(CASE)
    assert (case.outcome, case.closed_on) == ("CURED", date(2027, 6, 28)), end


def test_legal_review_before_the_products_write_off_threshold_sends_the_case_back_to_negotiation() -> None:
    """A product whose write-off review is not before 120 days past due: legal review at 90 finds the
    small unsecured claim not worth litigating, and the case goes on negotiating until 120."""
    import json

    from dueflow.domain.position import assess
    from dueflow.settings import Escalation

    settings = Settings(
        environment="life", index_shards=2, escalation_by_product={"card": Escalation(write_off_review_dpd=120)}
    )
    with open_runtime("memory", settings, datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower(product="card")], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
        play(rt, date(2026, 6, 17), date(2026, 11, 30), {})
        case = rt.services.cases.require(CASE)
        loan = rt.services.loans.get("L1")
        assert loan is not None and case.closed_on is not None
        records = [json.loads(data) for _, data in rt.services.audit_store.read_case("L1", CASE)]
    assert case.outcome == "WRITE_OFF_REVIEW"
    assert 120 <= assess(loan, case.closed_on).dpd < 120 + 14  # the first legal review at or past 120
    assessments = [r for r in records if r["type"] == "legal_assessment"]
    assert len(assessments) >= 2 and all(a["body"]["recommendation"] == "write_off_review" for a in assessments)


def test_an_opt_out_on_the_case_holds_for_the_pre_due_reminders_of_a_loan_under_a_plan(rt: Runtime) -> None:
    """Under a kept plan the loan is current by the ledger, so the scan sends pre-due reminders of the
    regular installment: the customer's opt-out of SMS on the open case holds for them too."""
    installments: list[dict[str, str]] = []
    optout = ("11:00", lambda: rt.api("POST", f"/cases/{CASE}/opt-outs", {"channel": "sms"}, **SUPERVISOR))  # type: ignore[arg-type]
    rt.run_day(date(2026, 6, 18), [("10:00", lambda: installments.extend(accept_plan(rt, 3))), optout])
    plan = {date.fromisoformat(i["due_date"]): i["amount"] for i in installments}
    play(rt, date(2026, 6, 18), date(2026, 7, 16), plan)
    predue = sent_messages(rt, "predue:L1")
    assert [(m.channel, m.values["due_date"]) for m in predue] == [("email", "2026-07-15")]
    assert rt.services.cases.require(CASE).is_open  # the plan is in force all along


def test_a_proposal_retried_after_its_resume_failed_moves_the_case_to_agreement_once() -> None:
    import json

    from dueflow_local.faults import FaultPlan, injecting_memory
    from dueflow_local.memory_runtime import MemoryRuntime

    settings = Settings(environment="life", index_shards=2)
    with open_runtime("memory", settings, datetime(2026, 6, 16, tzinfo=UTC), tolerate_failures=True) as rt:
        assert isinstance(rt, MemoryRuntime)
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
        with injecting_memory(FaultPlan.parse("states:SendTaskSuccess=1.0"), rt.wire, 0, rt.dispatcher.in_handler):
            assert rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": 2}, **SUPERVISOR)[0] == 502  # type: ignore[arg-type]
        assert rt.services.cases.require(CASE).waiting_state == "Await response"
        status, plan = rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": 2}, **SUPERVISOR)  # type: ignore[arg-type]
        assert status == 200 and plan["version"] == 1
        assert rt.stages_entered(CASE)[-2:] == ["Await response: what happened?", "Await agreement"]
        assert rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": 2}, **SUPERVISOR)[0] == 200  # type: ignore[arg-type]
        assert rt.stages_entered(CASE)[-1] == "Await agreement"
        records = [json.loads(d)["type"] for _, d in rt.services.audit_store.read_case("L1", CASE)]
        assert records.count("plan_proposed") == 1 and records.count("waiver_decision") == 1
