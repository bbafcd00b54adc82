"""A US loan (the us rule pack) for a customer in New York: the validation notice goes out with the first
contact (15 U.S.C. 1692g(a), 12 CFR 1006.34: within 5 days, a 30-day dispute window), every electronic
message carries the opt-out notice (12 CFR 1006.6(e)), amounts read in dollars; a cn loan gets neither."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from dueflow_local.runtime import Runtime
from tests.e2e.conftest import borrower

NEW_YORK = {
    "name": "Jane Roe",
    "phone": "+12125550100",
    "email": "jane@example.com",
    "timezone": "America/New_York",
    "language": "en",
    "monthly_income": "6000.00",
    "monthly_expenses": "2500.00",
}


def sent(rt: Runtime, loan: str, case: str) -> list[dict[str, str]]:
    return [
        record["body"]
        for record in (json.loads(d) for _, d in rt.services.audit_store.read_case(loan, case))
        if record["type"] == "message_sent"
    ]


def test_a_new_york_loan_gets_the_validation_notice_and_the_opt_out_line(runtime: Runtime) -> None:
    rt = runtime
    us = borrower("U1", currency="USD", rules="us", customer=NEW_YORK)
    cn = borrower("C1")
    rt.load_book([us, cn], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))
    us_messages = sent(rt, "U1", "U1-2026-06-15")
    validation = [m for m in us_messages if m["template"] == "validation_notice"]
    assert [m["channel"] for m in validation] == ["email"]
    # 12 CFR 1006.34(b)(5): sent on Tuesday 2026-06-16 in New York (the 02:00 scan in Shanghai is the
    # afternoon before there), assumed received 5 business days later, not counting Friday 06-19
    # (Juneteenth, a legal public holiday) nor the weekend: Wednesday 06-24; the dispute window ends 30
    # days after that (30 days from sending would be 07-16)
    assert validation[0]["local_time"] == "14:15"
    assert "dispute all or part of this debt by 2026-07-24" in validation[0]["text"]
    # the bank collects its own loan: the notice names it as the creditor, not as a debt collector
    assert "This is a communication from DueFlow Example Bank, the creditor of this loan," in validation[0]["text"]
    assert "debt collector" not in validation[0]["text"]
    electronic = [m for m in us_messages if m["channel"] in ("sms", "email")]
    assert len(electronic) >= 3 and all("Reply STOP to opt out" in m["text"] for m in electronic)
    assert all("$" in m["text"] for m in electronic)
    assert all(m["local_time"] >= "08:00" for m in electronic)  # inside 8am-9pm in New York
    cn_messages = sent(rt, "C1", "C1-2026-06-15")
    assert cn_messages and not [m for m in cn_messages if m["template"] == "validation_notice"]
    assert not [m for m in cn_messages if "STOP" in m["text"]]


def test_no_call_for_seven_days_after_a_telephone_conversation_under_the_us_pack(runtime: Runtime) -> None:
    """12 CFR 1006.14(b)(2)(ii): no telephone call within 7 days after a telephone conversation about the
    debt. The agent records the conversation; the next call task waits until the 7 days are over; a cn
    loan's call (no such rule in its pack) goes out as usual."""
    from datetime import datetime, timedelta

    rt = runtime
    us = borrower("U1", principal="120000.00", currency="USD", rules="us", customer=NEW_YORK)
    cn = borrower("C1", principal="120000.00", customer_id="C-C1")
    rt.load_book([us, cn], date(2026, 6, 16))
    supervisor = {"user": "sup1", "groups": ("supervisor",)}
    spoke: dict[str, str] = {}

    def talk() -> None:
        for case in ("U1-2026-06-15", "C1-2026-06-15"):
            status, body = rt.api("POST", f"/cases/{case}/conversations", {"outcome": "will call back"}, **supervisor)
            assert status == 200, body
            spoke[case] = body["conversation_at"]

    rt.run_day(date(2026, 6, 17), [("02:05", talk)])  # after the scan queued the calls, before they go out
    calls = {
        m.case_id: m
        for m in (rt.services.outbox.get(i["message_id"]) for i in rt.services.outbox.all())
        if m is not None and m.channel == "call"
    }
    us_call, cn_call = calls["U1-2026-06-15"], calls["C1-2026-06-15"]
    assert cn_call.status == "SENT"
    assert us_call.status == "PENDING"
    assert us_call.not_before >= datetime.fromisoformat(spoke["U1-2026-06-15"]) + timedelta(days=7)
    for offset in range(1, 9):
        rt.run_day(date(2026, 6, 17) + timedelta(days=offset))
    after = rt.services.outbox.get(us_call.message_id)
    assert after is not None and after.status == "SENT"
    assert after.sent_at >= datetime.fromisoformat(spoke["U1-2026-06-15"]) + timedelta(days=7)  # type: ignore[operator]


def test_a_cn_pack_loan_tells_the_customer_how_to_complain_in_every_message(runtime: Runtime) -> None:
    """《银行业保险业消费投诉处理管理办法》 (the cn pack's complaint_route line): every message of a loan under
    the cn pack says how to complain; a loan under no pack keeps its texts as they were."""
    rt = runtime
    rt.load_book([borrower("C1", rules="cn"), borrower("C2")], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))
    with_pack = [m for m in sent(rt, "C1", "C1-2026-06-15") if m["channel"] in ("sms", "email")]
    assert with_pack and all(
        f"如对催收有异议或需投诉，请致电{rt.settings.bank_hotline}。" in m["text"] for m in with_pack
    )
    assert not [m for m in sent(rt, "C2", "C2-2026-06-15") if "需投诉" in m["text"]]


def test_the_7_in_7_cap_counts_the_debts_dial_attempts_not_call_tasks(runtime: Runtime) -> None:
    """12 CFR 1006.14(b)(2)(i): no more than 7 telephone calls in 7 consecutive days about one debt. Under
    the us pack the cap counts the dial attempts agents record on the debt (``POST .../call-attempts``),
    3 a day at most; the call tasks DueFlow creates are not calls and count for nothing. An attempt over
    the cap is refused with when the next may be placed; a call task queued then waits until then."""
    from datetime import datetime, timedelta

    from dueflow import clock
    from dueflow.domain.position import assess
    from dueflow.services.customers import customer_rules
    from dueflow.services.notices import queue_message, reminder_values

    rt = runtime
    case = "U1-2026-06-15"
    us = borrower("U1", principal="120000.00", currency="USD", rules="us", customer=NEW_YORK)
    rt.load_book([us], date(2026, 6, 16))
    supervisor = {"user": "sup1", "groups": ("supervisor",)}
    placed: list[datetime] = []
    refusals: list[str] = []

    def dial(outcome: str = "no_answer") -> None:
        at = clock.now()
        status, body = rt.api(
            "POST", f"/cases/{case}/call-attempts", {"outcome": outcome, "at": at.isoformat()}, **supervisor
        )
        if status == 200:
            assert body["counted"] is True
            placed.append(at)
        else:
            assert status == 409, body
            refusals.append(body["message"])

    # 21:00 in Shanghai is 09:00 in New York (EDT): inside the customer's 8am-9pm
    four = [(f"21:{m:02d}", dial) for m in (0, 10, 20, 30)]
    rt.run_day(date(2026, 6, 17), four)
    assert len(placed) == 3 and "contact cap reached" in refusals[0]  # 3 a day
    rt.run_day(date(2026, 6, 18), four[:3])
    rt.run_day(date(2026, 6, 19), four[:2])
    assert len(placed) == 7 and len(refusals) == 2
    (seventh_refusal,) = refusals[1:]
    assert "contact cap reached" in seventh_refusal
    freed = placed[0] + timedelta(days=7)  # when the first attempt leaves the 7 days
    assert f"the next call may be placed from {freed.isoformat()}" in seventh_refusal

    # call tasks went out meanwhile and did not count: the customer's log holds no call, the debt's 7 attempts
    sent_calls = [
        m
        for m in (rt.services.outbox.get(i["message_id"]) for i in rt.services.outbox.all())
        if m is not None and m.channel == "call" and m.status == "SENT"
    ]
    assert sent_calls, "the stages queued call tasks for a 120,000 debt"
    customer = customer_rules(rt.services, "C-U1")
    sms_sent = [
        m
        for m in (rt.services.outbox.get(i["message_id"]) for i in rt.services.outbox.all())
        if m is not None and m.channel == "sms" and m.status == "SENT"
    ]
    assert len(customer.contacts) == len(sms_sent)
    assert [datetime.fromisoformat(t) for t in rt.services.cases.require(case).call_attempts] == placed

    # a call task queued now waits for the cap to free
    loan = rt.services.loans.get("U1")
    assert loan is not None
    position = assess(loan, date(2026, 6, 19))
    values = reminder_values(loan, position, rt.services.settings)
    assert queue_message(
        rt.services, rt.services.cases.require(case), loan, "call", "second_reminder", values, "cap-test", clock.now()
    )
    rt.run_day(date(2026, 6, 20))
    (task,) = [
        m
        for m in (rt.services.outbox.get(i["message_id"]) for i in rt.services.outbox.all())
        if m is not None and m.channel == "call" and m.status == "PENDING"
    ]
    assert task.not_before is not None and task.not_before >= freed


def test_a_conversation_recorded_as_an_attempt_starts_the_quiet_and_a_cn_attempt_counts_per_customer(
    runtime: Runtime,
) -> None:
    """12 CFR 1006.14(b)(2)(ii) through the dialer: an attempt that reached the customer starts the 7 days'
    quiet (the next attempt is refused); under the cn pack an attempt counts on the customer's log, across
    their loans (the pack's cap scope)."""
    from datetime import datetime

    from dueflow import clock
    from dueflow.services.customers import customer_rules

    rt = runtime
    us = borrower("U1", principal="120000.00", currency="USD", rules="us", customer=NEW_YORK)
    cn = borrower("C1", rules="cn")
    rt.load_book([us, cn], date(2026, 6, 16))
    supervisor = {"user": "sup1", "groups": ("supervisor",)}
    answers: list[tuple[int, Any]] = []

    def dial(case: str, outcome: str) -> Any:
        return lambda: answers.append(
            rt.api(
                "POST",
                f"/cases/{case}/call-attempts",
                {"outcome": outcome, "at": clock.now().isoformat()},
                **supervisor,
            )
        )

    us_case, cn_case = "U1-2026-06-15", "C1-2026-06-15"
    rt.run_day(
        date(2026, 6, 17),
        [
            ("21:00", dial(us_case, "conversation")),
            ("21:10", dial(us_case, "no_answer")),
            ("15:00", dial(cn_case, "no_answer")),
        ],
    )
    cn_answer, us_spoke, us_again = answers
    assert cn_answer[0] == 200 and us_spoke[0] == 200
    assert us_again[0] == 409 and "quiet after a telephone conversation" in us_again[1]["message"]
    assert datetime.fromisoformat(cn_answer[1]["attempt_at"]) in customer_rules(rt.services, "C-C1").contacts
    kinds = [json.loads(d)["type"] for _, d in rt.services.audit_store.read_case("U1", us_case)]
    assert kinds.count("call_attempt") == 1 and "customer_reply" in kinds
