"""Who may do what through the API, on the local runtime: every route, every role.

A refused call answers 401 (no identity) or 403 (the wrong role or not the case's agent) and leaves the
case, its audit records, the outbox and the loan exactly as they were."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dueflow.settings import Settings
from dueflow_local.memory_runtime import MemoryRuntime
from tests.e2e.conftest import borrower

CASE = "L1-2026-06-15"
OTHER = "L2-2026-06-15"

SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}
AGENT = {"user": "ag1", "groups": ("agent",)}  # assigned to CASE, not to OTHER
LEGAL = {"user": "law1", "groups": ("legal",)}
AUDITOR = {"user": "aud1", "groups": ("auditor",)}
NOBODY: dict[str, Any] = {}  # neither a Cognito user nor an IAM-signed system
SYSTEM = {"system": True}  # the bank's payment feed: payments, acceptances, complaints, opt-outs only

ROUTES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "read": ("GET", "/cases/{case}", None),
    "assign": ("POST", "/cases/{case}/assignment", {"agent": "ag2"}),
    "propose": ("POST", "/cases/{case}/plan-proposals", {}),
    "accept": ("POST", "/cases/{case}/plan-acceptance", {"version": 1, "plan_hash": "0" * 16}),
    "promise": ("POST", "/cases/{case}/promises", {"promised_date": "2026-06-30", "amount": "100.00"}),
    "complain": ("POST", "/cases/{case}/complaints", None),
    "resolve": ("POST", "/cases/{case}/complaints/resolve", None),
    "opt_out": ("POST", "/cases/{case}/opt-outs", {"channel": "sms"}),
    "audit": ("GET", "/cases/{case}/audit", None),
    "litigation": ("GET", "/cases/{case}/litigation-package", None),
    "payment": ("POST", "/loans/L1/payments", {"date": "2026-06-17", "amount": "10.00", "reference": "bank-1"}),
    # the collectors' workbench
    "queue": ("GET", "/cases", None),
    "view": ("GET", "/cases/{case}/view", None),
    "preview": ("GET", "/cases/{case}/plan-preview?waive_penalty=1.00", None),
    "closed": ("GET", "/cases?outcome=LITIGATION", None),
    "queue_other": ("GET", "/cases?assignee=ag2", None),
    "reveal": ("POST", "/cases/{case}/phone-reveal", None),
    "outcome": ("POST", "/cases/{case}/call-outcomes", {"disposition": "no_answer", "at": "2026-06-17T02:00:00+00:00"}),
    "note": ("POST", "/cases/{case}/notes", {"text": "customer asked for a call back"}),
    "approvals": ("GET", "/approvals", None),
    "refuse": (
        "POST",
        "/cases/{case}/waiver-approvals/refuse",
        {"version": 1, "request_hash": "0" * 16, "reason": "not justified"},
    ),
}

# (route, caller, case): refused with 403, whatever the case's state
FORBIDDEN = [
    ("read", AGENT, OTHER),
    ("assign", AGENT, CASE),
    ("assign", LEGAL, CASE),
    ("assign", AUDITOR, CASE),
    *[
        (route, who, case)
        for route in ("propose", "promise", "accept", "complain", "opt_out")
        for who, case in ((AGENT, OTHER), (LEGAL, CASE), (AUDITOR, CASE))
    ],
    ("resolve", AGENT, CASE),
    ("resolve", LEGAL, CASE),
    ("resolve", AUDITOR, CASE),
    ("audit", AGENT, CASE),
    ("audit", SUPERVISOR, CASE),
    ("litigation", AGENT, CASE),
    ("litigation", SUPERVISOR, CASE),
    ("litigation", AUDITOR, CASE),
    ("payment", SUPERVISOR, CASE),
    ("payment", AGENT, CASE),
    # an IAM-signed system has no staff authority: no plans or waivers, assignments, resolutions, reads
    *[(route, SYSTEM, CASE) for route in ("propose", "assign", "resolve", "read", "audit", "litigation")],
    # the workbench: an agent's own queue and cases only; legal and auditors read, never act; no system
    ("queue_other", AGENT, CASE),
    *[
        (route, who, case)
        for route in ("reveal", "outcome", "note")
        for who, case in ((AGENT, OTHER), (LEGAL, CASE), (AUDITOR, CASE), (SYSTEM, CASE))
    ],
    *[(route, who, CASE) for route in ("approvals", "refuse") for who in (AGENT, LEGAL, AUDITOR, SYSTEM)],
    ("queue", SYSTEM, CASE),
    ("view", AGENT, OTHER),
    ("view", SYSTEM, CASE),
    *[
        (route, who, case)
        for route in ("preview",)
        for who, case in ((AGENT, OTHER), (LEGAL, CASE), (AUDITOR, CASE), (SYSTEM, CASE))
    ],
    ("closed", AGENT, CASE),
    ("closed", SYSTEM, CASE),
]


@pytest.fixture(scope="module")
def rt() -> Iterator[MemoryRuntime]:
    settings = Settings(environment="authz", index_shards=2)
    with MemoryRuntime(settings, start=datetime(2026, 6, 16, tzinfo=UTC)) as runtime:
        runtime.load_book([borrower("L1"), borrower("L2")], date(2026, 6, 16))
        runtime.run_day(date(2026, 6, 17))
        status, body = runtime.api("POST", f"/cases/{CASE}/assignment", {"agent": "ag1"}, **SUPERVISOR)
        assert status == 200, body
        yield runtime


def snapshot(rt: MemoryRuntime) -> dict[str, Any]:
    """Everything a call could change: both cases, their audit objects, the outbox and the loans."""
    return {
        "cases": [rt.services.cases.get(c) for c in (CASE, OTHER)],
        "audit": [rt.services.audit_store.read_case(c.split("-")[0], c) for c in (CASE, OTHER)],
        "outbox": sorted(str(m) for m in rt.services.outbox.all()),
        "loans": sorted(str(x) for x in rt.services.loans.all()),
    }


def call(rt: MemoryRuntime, route: str, who: dict[str, Any], case: str = CASE) -> tuple[int, Any]:
    method, path, body = ROUTES[route]
    return rt.api(method, path.format(case=case), body, **who)


@pytest.mark.parametrize(("route", "who", "case"), FORBIDDEN, ids=lambda v: v if isinstance(v, str) else None)
def test_a_forbidden_call_is_403_and_changes_nothing(
    rt: MemoryRuntime, route: str, who: dict[str, Any], case: str
) -> None:
    before = snapshot(rt)
    status, body = call(rt, route, who, case)
    assert status == 403, body
    assert body["message"]
    assert snapshot(rt) == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_an_unauthenticated_call_is_401_and_changes_nothing(rt: MemoryRuntime, route: str) -> None:
    before = snapshot(rt)
    status, body = call(rt, route, NOBODY)
    assert status == 401, body
    assert snapshot(rt) == before


def test_an_agent_reads_the_assigned_case_and_the_other_roles_read_any(rt: MemoryRuntime) -> None:
    for who, case in ((AGENT, CASE), (SUPERVISOR, OTHER), (LEGAL, OTHER), (AUDITOR, OTHER)):
        status, body = call(rt, "read", who, case)
        assert status == 200, (who, body)
        assert body["case_id"] == case
        assert "task_token" not in body


def test_the_auditor_reads_audit_records_and_legal_the_litigation_package(rt: MemoryRuntime) -> None:
    status, records = call(rt, "audit", AUDITOR)
    assert status == 200
    assert [r["record"]["type"] for r in records][:1] == ["case_opened"]
    status, package = call(rt, "litigation", LEGAL)
    assert (status, package) == (200, [])  # the case has not reached legal action yet


def test_waivers_beyond_an_agents_authority_need_a_supervisor(rt: MemoryRuntime) -> None:
    """An agent may waive penalty but no interest; the same request from a supervisor is approved."""
    before = snapshot(rt)
    request = {"waive_interest": "0.01"}
    status, body = rt.api("POST", f"/cases/{CASE}/plan-proposals", request, **AGENT)
    assert status == 409 and "supervisor" in body["message"]
    after = snapshot(rt)
    assert after["cases"][0].plan == before["cases"][0].plan  # no plan stored
    refusal = after["audit"][0][-1]  # the refusal itself is on the record
    assert refusal[0].endswith("-waiver_decision.json") and json.loads(refusal[1])["body"]["approved"] is False

    status, plan = rt.api("POST", f"/cases/{CASE}/plan-proposals", request, **SUPERVISOR)
    assert status == 200, plan
    assert plan["waived_interest"] == "0.01" and plan["proposed_by"] == "sup1"


def test_the_assigned_agent_acts_and_only_a_supervisor_resolves_the_complaint(rt: MemoryRuntime) -> None:
    assert call(rt, "promise", AGENT)[0] == 200
    assert call(rt, "complain", AGENT)[0] == 200
    assert call(rt, "resolve", AGENT)[0] == 403
    assert rt.services.cases.require(CASE).complaint_open is True
    assert call(rt, "resolve", SUPERVISOR)[0] == 200
    assert rt.services.cases.require(CASE).complaint_open is False


def test_an_iam_signed_caller_other_than_the_payment_feed_role_is_403_and_changes_nothing(rt: MemoryRuntime) -> None:
    from dueflow_local.api_events import api_gateway_event

    before = snapshot(rt)
    method, path, body = ROUTES["payment"]
    for arn in (
        "arn:aws:sts::123456789012:assumed-role/some-other-role/session",
        "arn:aws:iam::123456789012:user/dueflow-payment-feed",  # a user of that name is not the role
    ):
        event = api_gateway_event(method, path, body, system=True)
        event["requestContext"]["identity"]["userArn"] = arn
        response = rt.dispatcher.invoke("api", event)
        assert response["statusCode"] == 403, response
        assert "payment-feed" in json.loads(response["body"])["message"]
    assert snapshot(rt) == before
