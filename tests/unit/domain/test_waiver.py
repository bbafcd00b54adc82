"""Waiver authority by role."""

from dueflow.domain.waiver import decide_waiver
from tests.conftest import D

PENALTY = D("300.00")
INTEREST = D("1000.00")


def test_agent_may_waive_all_penalty() -> None:
    decision = decide_waiver("agent", PENALTY, D("0"), PENALTY, INTEREST)
    assert decision.approved and decision.penalty_waived == PENALTY and decision.total == PENALTY


def test_agent_may_not_waive_interest_and_the_refusal_names_the_supervisor() -> None:
    decision = decide_waiver("agent", D("0"), D("10.00"), PENALTY, INTEREST)
    assert not decision.approved
    assert decision.required_role == "supervisor"
    assert decision.penalty_waived == 0 and decision.interest_waived == 0
    assert "agent may waive up to 100% of penalty and 0% of overdue interest" in (decision.reason or "")


def test_supervisor_may_waive_up_to_30_percent_of_interest() -> None:
    assert decide_waiver("supervisor", PENALTY, D("300.00"), PENALTY, INTEREST).approved
    over = decide_waiver("supervisor", PENALTY, D("300.01"), PENALTY, INTEREST)
    assert not over.approved and over.required_role == "collections_manager"


def test_no_one_waives_principal() -> None:
    for role in ("agent", "supervisor", "collections_manager"):
        decision = decide_waiver(role, D("0"), D("0"), PENALTY, INTEREST, principal=D("0.01"))
        assert not decision.approved and decision.required_role is None
        assert "principal cannot be waived" in (decision.reason or "")


def test_waiver_beyond_what_is_outstanding_or_negative_is_refused() -> None:
    assert "exceeds the outstanding penalty" in (
        decide_waiver("agent", D("300.01"), D("0"), PENALTY, INTEREST).reason or ""
    )
    assert "cannot be negative" in (decide_waiver("agent", D("-1"), D("0"), PENALTY, INTEREST).reason or "")


def test_unknown_role_has_no_authority() -> None:
    decision = decide_waiver("intern", D("1"), D("0"), PENALTY, INTEREST)
    assert not decision.approved and "no waiver authority" in (decision.reason or "")
