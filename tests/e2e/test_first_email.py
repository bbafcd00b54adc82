"""The first e-mail of a case carries the itemised statement (每期本金、利息、罚息、复利, as of the day, how
to pay); the SMS of the same reminder does not (short, and never more than the total)."""

from __future__ import annotations

import json
from datetime import date

from dueflow.domain.position import assess
from dueflow_local.runtime import Runtime
from tests.e2e.conftest import borrower

CASE = "L1-2026-06-15"


def test_the_first_email_carries_the_itemised_statement_and_the_sms_does_not(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([borrower()], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))
    sent = {
        record["body"]["channel"]: record["body"]["text"]
        for record in (json.loads(data) for _, data in rt.services.audit_store.read_case("L1", CASE))
        if record["type"] == "message_sent" and record["body"]["template"] == "first_reminder"
    }
    email, sms = sent["email"], sent["sms"]
    position = assess(borrower(), date(2026, 6, 17))
    (line,) = position.lines
    assert "逾期账单（截至2026-06-17）" in email
    assert f"第1期 {line.due_date}到期：本金{line.principal_outstanding} 利息{line.interest_outstanding}" in email
    assert f"罚息{line.penalty_on_principal_accrued} 复利{line.compound_interest_accrued}" in email
    assert f"合计应还¥{position.total_overdue:,}" in email and "18.00%" in email
    assert email.startswith(f"【{rt.settings.bank_name}】") and sms.startswith(f"【{rt.settings.bank_name}】")
    assert "还款方式：" in email and rt.settings.payment_instructions in email
    assert "逾期账单" not in sms and "罚息" not in sms
