"""The collectors' workbench through the API, on the local runtime: queues (filtered, sorted by the
settings' priority, paged, no contact details), the audited phone reveal (only while a call may go out),
call outcomes with disposition codes and their consequences, notes, and the approvals inbox (an agent's
waiver request held for a supervisor, approved or refused with a reason). Refusals change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from dueflow import clock
from dueflow.domain.position import assess
from dueflow.settings import Settings
from dueflow_local.memory_runtime import MemoryRuntime
from tests.e2e.conftest import borrower, named_request

SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}
AG1 = {"user": "ag1", "groups": ("agent",)}
AG2 = {"user": "ag2", "groups": ("agent",)}
LEGAL = {"user": "law1", "groups": ("legal",)}
AUDITOR = {"user": "aud1", "groups": ("auditor",)}
SMALL, BIG, THIRD = "S1-2026-06-15", "B1-2026-06-15", "T1-2026-06-15"


@pytest.fixture
def rt() -> Iterator[MemoryRuntime]:
    settings = Settings(environment="workbench", index_shards=2)
    with MemoryRuntime(settings, start=datetime(2026, 6, 16, tzinfo=UTC)) as runtime:
        runtime.load_book(
            [borrower("S1"), borrower("B1", principal="120000.00"), borrower("T1", principal="50000.00")],
            date(2026, 6, 16),
        )
        runtime.run_day(date(2026, 6, 17))
        for case, agent in ((SMALL, "ag1"), (BIG, "ag1"), (THIRD, "ag2")):
            assert runtime.api("POST", f"/cases/{case}/assignment", {"agent": agent}, **SUPERVISOR)[0] == 200
        runtime.dispatch_through(runtime.local(date(2026, 6, 18), "10:00"))  # inside the contact window
        yield runtime


def records(rt: MemoryRuntime, case: str, kind: str) -> list[dict[str, Any]]:
    loan = case.split("-", maxsplit=1)[0]
    return [
        r["body"]
        for r in (json.loads(d) for _, d in rt.services.audit_store.read_case(loan, case))
        if r["type"] == kind
    ]


def state(rt: MemoryRuntime) -> Any:
    cases = [rt.services.cases.get(c) for c in (SMALL, BIG, THIRD)]
    audit = [rt.services.audit_store.read_case(c.split("-")[0], c) for c in (SMALL, BIG, THIRD)]
    return cases, audit, sorted(str(m) for m in rt.services.outbox.all())


def test_an_agent_sees_their_queue_by_priority_and_a_supervisor_everyone_without_contact_details(
    rt: MemoryRuntime,
) -> None:
    status, mine = rt.api("GET", "/cases", **AG1)
    assert status == 200
    assert [c["case_id"] for c in mine["cases"]] == [BIG, SMALL]  # amount x days past due, highest first
    today = clock.today(rt.settings.time_zone)
    for row in mine["cases"]:  # what each line says, against the engine reading the book
        loan = rt.services.loans.get(row["loan_id"])
        assert loan is not None
        position = assess(loan, today)
        assert (row["dpd"], Decimal(row["total_overdue"]), row["bucket"]) == (
            position.dpd,
            position.total_overdue,
            position.bucket,
        )
        assert row["contact"]["call_allowed_now"] is True and row["contact"]["timezone"] == "Asia/Shanghai"
    status, everyone = rt.api("GET", "/cases", **SUPERVISOR)
    assert status == 200 and everyone["total"] == 3
    text = json.dumps(everyone, ensure_ascii=False)
    assert "+8613800138000" not in text and "@example.com" not in text and "王芳" not in text
    status, page = rt.api("GET", "/cases?limit=2", **SUPERVISOR)
    assert [c["case_id"] for c in page["cases"]] == [BIG, THIRD] and page["next_cursor"] == "2"
    status, rest = rt.api("GET", "/cases?limit=2&cursor=2", **SUPERVISOR)
    assert [c["case_id"] for c in rest["cases"]] == [SMALL] and rest["next_cursor"] is None
    status, theirs = rt.api("GET", "/cases?assignee=ag2", **SUPERVISOR)
    assert [c["case_id"] for c in theirs["cases"]] == [THIRD]
    assert rt.api("GET", "/cases?assignee=ag2", **AG1)[0] == 403
    assert rt.api("GET", "/cases?bucket=M9", **SUPERVISOR)[0] == 422
    stages = {c.case_id: c.stage for c in rt.services.cases.all()}
    waiting = rt.api("GET", "/cases?stage=Await%20response", **SUPERVISOR)[1]["cases"]
    assert sorted(c["case_id"] for c in waiting) == sorted(k for k, v in stages.items() if v == "Await response")
    assert rt.api("GET", "/cases?stage=Legal%20review", **SUPERVISOR)[1]["cases"] == []
    for reader in (LEGAL, AUDITOR):
        assert rt.api("GET", "/cases", **reader)[1]["total"] == 3


def test_the_phone_is_revealed_to_the_assigned_agent_on_the_record_and_never_outside_the_window(
    rt: MemoryRuntime,
) -> None:
    before = state(rt)
    assert rt.api("POST", f"/cases/{THIRD}/phone-reveal", **AG1)[0] == 403  # not their case
    assert state(rt) == before
    status, body = rt.api("POST", f"/cases/{SMALL}/phone-reveal", **AG1)
    assert status == 200 and body["phone"] == "+8613800138000"
    (revealed,) = records(rt, SMALL, "phone_revealed")
    assert revealed == {"by": "ag1", "role": "agent"}
    rt.dispatch_through(rt.local(date(2026, 6, 18), "22:30"))  # after 21:00 in Shanghai
    before = state(rt)
    status, body = rt.api("POST", f"/cases/{SMALL}/phone-reveal", **AG1)
    assert status == 409 and "outside the contact window" in body["message"]
    assert "2026-06-19T00:00:00+00:00" in body["message"]  # 08:00 in Shanghai
    assert state(rt) == before


def test_call_outcomes_are_recorded_with_their_consequences(rt: MemoryRuntime) -> None:
    at = clock.now().isoformat()
    status, body = rt.api("POST", f"/cases/{SMALL}/call-outcomes", {"disposition": "no_answer", "at": at}, **AG1)
    assert status == 200, body
    rt.dispatch_through(rt.local(date(2026, 6, 18), "10:20"))  # the next call, a little later
    later = clock.now().isoformat()
    promise = {"disposition": "promise_to_pay", "at": later, "promise_date": "2026-06-25", "promise_amount": "500.00"}
    status, body = rt.api("POST", f"/cases/{SMALL}/call-outcomes", promise | {"note": "will pay on payday"}, **AG1)
    assert status == 200, body
    outcomes = records(rt, SMALL, "call_outcome")
    assert [(o["disposition"], o["attempt"]) for o in outcomes] == [
        ("no_answer", "no_answer"),
        ("promise_to_pay", "conversation"),
    ]
    assert outcomes[1]["note"] == "will pay on payday"
    assert len(records(rt, SMALL, "call_attempt")) == 2
    case = rt.services.cases.require(SMALL)
    assert case.promise is not None and case.promise.amount == Decimal("500.00")
    # the same outcome sent again is recorded once
    assert rt.api("POST", f"/cases/{SMALL}/call-outcomes", promise, **AG1)[1]["recorded"] == "before"
    # a hardship needs its reason, and keeps it on the case
    rt.dispatch_through(rt.local(date(2026, 6, 18), "10:40"))
    hardship = {"disposition": "hardship", "at": clock.now().isoformat()}
    before = state(rt)
    status, body = rt.api("POST", f"/cases/{BIG}/call-outcomes", hardship, **AG1)
    assert status == 422 and "reason_code" in body["message"] and state(rt) == before
    hardship |= {"reason_code": "unemployment", "reason_text": "factory closed in May"}
    assert rt.api("POST", f"/cases/{BIG}/call-outcomes", hardship, **AG1)[0] == 200
    assert rt.services.cases.require(BIG).delinquency_reason == {
        "code": "unemployment",
        "text": "factory closed in May",
    }
    # a dispute pauses collection (a complaint opens)
    rt.dispatch_through(rt.local(date(2026, 6, 18), "11:00"))
    dispute = {"disposition": "dispute", "at": clock.now().isoformat()}
    assert rt.api("POST", f"/cases/{BIG}/call-outcomes", dispute, **AG1)[0] == 200
    assert rt.services.cases.require(BIG).complaint_open is True
    # a note
    assert rt.api("POST", f"/cases/{SMALL}/notes", {"text": "prefers calls after 18:00"}, **AG1)[0] == 200
    assert records(rt, SMALL, "note") == [{"by": "ag1", "text": "prefers calls after 18:00"}]


def test_an_agents_waiver_request_waits_in_the_supervisors_inbox_and_is_approved_or_refused(rt: MemoryRuntime) -> None:
    ask = {"waive_interest": "0.01", "request_approval": True}  # an agent may waive no interest
    status, held = rt.api("POST", f"/cases/{SMALL}/plan-proposals", ask, **AG1)
    assert status == 200 and held["status"] == "awaiting_approval" and held["needs"] == "supervisor"
    assert rt.services.cases.require(SMALL).plan is None
    status, inbox = rt.api("GET", "/approvals", **SUPERVISOR)
    assert status == 200 and [r["case_id"] for r in inbox["requests"]] == [SMALL]
    status, queue = rt.api("GET", "/cases?awaiting_approval=true", **SUPERVISOR)
    assert [c["case_id"] for c in queue["cases"]] == [SMALL]
    named = named_request(rt, SMALL)
    assert rt.api("POST", f"/cases/{SMALL}/waiver-approvals", named, **AG2)[0] == 403  # an agent approves nothing
    status, plan = rt.api("POST", f"/cases/{SMALL}/waiver-approvals", named, **SUPERVISOR)
    assert status == 200, plan
    assert plan["waived_interest"] == "0.01" and plan["proposed_by"] == "ag1"
    approved = records(rt, SMALL, "waiver_decision")[-1]
    assert approved["approvers"] == [{"by": "ag1", "role": "agent"}, {"by": "sup1", "role": "supervisor"}]
    assert rt.api("GET", "/approvals", **SUPERVISOR)[1]["requests"] == []

    status, held = rt.api("POST", f"/cases/{BIG}/plan-proposals", ask, **AG1)
    assert status == 200 and held["status"] == "awaiting_approval"
    status, body = rt.api(
        "POST",
        f"/cases/{BIG}/waiver-approvals/refuse",
        named_request(rt, BIG, reason="no hardship shown"),
        **SUPERVISOR,
    )
    assert status == 200 and body["refused"] is True
    refused = records(rt, BIG, "waiver_decision")[-1]
    assert (refused["approved"], refused["reason"], refused["by"]) == (False, "no hardship shown", "sup1")
    assert rt.services.cases.require(BIG).waiver_request is None and rt.services.cases.require(BIG).plan is None
    # without asking for approval, beyond authority is still refused at once, naming who could approve
    status, body = rt.api("POST", f"/cases/{BIG}/plan-proposals", {"waive_interest": "0.01"}, **AG1)
    assert status == 409 and "supervisor" in body["message"]


def test_the_case_page_shows_the_statement_the_contact_gate_and_the_timeline_and_the_auditor_the_chain(
    rt: MemoryRuntime,
) -> None:
    at = clock.now().isoformat()
    assert rt.api("POST", f"/cases/{SMALL}/call-outcomes", {"disposition": "no_answer", "at": at}, **AG1)[0] == 200
    status, view = rt.api("GET", f"/cases/{SMALL}/view", **AG1)
    assert status == 200 and view["may_act"] is True and "chain" not in view
    loan = rt.services.loans.get("S1")
    assert loan is not None
    position = assess(loan, clock.today(rt.settings.time_zone))
    assert Decimal(view["statement"]["total_overdue"]) == position.total_overdue
    assert len(view["statement"]["installments"]) == len(position.lines)
    kinds = [e["type"] for e in view["timeline"]]
    assert kinds[0] == "case_opened" and "message_sent" in kinds and kinds[-1] == "call_outcome"
    assert view["contact"]["call_allowed_now"] is True and view["contact"]["local_time"].endswith("10:00")
    status, audited = rt.api("GET", f"/cases/{SMALL}/view", **AUDITOR)
    assert status == 200 and audited["may_act"] is False
    assert audited["chain"]["verified"] is True and audited["chain"]["records"] >= len(kinds)
    assert rt.api("GET", f"/cases/{THIRD}/view", **AG1)[0] == 403


def test_new_cases_are_assigned_by_the_settings_rules_balanced_by_open_cases() -> None:
    """By bucket and language: the Chinese-speaking M1 cases go to ag1 and ag2 in turn (the one with
    fewer open cases; ties to the first named), the English-speaking one to en1."""
    from dueflow.settings import AssignmentRule

    rules = (
        AssignmentRule(languages=("en",), agents=("en1",)),
        AssignmentRule(buckets=("M1",), agents=("ag1", "ag2")),
    )
    settings = Settings(environment="assign", index_shards=2, assignment_rules=rules)
    with MemoryRuntime(settings, start=datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        book = [borrower(f"A{n}") for n in range(1, 4)] + [borrower("E1", language="en")]
        rt.load_book(book, date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
        assigned = {c.case_id: c.assigned_to for c in rt.services.cases.all()}
        assert sorted(assigned.values()) == ["ag1", "ag1", "ag2", "en1"]
        assert assigned["E1-2026-06-15"] == "en1"
        assert (rt.services.cases.queue_size("ag1"), rt.services.cases.queue_size("ag2")) == (2, 1)
        (record,) = records(rt, "A1-2026-06-15", "case_assigned")
        assert record["by"] == "assignment rules"
        status, mine = rt.api("GET", "/cases", **AG2)
        assert status == 200 and [c["assigned_to"] for c in mine["cases"]] == ["ag2"]
        # a supervisor reassigns: the queues follow, on the record
        moved = next(case for case, agent in assigned.items() if agent == "ag2")
        assert rt.api("POST", f"/cases/{moved}/assignment", {"agent": "ag1"}, **SUPERVISOR)[0] == 200
        assert (rt.services.cases.queue_size("ag1"), rt.services.cases.queue_size("ag2")) == (3, 0)
        assert records(rt, moved, "case_assigned")[-1] == {"to": "ag1", "from": "ag2", "by": "sup1"}


def test_the_plan_calculator_shows_the_proposal_the_waiver_decision_and_affordability_without_storing(
    rt: MemoryRuntime,
) -> None:
    before = state(rt)
    status, preview = rt.api("GET", f"/cases/{SMALL}/plan-preview?waive_penalty=0.50", **AG1)
    assert status == 200, preview
    loan = rt.services.loans.get("S1")
    assert loan is not None
    position = assess(loan, clock.today(rt.settings.time_zone))
    assert Decimal(preview["amount"]) == position.total_overdue - Decimal("0.50")
    assert preview["ok"] is True and preview["waiver"]["approved"] is True
    assert sum(Decimal(i["amount"]) for i in preview["installments"]) == Decimal(preview["amount"])
    assert preview["share_of_affordable"].endswith("%") and "monthly_income" not in json.dumps(preview)
    status, beyond = rt.api("GET", f"/cases/{SMALL}/plan-preview?waive_interest=0.01", **AG1)
    assert status == 200 and beyond["waiver"] == {
        "approved": False,
        "reason": beyond["waiver"]["reason"],
        "required_role": "supervisor",
        "two_person": None,
    }
    assert state(rt) == before  # nothing proposed, nothing recorded


def test_a_refused_call_outcome_writes_nothing_and_the_corrected_one_is_taken_whole(rt: MemoryRuntime) -> None:
    """A promise dated in the past is refused (422 at promise_date) before anything is written: no dial
    attempt counted against the caps, no outcome, no reply; the corrected request then records all of it."""
    at = clock.now().isoformat()
    before = (rt.services.cases.require(SMALL).call_attempts, rt.services.cases.contacts("C-S1"))
    wrong = {"disposition": "promise_to_pay", "at": at, "promise_date": "2026-06-01", "promise_amount": "500.00"}
    status, body = rt.api("POST", f"/cases/{SMALL}/call-outcomes", wrong, **AG1)
    assert status == 422 and "promise_date" in json.dumps(body), body
    assert records(rt, SMALL, "call_attempt") == [] and records(rt, SMALL, "call_outcome") == []
    assert (rt.services.cases.require(SMALL).call_attempts, rt.services.cases.contacts("C-S1")) == before
    right = wrong | {"promise_date": "2026-06-25"}
    status, body = rt.api("POST", f"/cases/{SMALL}/call-outcomes", right, **AG1)
    assert status == 200 and body["recorded"] == "now" and body["promise"]["amount"] == "500.00", body
    assert len(records(rt, SMALL, "call_outcome")) == 1 and len(records(rt, SMALL, "promise_to_pay")) == 1
    # sent again: recorded before, the promise the same one (nothing new)
    again = rt.api("POST", f"/cases/{SMALL}/call-outcomes", right, **AG1)[1]
    assert again["recorded"] == "before" and again["promise"]["amount"] == "500.00"
    assert len(records(rt, SMALL, "promise_to_pay")) == 1


def test_an_assignment_lost_to_a_failure_is_made_by_the_next_scan() -> None:
    """DynamoDB refuses the assignment's write when the case opens (the case is in no queue): the next
    morning's scan assigns it by the same rules, on the record."""
    from dueflow.ports import ServiceUnavailable
    from dueflow.settings import AssignmentRule

    settings = Settings(environment="assign", index_shards=2, assignment_rules=(AssignmentRule(agents=("ag1",)),))
    with MemoryRuntime(settings, start=datetime(2026, 6, 16, tzinfo=UTC), tolerate_failures=True) as rt:
        rt.load_book([borrower("A1")], date(2026, 6, 16))

        def no_queue(service: str, operation: str, params: Any) -> None:
            if (service, operation) == ("dynamodb", "UpdateItem") and rt.dispatcher.current() == "scan":
                import traceback

                if any(frame.name == "auto_assign" for frame in traceback.extract_stack()):
                    raise ServiceUnavailable(service, operation, "injected")

        rt.wire.before.append(no_queue)
        rt.run_day(date(2026, 6, 17))
        rt.wire.before.remove(no_queue)
        case = rt.services.cases.require("A1-2026-06-15")
        assert case.is_open and case.assigned_to is None and rt.services.cases.queue_size("ag1") == 0
        rt.run_day(date(2026, 6, 18))
        case = rt.services.cases.require("A1-2026-06-15")
        assert case.assigned_to == "ag1" and rt.services.cases.queue_size("ag1") == 1
        assert records(rt, case.case_id, "case_assigned")[-1]["by"] == "assignment rules"
