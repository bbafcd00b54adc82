"""Two-person approval of a waiver above every single authority (双人审批, the cn pack's waiver matrix),
through the API: the first request is held, the second approver must hold the other role and be another
person, both are on the case's record, and a bank system has no part in it."""

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
from tests.e2e.conftest import borrower, named_request

CASE = "L1-2026-01-15"
TODAY = date(2026, 3, 2)
SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}
MANAGER = {"user": "mgr1", "groups": ("collections_manager",)}
OTHER_SUPERVISOR = {"user": "sup2", "groups": ("supervisor",)}
ASK = {"waive_interest": "120000.00"}  # above the collections manager's 100,000 a case


@pytest.fixture
def rt() -> Iterator[MemoryRuntime]:
    """A 10-million loan two installments behind (about 190,000 of overdue interest)."""
    big = borrower("L1", principal="10000000.00", start_date="2025-12-15")
    customer = big.customer.model_copy(update={"monthly_income": "3000000.00"})  # type: ignore[union-attr]
    big = big.model_copy(update={"customer": customer})
    settings = Settings(environment="waivers", index_shards=2)
    with MemoryRuntime(settings, start=datetime(2026, 3, 1, tzinfo=UTC)) as runtime:
        runtime.load_book([big], date(2026, 3, 1))
        runtime.run_day(TODAY)
        loan = runtime.services.loans.get("L1")
        assert loan is not None and assess(loan, TODAY).overdue_interest > Decimal(ASK["waive_interest"])
        yield runtime


def decisions(rt: MemoryRuntime) -> list[dict[str, Any]]:
    objects = rt.services.audit_store.read_case("L1", CASE)
    return [r["body"] for r in (json.loads(d) for _, d in objects) if r["type"] == "waiver_decision"]


def propose(rt: MemoryRuntime, who: dict[str, Any]) -> tuple[int, Any]:
    return rt.api("POST", f"/cases/{CASE}/plan-proposals", ASK, **who)


def approve(rt: MemoryRuntime, **who: Any) -> tuple[int, Any]:
    """An approval of the request as it is on the case now (or of a made-up one when none is)."""
    request = rt.services.cases.require(CASE).waiver_request
    named = named_request(rt, CASE) if request else {"version": 1, "request_hash": "0" * 16}
    return rt.api("POST", f"/cases/{CASE}/waiver-approvals", named, **who)


def test_the_request_is_held_then_the_other_role_approves_and_the_plan_carries_the_waiver(rt: MemoryRuntime) -> None:
    status, held = propose(rt, SUPERVISOR)
    assert status == 200 and held["status"] == "awaiting_second_approval" and held["needs"] == "collections_manager"
    assert rt.services.cases.require(CASE).plan is None  # nothing proposed yet
    status, plan = approve(rt, **MANAGER)
    assert status == 200, plan
    assert plan["waived_interest"] == ASK["waive_interest"] and plan["proposed_by"] == "sup1"
    first, second = decisions(rt)
    assert first["approved"] is False and first["awaiting_second_approval_by"] == "collections_manager"
    assert second["approved"] is True
    assert second["approvers"] == [{"by": "sup1", "role": "supervisor"}, {"by": "mgr1", "role": "collections_manager"}]
    assert rt.services.cases.require(CASE).waiver_request is None
    assert approve(rt, **MANAGER)[0] == 409  # nothing awaits approval any more


def test_the_second_approval_needs_the_other_role_and_another_person(rt: MemoryRuntime) -> None:
    assert propose(rt, SUPERVISOR)[1]["status"] == "awaiting_second_approval"
    status, body = approve(rt, **OTHER_SUPERVISOR)  # the same role again
    assert status == 403 and "collections_manager" in body["message"]
    both = {"user": "sup1", "groups": ("supervisor", "collections_manager")}
    status, body = approve(rt, **both)  # the asker, holding both roles, cannot approve it alone
    assert status == 403 and "another person" in body["message"]
    assert approve(rt, system=True)[0] == 403  # a bank system has no waiver authority
    assert rt.services.cases.require(CASE).plan is None and len(decisions(rt)) == 1


def test_a_collections_manager_asking_needs_a_supervisor(rt: MemoryRuntime) -> None:
    status, held = propose(rt, MANAGER)
    assert status == 200 and held["needs"] == "supervisor"
    assert approve(rt, **SUPERVISOR)[0] == 200


def test_an_agent_or_a_bank_system_cannot_even_ask(rt: MemoryRuntime) -> None:
    rt.api("POST", f"/cases/{CASE}/assignment", {"agent": "ag1"}, **SUPERVISOR)
    status, body = propose(rt, {"user": "ag1", "groups": ("agent",)})
    assert status == 409 and "collections_manager" in body["message"]  # a higher single role could: no hold
    assert propose(rt, {"system": True})[0] == 403
    assert rt.services.cases.require(CASE).waiver_request is None


def test_an_approval_names_the_request_and_a_stale_one_never_replaces_a_newer_plan(rt: MemoryRuntime) -> None:
    """The waiver is held (v1); the supervisor then proposes a plan without it (v2); the manager's
    approval of the old request is refused and the plan on the case stays the one on record."""
    status, held = propose(rt, SUPERVISOR)
    assert status == 200 and held["version"] == 1 and len(held["request_hash"]) == 16
    old = named_request(rt, CASE)
    status, plan = rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": 24}, **SUPERVISOR)
    assert status == 200 and plan["version"] == 2 and Decimal(plan["waived_interest"]) == 0
    assert rt.services.cases.require(CASE).waiver_request is None  # superseded, on the record
    assert decisions(rt)[-1]["reason"] == "superseded by plan v2"
    status, body = rt.api("POST", f"/cases/{CASE}/waiver-approvals", old, **MANAGER)
    assert status == 409, body
    case = rt.services.cases.require(CASE)
    assert case.plan is not None and case.plan.version == 2 and case.plan.waived_interest == 0
    proposed = [r for r in records(rt) if r["type"] == "plan_proposed"]
    assert [p["body"]["version"] for p in proposed] == [2] and proposed[0]["body"] == case.plan.to_item()


def test_a_changed_request_or_one_decided_by_another_approver_is_refused(rt: MemoryRuntime) -> None:
    assert propose(rt, SUPERVISOR)[0] == 200
    seen = named_request(rt, CASE)
    # the request changed after the approver opened it: asked again for more
    more = {"waive_interest": "130000.00"}
    status, again = rt.api("POST", f"/cases/{CASE}/plan-proposals", more, **SUPERVISOR)
    assert status == 200 and again["version"] == seen["version"] + 1
    status, body = rt.api("POST", f"/cases/{CASE}/waiver-approvals", seen, **MANAGER)
    assert status == 409 and "not the one awaiting" in body["message"]
    assert rt.services.cases.require(CASE).plan is None  # nothing granted
    rt.services.cases.update(CASE, remove=("waiver_request",))
    assert propose(rt, OTHER_SUPERVISOR)[0] == 200
    named = named_request(rt, CASE)
    # two deciders on the same request: the first wins, the other is refused and nothing is granted twice
    other_manager = {"user": "mgr2", "groups": ("collections_manager",)}
    refusal = {**named, "reason": "not justified by the file"}
    assert rt.api("POST", f"/cases/{CASE}/waiver-approvals/refuse", refusal, **MANAGER)[0] == 200
    status, body = rt.api("POST", f"/cases/{CASE}/waiver-approvals", named, **other_manager)
    assert status == 409
    assert rt.services.cases.require(CASE).plan is None


def test_an_acceptance_names_the_plan_and_any_other_is_refused(rt: MemoryRuntime) -> None:
    status, first = rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": 24}, **SUPERVISOR)
    assert status == 200
    named = {"version": first["version"], "plan_hash": first["plan_hash"]}
    status, second = rt.api("POST", f"/cases/{CASE}/plan-proposals", {"months": 23}, **OTHER_SUPERVISOR)
    assert status == 200 and second["version"] == first["version"] + 1
    status, body = rt.api("POST", f"/cases/{CASE}/plan-acceptance", named, system=True)
    assert status == 409 and f"v{second['version']}" in body["message"]
    assert not rt.services.cases.require(CASE).plan_accepted
    wrong_hash = {"version": second["version"], "plan_hash": first["plan_hash"]}
    assert rt.api("POST", f"/cases/{CASE}/plan-acceptance", wrong_hash, system=True)[0] == 409
    status, accepted = rt.api(
        "POST",
        f"/cases/{CASE}/plan-acceptance",
        {"version": second["version"], "plan_hash": second["plan_hash"]},
        system=True,
    )
    assert status == 200 and accepted["version"] == second["version"] and len(accepted["installments"]) == 23


def records(rt: MemoryRuntime) -> list[dict[str, Any]]:
    return [json.loads(d) for _, d in rt.services.audit_store.read_case("L1", CASE)]
