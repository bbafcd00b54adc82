"""The waiver authority matrix of the cn rule pack (this pack's policy: the bank's delegated waiver
authority, 减免授权, with two-person approval, 双人审批, above the top single authority), role by band."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dueflow.domain.waiver import decide_waiver, pack_authorities

AUTHORITIES, PAIR = pack_authorities("cn")
D = Decimal
# a large case: 200,000 of penalty and 50,000 of overdue interest outstanding
PENALTY, INTEREST = D("200000.00"), D("50000.00")

# (role, penalty asked, interest asked) -> approved, or who must approve instead ("two" = two people)
BANDS = [
    ("agent", "2000.00", "0", True),  # at the agent's amount cap
    ("agent", "2000.01", "0", "supervisor"),  # over it: the supervisor's band
    ("agent", "0", "0.01", "supervisor"),  # agents waive no interest
    ("supervisor", "20000.00", "0", True),
    ("supervisor", "5000.00", "15000.00", True),  # 30% of interest, within 20,000 in all
    ("supervisor", "0", "15000.01", "collections_manager"),  # over 30% of interest
    ("supervisor", "20000.01", "0", "collections_manager"),
    ("collections_manager", "100000.00", "0", True),
    ("collections_manager", "50000.00", "50000.00", True),  # all the interest
    ("collections_manager", "100000.01", "0", "two"),  # above the top single authority
    ("supervisor", "100000.01", "0", "two"),
    ("agent", "100000.00", "0", "collections_manager"),  # the 100,000 an agent once had approved
]


@pytest.mark.parametrize(("role", "penalty", "interest", "expected"), BANDS)
def test_each_role_and_band(role: str, penalty: str, interest: str, expected: object) -> None:
    decision = decide_waiver(role, D(penalty), D(interest), PENALTY, INTEREST, authorities=AUTHORITIES, two_person=PAIR)
    if expected is True:
        assert decision.approved and decision.total == D(penalty) + D(interest)
        return
    assert not decision.approved and decision.total == 0
    if expected == "two":
        assert decision.two_person == ("supervisor", "collections_manager")
        assert "needs two approvals" in (decision.reason or "")
    else:
        assert decision.required_role == expected and decision.two_person is None


def test_no_role_waives_principal_or_more_than_is_owed() -> None:
    for role in ("agent", "supervisor", "collections_manager"):
        assert not decide_waiver(role, D(0), D(0), PENALTY, INTEREST, principal=D("0.01")).approved
        over = decide_waiver(role, PENALTY + D("0.01"), D(0), PENALTY, INTEREST, authorities=AUTHORITIES)
        assert not over.approved and over.two_person is None
    assert not decide_waiver("legal", D("1.00"), D(0), PENALTY, INTEREST).approved  # no authority at all
