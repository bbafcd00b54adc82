"""Legal escalation (法律行动评估): the court fee schedule (诉讼费用交纳办法 Art. 13, property cases,
progressive), the preservation fee (Art. 14), the litigation review a lawyer would sign
(``review_litigation``: what the collateral or known assets can really yield, all fees, time to
recovery; docs/formulas.md §8) and the limitation period (``limitation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any

from dueflow.domain.money import ZERO, round_half_up

if TYPE_CHECKING:
    from dueflow.domain.rules import LimitationRule

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


# -- the legal review a lawyer would sign (the loan's rule pack: docs/rules.md, docs/formulas.md §8) ------
PRESERVATION_FLAT = Decimal("30")
PRESERVATION_CAP = Decimal("5000")


def preservation_fee(amount: Decimal) -> Decimal:
    """诉讼费用交纳办法 第十四条: an asset-preservation application on ``amount`` yuan: 30 up to 1,000, 1% of
    the part from 1,000 to 100,000, 0.5% above; at most 5,000."""
    fee = PRESERVATION_FLAT
    if amount > Decimal("1000"):
        fee += (min(amount, Decimal("100000")) - Decimal("1000")) * Decimal("0.01")
    if amount > Decimal("100000"):
        fee += (amount - Decimal("100000")) * Decimal("0.005")
    return round_half_up(min(fee, PRESERVATION_CAP))


@dataclass(frozen=True, slots=True)
class LegalFacts:
    """What the review weighs, as of its day (amounts in the loan's currency)."""

    overdue_principal: Decimal
    overdue_interest: Decimal
    penalty: Decimal
    principal_not_due: Decimal  # claimable only after a recorded acceleration notice (加速到期)
    accelerated: bool
    collateral_type: str | None
    collateral_value: Decimal
    known_assets: Decimal  # of an unsecured debtor, known to the bank


@dataclass(frozen=True, slots=True)
class LegalReview:
    claim: Decimal
    secured: bool
    assets: Decimal
    haircut: Decimal
    enforcement_cost: Decimal
    recoverable: Decimal
    expected_gross: Decimal
    acceptance_fee: Decimal
    simple_procedure: bool
    preservation_requested: bool
    preservation_fee: Decimal
    fees_recovered: Decimal
    months_to_recovery: int
    present_value: Decimal
    lawyer_fee: Decimal
    litigation_cost: Decimal
    expected_net: Decimal
    min_net_recovery: Decimal
    recommendation: str


def review_litigation(facts: LegalFacts, rule: Any) -> LegalReview:
    """Suing, weighed as a bank's lawyer would (``rule``: the pack's ``legal`` section): the claim (the
    principal not yet due only after an acceleration notice); what can be recovered (the collateral's, or
    an unsecured debtor's known assets', value after the forced-sale haircut and enforcement costs, never
    more than the claim); the fees (acceptance, halved in the simple procedure; preservation where there
    are unsecured assets to preserve), recovered from the loser out of what is left; discounted for the
    time to recovery; less the fees and the lawyer."""
    claim = facts.overdue_principal + facts.overdue_interest + facts.penalty
    if facts.accelerated:
        claim += facts.principal_not_due
    secured = facts.collateral_value > 0 and (facts.collateral_type or "unsecured") != "unsecured"
    assets = facts.collateral_value if secured else facts.known_assets
    kind = (facts.collateral_type or "unsecured") if secured else "unsecured"
    haircut = rule.haircuts.get(kind, rule.haircuts["unsecured"])
    realisable = assets * (1 - haircut)
    enforcement = round_half_up(realisable * rule.enforcement_cost_rate)
    recoverable = max(round_half_up(realisable) - enforcement, ZERO)
    gross = min(claim, recoverable)
    simple = rule.fee_schedule == "cn_2007" and claim <= rule.simple_procedure_max_claim
    if rule.fee_schedule == "cn_2007":
        acceptance = court_fee(claim)
        if simple:  # 第十六条: 适用简易程序审理的案件减半交纳案件受理费
            acceptance = round_half_up(acceptance / 2)
    else:
        acceptance = round_half_up(rule.flat_filing_fee)
    preserve = not secured and facts.known_assets > 0
    preservation = (
        preservation_fee(min(claim, facts.known_assets)) if preserve and rule.fee_schedule == "cn_2007" else ZERO
    )
    fees = acceptance + preservation
    recovered_fees = min(fees, max(recoverable - gross, ZERO))  # 第二十九条: 诉讼费用由败诉方负担
    months = rule.months_to_recovery["secured" if secured else "unsecured"]
    with localcontext() as ctx:
        ctx.prec = 28
        factor = ((1 + rule.discount_rate).ln() * Decimal(months) / Decimal(12)).exp()
        present = round_half_up((gross + recovered_fees) / factor)
    lawyer = round_half_up(rule.lawyer_fee)
    cost = fees + lawyer
    net = present - cost
    worth_it = net > ZERO and net >= rule.min_net_recovery
    return LegalReview(
        claim=claim,
        secured=secured,
        assets=assets,
        haircut=haircut,
        enforcement_cost=enforcement,
        recoverable=recoverable,
        expected_gross=gross,
        acceptance_fee=acceptance,
        simple_procedure=simple,
        preservation_requested=preserve,
        preservation_fee=preservation,
        fees_recovered=recovered_fees,
        months_to_recovery=months,
        present_value=present,
        lawyer_fee=lawyer,
        litigation_cost=cost,
        expected_net=net,
        min_net_recovery=rule.min_net_recovery,
        recommendation=LITIGATE if worth_it else WRITE_OFF_REVIEW,
    )


@dataclass(frozen=True, slots=True)
class Limitation:
    """The limitation period (诉讼时效) of the claim as of a day: it runs from ``started_on`` and starts
    again at each interruption the pack counts (cn, 民法典 第一百九十五条: a demand, an acknowledgement
    such as a payment or a promise to pay); ``nearing`` within the pack's warning days of its end,
    ``expired`` after it (the debtor may then plead it: a court will not enforce the claim)."""

    started_on: date
    last_interruption: date
    expires_on: date
    days_left: int
    nearing: bool

    @property
    def expired(self) -> bool:
        return self.days_left < 0


def limitation_start(
    rule: LimitationRule, due_dates: list[date], oldest_unpaid: date, accelerated_on: date | None
) -> date:
    """When the period starts: the last installment's due date (cn, 民法典 第一百八十九条) or the oldest
    unpaid one's, brought forward to the acceleration notice that made everything due."""
    start = max(due_dates) if rule.runs_from == "last_installment" and due_dates else oldest_unpaid
    return min(start, accelerated_on) if accelerated_on is not None else start


def limitation(
    started_on: date,
    interruptions: list[date],
    years: int,
    as_of: date,
    warn_days: int = 180,
) -> Limitation:
    """民法典 第一百八十八条 (three years in the cn pack), 第一百九十五条 (interruptions: the dates of those the
    pack counts; an interruption before the start does not matter, one after ``as_of`` is not yet)."""
    last = max([started_on, *(d for d in interruptions if d <= as_of)])
    try:
        expires = last.replace(year=last.year + years)
    except ValueError:  # 29 February
        expires = last.replace(year=last.year + years, day=28)
    left = (expires - as_of).days
    return Limitation(started_on, last, expires, left, left <= warn_days)
