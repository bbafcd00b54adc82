"""Legal escalation cost-benefit (法律行动评估).

expected recovery = claim x recovery rate (by collateral type) - litigation cost, where litigation cost
= court fee (PRC 诉讼费用交纳办法 Art. 13, property cases, progressive) + lawyer fee. Recommend
``litigate`` when the expected net recovery is positive and at least ``min_net_recovery``, else
``write_off_review``. Amounts in CNY (the fee schedule is in yuan).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from dueflow.domain.money import ZERO, round_half_up

# (upper bound of the band, rate applied to the part of the claim inside the band); the first band
# (up to 10,000) is the flat 50 yuan.
COURT_FEE_FLAT = Decimal("50")
COURT_FEE_BANDS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("100000"), Decimal("0.025")),
    (Decimal("200000"), Decimal("0.02")),
    (Decimal("500000"), Decimal("0.015")),
    (Decimal("1000000"), Decimal("0.01")),
    (Decimal("2000000"), Decimal("0.009")),
    (Decimal("5000000"), Decimal("0.008")),
    (Decimal("10000000"), Decimal("0.007")),
    (Decimal("20000000"), Decimal("0.006")),
    (None, Decimal("0.005")),
)
_FLAT_LIMIT = Decimal("10000")

DEFAULT_RECOVERY_RATES: dict[str, Decimal] = {
    "real_estate": Decimal("0.70"),
    "deposit": Decimal("0.90"),
    "vehicle": Decimal("0.50"),
    "equipment": Decimal("0.40"),
    "guarantee": Decimal("0.35"),
    "unsecured": Decimal("0.15"),
}

LITIGATE = "litigate"
WRITE_OFF_REVIEW = "write_off_review"


def court_fee(claim: Decimal) -> Decimal:
    """Acceptance fee for a property case on ``claim`` yuan, computed band by band, rounded to 0.01."""
    if claim < 0:
        raise ValueError(f"claim cannot be negative: {claim}")
    fee = COURT_FEE_FLAT
    lower = _FLAT_LIMIT
    for upper, rate in COURT_FEE_BANDS:
        if claim <= lower:
            break
        top = claim if upper is None or claim < upper else upper
        fee += (top - lower) * rate
        if upper is None:
            break
        lower = upper
    return round_half_up(fee)


@dataclass(frozen=True, slots=True)
class LegalPolicy:
    """Recovery rates by collateral type (fractions), the lawyer fee (fixed yuan + fraction of the
    claim) and the minimum expected net recovery worth suing for."""

    recovery_rates: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_RECOVERY_RATES))
    default_collateral: str = "unsecured"
    lawyer_fee_fixed: Decimal = Decimal("3000")
    lawyer_fee_rate: Decimal = Decimal("0")
    min_net_recovery: Decimal = Decimal("5000")


DEFAULT_LEGAL_POLICY = LegalPolicy()


@dataclass(frozen=True, slots=True)
class LegalAssessment:
    """The numbers behind a recommendation (all in yuan, 2 places)."""

    claim: Decimal
    collateral_type: str
    recovery_rate: Decimal
    expected_gross: Decimal
    court_fee: Decimal
    lawyer_fee: Decimal
    litigation_cost: Decimal
    expected_net: Decimal
    min_net_recovery: Decimal
    recommendation: str


def assess_litigation(
    claim: Decimal, collateral_type: str | None, policy: LegalPolicy = DEFAULT_LEGAL_POLICY
) -> LegalAssessment:
    """Cost-benefit of suing for ``claim`` (outstanding principal + overdue interest + penalty)."""
    if claim < 0:
        raise ValueError(f"claim cannot be negative: {claim}")
    kind = collateral_type if collateral_type in policy.recovery_rates else policy.default_collateral
    rate = policy.recovery_rates[kind]
    gross = round_half_up(claim * rate)
    fee = court_fee(claim)
    lawyer = round_half_up(policy.lawyer_fee_fixed + claim * policy.lawyer_fee_rate)
    cost = fee + lawyer
    net = gross - cost
    worth_it = net > ZERO and net >= policy.min_net_recovery
    return LegalAssessment(
        claim=claim,
        collateral_type=kind,
        recovery_rate=rate,
        expected_gross=gross,
        court_fee=fee,
        lawyer_fee=lawyer,
        litigation_cost=cost,
        expected_net=net,
        min_net_recovery=policy.min_net_recovery,
        recommendation=LITIGATE if worth_it else WRITE_OFF_REVIEW,
    )
