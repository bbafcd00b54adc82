"""Waiver authority (减免): who may waive how much penalty and interest.

Limits are fractions of the overdue amount outstanding: an agent may waive up to 100% of penalty and
no interest; a supervisor also up to 30% of overdue interest; a collections manager up to 100% of
interest. No one waives principal. A request beyond the requester's authority is refused whole, and the
refusal names the lowest role that could approve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dueflow.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class Authority:
    """What one role may waive, as fractions (0..1) of the outstanding penalty / overdue interest."""

    role: str
    penalty_share: Decimal
    interest_share: Decimal


DEFAULT_AUTHORITIES: tuple[Authority, ...] = (
    Authority("agent", Decimal("1"), Decimal("0")),
    Authority("supervisor", Decimal("1"), Decimal("0.30")),
    Authority("collections_manager", Decimal("1"), Decimal("1")),
)


@dataclass(frozen=True, slots=True)
class WaiverDecision:
    """Approved amounts (loan currency), or the reason for refusal and who could approve instead."""

    approved: bool
    penalty_waived: Decimal
    interest_waived: Decimal
    reason: str | None = None
    required_role: str | None = None

    @property
    def total(self) -> Decimal:
        return self.penalty_waived + self.interest_waived


def decide_waiver(
    role: str,
    penalty: Decimal,
    interest: Decimal,
    penalty_outstanding: Decimal,
    interest_outstanding: Decimal,
    principal: Decimal = ZERO,
    authorities: tuple[Authority, ...] = DEFAULT_AUTHORITIES,
) -> WaiverDecision:
    """Decide a waiver request of ``penalty`` and ``interest`` (and ``principal``, always refused) made
    by ``role`` against the outstanding penalty and overdue interest of a case."""
    by_role = {a.role: a for a in authorities}
    if role not in by_role:
        return _refused(f"role {role!r} has no waiver authority")
    for name, value in (("penalty", penalty), ("interest", interest), ("principal", principal)):
        if value < 0:
            return _refused(f"the {name} waiver cannot be negative ({value})")
    if principal > 0:
        return _refused("principal cannot be waived by any role")
    if penalty > penalty_outstanding:
        return _refused(f"the penalty waiver {penalty} exceeds the outstanding penalty {penalty_outstanding}")
    if interest > interest_outstanding:
        return _refused(f"the interest waiver {interest} exceeds the overdue interest {interest_outstanding}")

    def allows(authority: Authority) -> bool:
        return (
            penalty <= penalty_outstanding * authority.penalty_share
            and interest <= interest_outstanding * authority.interest_share
        )

    mine = by_role[role]
    if allows(mine):
        return WaiverDecision(True, penalty, interest)
    approver = next((a.role for a in authorities if allows(a)), None)
    limits = (
        f"{role} may waive up to {mine.penalty_share:.0%} of penalty and {mine.interest_share:.0%} of overdue interest"
    )
    if approver is None:
        return _refused(f"beyond every role's authority: {limits}")
    return _refused(f"beyond {role} authority ({limits}); needs approval by {approver}", approver)


def _refused(reason: str, required_role: str | None = None) -> WaiverDecision:
    return WaiverDecision(False, ZERO, ZERO, reason, required_role)
