"""A complaint pauses contact, but the notices the law requires (the first reminder with its itemised
statement, the us validation notice, the credit-report pre-notice) are held, never dropped: they go out
when contact resumes. Ordinary reminders of the cadence are dropped with the reason on the record."""

from __future__ import annotations

import json
from datetime import date

from dueflow_local.runtime import Runtime
from tests.e2e.conftest import borrower
from tests.e2e.test_us_pack import NEW_YORK

SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}
CASE = "U1-2026-06-15"
REQUIRED = {"first_reminder", "validation_notice", "credit_report_prenotice"}


def records(rt: Runtime, kind: str) -> list[dict[str, str]]:
    return [
        r["body"]
        for r in (json.loads(d) for _, d in rt.services.audit_store.read_case("U1", CASE))
        if r["type"] == kind
    ]


def test_the_notices_the_law_requires_wait_out_a_complaint_and_go_when_it_is_resolved(runtime: Runtime) -> None:
    rt = runtime
    rt.load_book([borrower("U1", currency="USD", rules="us", customer=NEW_YORK)], date(2026, 6, 16))
    # the case opens at 02:00 Shanghai (14:00 in New York); the customer complains before the first tick
    complain = ("02:05", lambda: rt.api("POST", f"/cases/{CASE}/complaints", **SUPERVISOR))
    rt.run_day(date(2026, 6, 17), [complain])
    for day in (18, 19, 20):
        rt.run_day(date(2026, 6, day))
    assert records(rt, "message_sent") == []
    dropped = {m["template"] for m in records(rt, "message_dropped")}
    assert not dropped & REQUIRED, dropped
    # resolved: they go out within the customer's window, each on every channel it was queued for, once
    resolve = ("09:00", lambda: rt.api("POST", f"/cases/{CASE}/complaints/resolve", **SUPERVISOR))
    rt.run_day(date(2026, 6, 21), [resolve])
    rt.run_day(date(2026, 6, 22))
    sent = sorted((m["template"], m["channel"]) for m in records(rt, "message_sent") if m["template"] in REQUIRED)
    assert sent == [
        ("credit_report_prenotice", "email"),
        ("credit_report_prenotice", "sms"),
        ("first_reminder", "email"),
        ("first_reminder", "sms"),
        ("validation_notice", "email"),
    ]
    assert rt.services.cases.require(CASE).credit_report_allowed_from is not None
