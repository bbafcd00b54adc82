"""Money in: each payment is on the case's record with its own date, amount and reference, whatever the
order it is posted in and whichever way it arrives; nothing is dropped or counted twice."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from dueflow.settings import Settings
from dueflow_local.runtime import open_runtime
from tests.e2e.conftest import borrower

CASE = "L1-2026-06-15"


def payments_on_record(rt: object, case_id: str) -> list[tuple[str, str, str | None]]:
    records = [json.loads(data) for _, data in rt.services.audit_store.read_case("L1", case_id)]  # type: ignore[attr-defined]
    return [
        (r["body"]["date"], r["body"]["amount"], r["body"]["reference"])
        for r in records
        if r["type"] == "payment_received"
    ]


def test_a_back_dated_payment_is_recorded_with_its_own_date_and_amount() -> None:
    with open_runtime("memory", Settings(environment="pay", index_shards=2), datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
        later = {"date": "2026-06-18", "amount": "100.00", "reference": "bank-a"}
        earlier = {"date": "2026-06-16", "amount": "200.00", "reference": "bank-b"}  # posted second, dated first

        def post(body: dict[str, str]) -> None:
            assert rt.api("POST", "/loans/L1/payments", body, system=True)[0] == 200

        rt.run_day(date(2026, 6, 18), [("10:00", lambda: post(later)), ("11:00", lambda: post(earlier))])
        rt.run_day(date(2026, 6, 19), [("10:00", lambda: rt.post_payment("L1", date(2026, 6, 19), "30.00"))])
        assert payments_on_record(rt, CASE) == [
            ("2026-06-18", "100.00", "bank-a"),
            ("2026-06-16", "200.00", "bank-b"),
            ("2026-06-19", "30.00", None),  # the bank's feed wrote it to the table: the stream records it
        ]
        # posted again, each answers as before and nothing more is recorded
        rt.run_day(date(2026, 6, 20), [("10:00", lambda: post(earlier))])
        assert len(payments_on_record(rt, CASE)) == 3
        loan = rt.services.loans.get("L1")
        assert loan is not None and sorted(str(p.amount) for p in loan.payments) == ["100.00", "200.00", "30.00"]


def test_audit_records_are_stamped_in_the_order_they_happened() -> None:
    """The record that opens a case is stamped at the moment it is opened, before every record after it
    (it once carried midnight UTC of the business date, hours after the scan's own records)."""
    with open_runtime("memory", Settings(environment="pay", index_shards=2), datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
        records = [json.loads(data) for _, data in rt.services.audit_store.read_case("L1", CASE)]
    stamps = [datetime.fromisoformat(r["at"]) for r in records]
    assert records[0]["type"] == "case_opened" and stamps == sorted(stamps)
