"""End-to-end on the local runtime: real handlers, the deployed definition, on both worlds (the in-memory
adapters with the local executor, and the AWS adapters on moto with moto's interpreter): each path must
behave the same on both."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dueflow.domain.loan import Loan
from dueflow.settings import Settings
from dueflow_local.runtime import BACKENDS, Runtime, open_runtime

START = date(2026, 5, 15)  # first installment due 2026-06-15


def borrower(loan_id: str = "L1", principal: str = "12000.00", language: str = "zh-CN", **extra: Any) -> Loan:
    record: dict[str, Any] = {
        "loan_id": loan_id,
        "customer_id": f"C-{loan_id}",
        "principal": principal,
        "annual_rate": "0.12",
        "term_months": 12,
        "start_date": START.isoformat(),
        "customer": {
            "name": "王芳",
            "phone": "+8613800138000",
            "email": f"{loan_id.lower()}@example.com",
            "timezone": "Asia/Shanghai",
            "language": language,
            "monthly_income": "20000.00",
            "monthly_expenses": "8000.00",
        },
    }
    record.update(extra)
    return Loan.model_validate(record)


@pytest.fixture
def handler_logs() -> Iterator[io.StringIO]:
    """Every line the handlers log (at INFO) while the test runs: Powertools' handler writes to the
    stream it was created with, which pytest's capture fixtures do not see."""
    from dueflow.observability import logger

    buffer = io.StringIO()
    stream, level = logger.registered_handler.setStream(buffer), logger.log_level  # type: ignore[attr-defined]
    logger.setLevel("INFO")
    try:
        yield buffer
    finally:
        logger.setLevel(level)
        logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]


# The workflow tests' deployment maps no jurisdiction to a pack: a loan is under the pack it names
# (rules="cn", "us") or under none (contractual dates, the engine's defaults), so each test says which
# rules it exercises. The default table (a CNY loan under cn) is tested in tests/e2e/test_jurisdiction.py.
NO_TABLE: dict[str, Any] = {"jurisdiction_packs": ()}


@pytest.fixture(params=BACKENDS)
def runtime(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    settings = Settings(environment="e2e", index_shards=2, **NO_TABLE)
    with open_runtime(request.param, settings, start=datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        yield rt


def sent_messages(rt: Runtime, case_id: str) -> list[Any]:
    """The case's messages that went out, oldest first."""
    messages = [rt.services.outbox.get(i["message_id"]) for i in rt.services.outbox.all()]
    return sorted(
        (m for m in messages if m is not None and m.case_id == case_id and m.status == "SENT"),
        key=lambda m: (m.sent_at, m.channel),
    )


def shown_plan(rt: Runtime, case_id: str) -> dict[str, Any]:
    """The proposal on the case as the customer was shown it: what an acceptance names."""
    case = rt.services.cases.require(case_id)
    assert case.plan is not None, f"no plan proposed on {case_id}"
    return {"version": case.plan.version, "plan_hash": case.plan.content_hash}


def accept_shown(rt: Runtime, case_id: str) -> tuple[int, Any]:
    """The bank's channel records the customer's acceptance of the plan they were shown."""
    return rt.api("POST", f"/cases/{case_id}/plan-acceptance", shown_plan(rt, case_id), system=True)


def named_request(rt: Runtime, case_id: str, **extra: Any) -> dict[str, Any]:
    """The waiver request awaiting a decision on the case, as the approver sees it (and ``extra``)."""
    request = rt.services.cases.require(case_id).waiver_request
    assert request is not None, f"no waiver request on {case_id}"
    return {"version": request["version"], "request_hash": request["request_hash"], **extra}
