"""Before adverse information goes to a credit bureau the customer is told, and the case says from when
it may be reported: cn, 《征信业管理条例》第十五条 (told in advance; 7 days in the pack); us, 12 CFR 1006.30(a)
(a communication first, then 14 days). A loan under no pack gets no such notice."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dueflow_local.runtime import Runtime
from tests.e2e.conftest import borrower
from tests.e2e.test_us_pack import NEW_YORK

SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}


def notices(rt: Runtime, loan: str, case: str) -> list[dict[str, str]]:
    """The pre-notices the provider accepted, each with the bank-local day it went out (``day``)."""
    bank = ZoneInfo(rt.settings.time_zone)
    return [
        r["body"] | {"day": datetime.fromisoformat(r["at"]).astimezone(bank).date().isoformat()}
        for r in (json.loads(d) for _, d in rt.services.audit_store.read_case(loan, case))
        if r["type"] == "message_sent" and r["body"]["template"] == "credit_report_prenotice"
    ]


def test_the_credit_report_pre_notice_goes_out_with_the_first_contact_and_sets_the_reporting_date(
    runtime: Runtime,
) -> None:
    rt = runtime
    cn = borrower("C1", rules="cn")
    us = borrower("U1", currency="USD", rules="us", customer=NEW_YORK)
    plain = borrower("P1")
    rt.load_book([cn, us, plain], date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))
    rt.run_day(date(2026, 6, 18))  # New York's morning is Shanghai's evening: the us messages may go then

    cn_sent = notices(rt, "C1", "C1-2026-06-15")
    assert sorted(m["channel"] for m in cn_sent) == ["email", "sms"]
    assert all("征信业管理条例》第十五条" in m["text"] and "2026-06-24" in m["text"] for m in cn_sent)
    status, case = rt.api("GET", "/cases/C1-2026-06-15", **SUPERVISOR)
    assert {m["day"] for m in cn_sent} == {"2026-06-17"}
    assert status == 200 and case["credit_report_allowed_from"] == "2026-06-24"  # sent 06-17, + 7 days

    us_sent = notices(rt, "U1", "U1-2026-06-15")
    assert sorted(m["channel"] for m in us_sent) == ["email", "sms"]
    # 14 days from the customer's date at the first contact (06-16 in New York: 02:00 in Shanghai on 06-17)
    assert all("credit reporting agencies from 2026-06-30" in m["text"] for m in us_sent)
    first = min(date.fromisoformat(m["day"]) for m in us_sent)
    allowed = rt.services.cases.require("U1-2026-06-15").credit_report_allowed_from
    assert allowed == max(first + timedelta(days=14), date(2026, 6, 30))

    assert not notices(rt, "P1", "P1-2026-06-15")
    assert rt.services.cases.require("P1-2026-06-15").credit_report_allowed_from is None
