"""The collection paths, end to end on the local runtime."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dueflow.domain.audit_chain import verify_chain
from dueflow.settings import Settings
from dueflow_local.runtime import LocalRuntime
from tests.e2e.conftest import borrower, sent_messages

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASE = "L1-2026-06-15"


def audit_ok(rt: LocalRuntime, case_id: str, loan_id: str = "L1") -> list[str]:
    case = rt.services.cases.require(case_id)
    objects = rt.services.audit_store.read_case(loan_id, case_id)
    report = verify_chain(case_id, objects, case.get("audit_head"))
    assert report.ok, report.problems
    return [key.rsplit("/", 1)[-1].split("-", 1)[1].removesuffix(".json") for key, _ in objects]


def test_path_1_pays_after_the_first_reminder_and_is_cured(runtime: LocalRuntime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    # Day 1 (DPD 2): the scan opens the case; the reminders go out when the window opens at 08:00
    rt.run_day(date(2026, 6, 17))
    assert rt.stages_entered(CASE)[:3] == ["Confirm overdue", "First contact", "Await response"]
    first = sent_messages(rt, CASE)
    assert [(m.channel, m.template, m.language) for m in first] == [
        ("email", "first_reminder", "zh-CN"),
        ("sms", "first_reminder", "zh-CN"),
    ]
    assert {m.sent_at.astimezone(SHANGHAI).strftime("%H:%M") for m in first} == {"08:00"}  # type: ignore[union-attr]
    # Day 2: the customer pays the total overdue at noon
    total = rt.services.cases.require(CASE)["statement"]["total_overdue"]
    rt.run_day(date(2026, 6, 18), [("12:00", lambda: rt.post_payment("L1", date(2026, 6, 18), "1100.00"))])
    assert total
    case = rt.services.cases.require(CASE)
    assert (case["status"], case["outcome"]) == ("CLOSED", "CURED")
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


def test_path_4_never_answers_with_a_small_balance_and_goes_to_write_off_review(runtime: LocalRuntime) -> None:
    rt = runtime
    rt.load_book([borrower(principal="3000.00")], date(2026, 6, 16))
    for day in days(date(2026, 6, 17), 32):
        rt.run_day(day)
    case = rt.services.cases.require(CASE)
    assert (case["status"], case["outcome"]) == ("CLOSED", "WRITE_OFF_REVIEW")
    stages = [s for s in rt.stages_entered(CASE) if not s.endswith("what happened?")]
    assert stages == [
        "Confirm overdue",
        "First contact",
        "Await response",
        "Second reminder",
        "Await response to second reminder",
        "Negotiate by phone",
        "Await agreement",
        "Legal review",
        "Litigate?",
        "Closed: write-off review",
        "Closed: write-off review: done",
    ]
    templates = [(m.channel, m.template) for m in sent_messages(rt, CASE)]
    assert templates.count(("sms", "first_reminder")) == 1 and templates.count(("sms", "second_reminder")) == 1
    assert ("call", "second_reminder") in templates  # the agent's call task
    kinds = audit_ok(rt, CASE)
    assert "legal_assessment" in kinds and "litigation_package" not in kinds


def test_path_6_a_reminder_due_at_23_00_goes_out_at_08_00() -> None:
    # Given a bank that runs its daily scan at 23:00
    late = Settings(environment="late", index_shards=2, scan_time=time(23, 0))
    with LocalRuntime(late, start=datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.scan(date(2026, 6, 17))  # 23:00 Shanghai: the case opens and the first reminder is queued
        rt.dispatch_through(rt.local(date(2026, 6, 18), "12:00"))
        sent = sent_messages(rt, CASE)
        assert len(sent) == 2
        for message in sent:
            local = message.sent_at.astimezone(SHANGHAI)  # type: ignore[union-attr]
            assert (local.date(), local.strftime("%H:%M")) == (date(2026, 6, 18), "08:00")


def test_path_7_the_scan_run_twice_the_same_day_opens_one_case_and_sends_once(runtime: LocalRuntime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    first = rt.scan(date(2026, 6, 17))
    again = rt.scan(date(2026, 6, 17))
    assert (first["cases_opened"], again["cases_opened"], again["cases_already_open"]) == (1, 0, 1)
    rt.dispatch_through(rt.local(date(2026, 6, 17), "23:59"))
    assert len(sent_messages(rt, CASE)) == 2
    cases = rt.client("dynamodb").scan(TableName=f"{rt.settings.prefix}-cases")["Items"]
    assert [c["case_id"]["S"] for c in cases if not c["case_id"]["S"].startswith("customer#")] == [CASE]
    sfn = rt.client("stepfunctions")
    assert len(sfn.list_executions(stateMachineArn=rt.resources.state_machine_arn)["executions"]) == 1
