"""Waiver authority (减免): who may waive how much penalty and interest.

The matrix comes from the loan's jurisdiction rule pack (``dueflow.domain.rules``, the ``cn`` pack by
default): per role, a cap on the amount waived on one case and on the shares of the outstanding penalty
and overdue interest. No one waives principal. A request within the requester's authority is approved;
one within a higher single role's is refused naming that role; one above the top single authority needs
two approvals, one by each of the pack's two-person roles (a supervisor and a collections manager), and
is held until the second arrives. A refusal names who could approve instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dueflow.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class Authority:
    """What one role may waive: fractions (0..1) of the outstanding penalty / overdue interest, and at
    most ``max_amount`` (penalty + interest) on one case."""

    role: str
    penalty_share: Decimal
    interest_share: Decimal
    max_amount: Decimal | None = None


def pack_authorities(pack: str = "cn") -> tuple[tuple[Authority, ...], tuple[str, str]]:
    """The waiver matrix of a rule pack and its two-person roles."""
    from dueflow.domain.rules import load_pack

    rule = load_pack(pack).waivers
    return (
        tuple(Authority(r.role, r.penalty_share, r.interest_share, r.max_amount) for r in rule.roles),
        rule.two_person,
    )


DEFAULT_AUTHORITIES, DEFAULT_TWO_PERSON = pack_authorities("cn")


@dataclass(frozen=True, slots=True)
class WaiverDecision:
    """Approved amounts (loan currency), or the reason for refusal and who could approve instead."""

    approved: bool
    penalty_waived: Decimal
    interest_waived: Decimal
    reason: str | None = None
    required_role: str | None = None
    # above every single authority: held for one approval by each of these roles (the requester's counts)
    two_person: tuple[str, str] | None = None

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
    two_person: tuple[str, str] | None = DEFAULT_TWO_PERSON,
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
            and (authority.max_amount is None or penalty + interest <= authority.max_amount)
        )

    mine = by_role[role]
    if allows(mine):
        return WaiverDecision(True, penalty, interest)
    approver = next((a.role for a in authorities if allows(a)), None)
    cap = f", at most {mine.max_amount} a case" if mine.max_amount is not None else ""
    limits = (
        f"{role} may waive up to {mine.penalty_share:.0%} of penalty and {mine.interest_share:.0%} of overdue "
        f"interest{cap}"
    )
    if approver is not None:
        return _refused(f"beyond {role} authority ({limits}); needs approval by {approver}", approver)
    if two_person is not None:
        return WaiverDecision(
            False,
            ZERO,
            ZERO,
            f"beyond every single authority ({limits}): needs two approvals, by a {two_person[0]} and a "
            f"{two_person[1]}",
            two_person[1] if role == two_person[0] else two_person[0],
            two_person,
        )
    return _refused(f"beyond every role's authority: {limits}")


def _refused(reason: str, required_role: str | None = None) -> WaiverDecision:
    return WaiverDecision(False, ZERO, ZERO, reason, required_role)
