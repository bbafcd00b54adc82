"""The acceleration notice (加速到期通知): recorded by legal through the API, on the case's record; only
after it does the legal review claim the principal not yet due (docs/formulas.md §8)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from dueflow.domain.position import assess
from dueflow.settings import Settings
from dueflow_local.memory_runtime import MemoryRuntime
from tests.e2e.conftest import NO_TABLE, borrower

CASE = "L1-2026-03-15"
LEGAL = {"user": "law1", "groups": ("legal",)}
TODAY = date(2026, 6, 20)


@pytest.fixture
def rt() -> Iterator[MemoryRuntime]:
    """A loan secured on real estate, 97 days past due on 2026-06-20, nothing paid."""
    loan = borrower("L1", start_date="2026-02-15", collateral={"type": "real_estate", "value": "500000.00"})
    with MemoryRuntime(
        Settings(environment="accel", index_shards=2, **NO_TABLE), start=datetime(2026, 6, 19, tzinfo=UTC)
    ) as runtime:
        runtime.load_book([loan], date(2026, 6, 19))
        runtime.run_day(TODAY)
        yield runtime


def review(rt: MemoryRuntime) -> dict[str, Any]:
    """Run the legal review stage on the case, as the state machine would, and read its assessment."""
    event = {"stage": "legal_review", "case_id": CASE, "loan_id": "L1", "execution": CASE}
    event["entered"] = "2026-06-20T04:00:00.000Z"
    rt.invoke("case_stage", event)
    (body,) = [
        r["body"]
        for r in (json.loads(d) for _, d in rt.services.audit_store.read_case("L1", CASE))
        if r["type"] == "legal_assessment"
    ][-1:]
    return dict(body)


def test_without_a_notice_the_claim_is_what_is_overdue(rt: MemoryRuntime) -> None:
    loan = rt.services.loans.get("L1")
    assert loan is not None
    position = assess(loan, TODAY)
    assessment = review(rt)
    assert assessment["accelerated"] is False
    assert Decimal(assessment["claim"]) == position.overdue_principal + position.overdue_interest + position.penalty


def test_after_legal_records_the_notice_the_claim_includes_the_principal_not_yet_due(rt: MemoryRuntime) -> None:
    notice = {"sent_on": "2026-06-20", "reference": "EMS-1234567890"}
    assert rt.api("POST", f"/cases/{CASE}/acceleration-notice", notice, user="ag1", groups=("agent",))[0] == 403
    status, body = rt.api("POST", f"/cases/{CASE}/acceleration-notice", notice, **LEGAL)
    assert status == 200 and body["acceleration_noticed_on"] == "2026-06-20"
    assert rt.api("POST", f"/cases/{CASE}/acceleration-notice", {**notice, "sent_on": "2026-07-01"}, **LEGAL)[0] == 422
    records = [json.loads(d) for _, d in rt.services.audit_store.read_case("L1", CASE)]
    assert [r["body"]["reference"] for r in records if r["type"] == "acceleration_notice"] == ["EMS-1234567890"]
    loan = rt.services.loans.get("L1")
    assert loan is not None
    position = assess(loan, TODAY)
    assessment = review(rt)
    assert assessment["accelerated"] is True
    assert Decimal(assessment["claim"]) == position.outstanding_principal + position.overdue_interest + position.penalty
