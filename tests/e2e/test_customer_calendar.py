"""Days past due on the customer's calendar: a loan is overdue from the day after its due date in the
loan's own time zone (its customer's), not on the bank's date. The 02:00 scan in Shanghai on 2026-06-16
is the afternoon of 06-15 in New York, the due date there: nothing is overdue yet, no case opens and no
message calls the loan overdue; the next morning's scan (06-16 in New York) opens it, one day past due,
with one day of penalty."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dueflow.settings import Settings
from dueflow_local.runtime import Runtime, open_runtime
from tests.e2e.conftest import BACKENDS, NO_TABLE, borrower
from tests.e2e.test_us_pack import NEW_YORK


def records(rt: Runtime, loan: str, case: str, kind: str) -> list[dict[str, Any]]:
    return [
        r["body"]
        for r in (json.loads(d) for _, d in rt.services.audit_store.read_case(loan, case))
        if r["type"] == kind
    ]


@pytest.fixture(params=BACKENDS)
def early(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A runtime whose clock starts before the 2026-06-16 scan (02:00 in Shanghai)."""
    settings = Settings(environment="calendar", index_shards=2, **NO_TABLE)
    with open_runtime(request.param, settings, start=datetime(2026, 6, 15, tzinfo=UTC)) as rt:
        yield rt


def test_a_new_york_loan_is_not_overdue_on_its_due_date_there(early: Runtime) -> None:
    rt = early
    # both installments 1 fall due 2026-06-15 (START 2026-05-15)
    rt.load_book([borrower("N1", customer=NEW_YORK), borrower("S1")], date(2026, 6, 15))
    rt.run_day(date(2026, 6, 16))
    shanghai = rt.services.cases.open_case_for_loan("S1")
    assert shanghai is not None and shanghai.dpd_at_open == 1  # 06-16 in Shanghai: one day past due
    assert rt.services.cases.latest_case_for_loan("N1") is None  # still 06-15 in New York
    # the only message is the reminder that the installment is due today (there), none calls it overdue
    assert {m["template"] for m in rt.services.outbox.all() if m["loan_id"] == "N1"} == {"pre_due_reminder"}

    rt.run_day(date(2026, 6, 17))
    case = rt.services.cases.open_case_for_loan("N1")
    assert case is not None
    assert (case.case_id, case.opened_on, case.dpd_at_open) == ("N1-2026-06-15", date(2026, 6, 17), 1)
    # the statement and the first reminder are as of the customer's date, with one day of penalty
    (opened,) = records(rt, "N1", case.case_id, "case_opened")
    assert opened["dpd"] == 1
    sent = [r for r in records(rt, "N1", case.case_id, "message_sent") if r["template"] == "first_reminder"]
    assert sent and all("as of 2026-06-16" in r["text"] for r in sent)
    statement = rt.services.cases.require(case.case_id).statement
    assert statement is not None and statement["as_of"] == "2026-06-16"
    assert [line["days_overdue"] for line in statement["installments"]] == [1]
