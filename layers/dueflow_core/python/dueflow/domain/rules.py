"""Jurisdiction rule packs: the conduct, calendar and legal rules around the arithmetic, as data.

A pack (``packs/<id>.json``) holds one jurisdiction's rules, each section with the ``source`` it comes
from (an article of a law or regulation, or "this pack's policy" where the bank chooses within the law):
the business-day calendar and whether a due date on a non-working day is payable on the next working
day; the bounds of the penalty-rate multiplier; the contact window, caps and quiet periods; the
limitation period; the credit-report pre-notice; the mandatory lines of messages. ``cn`` (PRC banks) and
``us`` (FDCPA / Regulation F) ship; docs/rules.md explains each rule. A pack is validated when loaded:
a bad one fails with the pack and the field named.

A loan names its pack in ``rules``; a loan without one keeps the contractual dates and the engine's
defaults (the settings name the default pack of a deployment's new loans).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PACKS_DIR = Path(__file__).resolve().parent / "packs"
PACK_IDS = ("cn", "us")


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=10)  # where the rule comes from: every rule cites one


class CalendarRule(_Rule):
    # cn: the PRC calendar; us_federal: weekdays less the legal public holidays (5 U.S.C. 6103);
    # weekdays: Monday to Friday
    kind: Literal["cn", "us_federal", "weekdays"]
    holiday_grace: bool  # a due date on a non-working day is payable on the next working day, penalty-free


class PenaltyRule(_Rule):
    multiplier_min: Decimal = Field(ge=0, le=10)
    multiplier_max: Decimal = Field(ge=0, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> PenaltyRule:
        if self.multiplier_min > self.multiplier_max:
            raise ValueError("multiplier_min must not exceed multiplier_max")
        return self


class ContactRule(_Rule):
    window_start: time
    window_end: time
    max_per_day: int = Field(ge=1, le=20)
    max_per_7_days: int = Field(ge=1, le=50)
    counts: Literal["attempts", "conversations"]  # what an agent's recorded call counts against the caps
    cap_scope: Literal["debt", "customer"]  # calls capped per debt (by dial attempts) or per customer
    quiet_days_after_conversation: int = Field(ge=0, le=30)
    opt_out_scope: Literal["customer", "case"]

    @model_validator(mode="after")
    def _window(self) -> ContactRule:
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        if self.max_per_day > self.max_per_7_days:
            raise ValueError("max_per_day cannot exceed max_per_7_days")
        return self


class GuarantorRule(_Rule):
    """Whether a guarantor may be asked to pay, and when: only guarantors of the listed liabilities, from
    ``contact_after_dpd`` days past due; anyone else but the borrower is a third party, never contacted."""

    liabilities: tuple[Literal["joint_several", "general"], ...]
    contact_after_dpd: int = Field(ge=0, le=3650)


class LimitationRule(_Rule):
    """The limitation period (诉讼时效) of the bank's claim: how long, from when, what interrupts it (starts
    it again), and how long before its end a case is flagged and escalated to legal."""

    years: int = Field(ge=1, le=30)
    # from the due date of the last installment (an installment debt is one debt, 民法典 第一百八十九条) or
    # of the oldest unpaid one (each installment its own claim); an acceleration notice makes all due then
    runs_from: Literal["last_installment", "oldest_unpaid_installment"]
    interrupted_by: tuple[Literal["demand", "acknowledgement"], ...]
    warn_days: int = Field(ge=1, le=3650)


class PrenoticeRule(_Rule):
    days: int = Field(ge=0, le=90)


class MessageRule(_Rule):
    validation_notice_days: int | None = Field(default=None, ge=1, le=30)
    # 12 CFR 1006.34(b)(5): the consumer may be assumed to receive the validation notice this many
    # business days (the pack's calendar) after it is sent; the dispute window ends 30 days after that
    assumed_receipt_business_days: int = Field(default=0, ge=0, le=30)
    mandatory_lines: tuple[Literal["bank_signature", "complaint_route", "opt_out_notice", "validation_notice"], ...]


class RoleAuthority(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["agent", "supervisor", "collections_manager"]
    max_amount: Decimal = Field(ge=0)  # penalty + interest waived on one case, in the pack's currency
    penalty_share: Decimal = Field(ge=0, le=1)  # of the outstanding penalty
    interest_share: Decimal = Field(ge=0, le=1)  # of the overdue interest


class WaiverRule(_Rule):
    roles: tuple[RoleAuthority, ...] = Field(min_length=1)  # from the lowest authority to the highest
    two_person: tuple[str, str]  # above the top single authority: one approval by each of these roles
    reinstate_on_broken_plan: bool  # a waiver granted for a plan is owed again when the plan breaks

    @model_validator(mode="after")
    def _ordered(self) -> WaiverRule:
        amounts = [r.max_amount for r in self.roles]
        if amounts != sorted(amounts):
            raise ValueError("roles must go from the lowest max_amount to the highest")
        known = {r.role for r in self.roles}
        if not set(self.two_person) <= known or self.two_person[0] == self.two_person[1]:
            raise ValueError("two_person must name two different roles of the matrix")
        return self


class LegalRule(_Rule):
    """What suing costs and yields: the court-fee schedule, and the bank's recovery experience."""

    fee_schedule: Literal["cn_2007", "flat"]  # 诉讼费用交纳办法 (2007) bands, or one filing fee
    flat_filing_fee: Decimal = Field(ge=0)
    haircuts: dict[str, Decimal]  # by collateral type: the share of its value lost in a forced sale
    enforcement_cost_rate: Decimal = Field(ge=0, le=1)  # of the value realised
    months_to_recovery: dict[Literal["secured", "unsecured"], int]
    discount_rate: Decimal = Field(ge=0, le=1)  # a year, for the time to recovery
    lawyer_fee: Decimal = Field(ge=0)
    min_net_recovery: Decimal = Field(ge=0)
    simple_procedure_max_claim: Decimal = Field(ge=0)  # claims up to this go by the simple procedure
    fees_source: str = Field(min_length=10)

    @model_validator(mode="after")
    def _shares(self) -> LegalRule:
        if "unsecured" not in self.haircuts:
            raise ValueError("haircuts must have an 'unsecured' rate (for known assets of unsecured debtors)")
        if any(not Decimal(0) <= h <= Decimal(1) for h in self.haircuts.values()):
            raise ValueError("every haircut is a share between 0 and 1")
        return self


class RulePack(BaseModel):
    """One jurisdiction's rules (see the module docstring and docs/rules.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    calendar: CalendarRule
    penalty: PenaltyRule
    contact: ContactRule
    guarantors: GuarantorRule
    limitation: LimitationRule
    credit_report_prenotice_days: PrenoticeRule
    messages: MessageRule
    waivers: WaiverRule
    legal: LegalRule

    def payable_on(self, due: date) -> date:
        """The day a repayment due on ``due`` may be made without penalty: ``due`` itself, or the next
        working day when the pack grants holiday grace and ``due`` is not a working day."""
        if not self.calendar.holiday_grace:
            return due
        return _next_working_day(due, self.calendar.kind)


# The default jurisdiction table (docs/rules.md, "Which pack a loan is under"): the pack of a loan that
# names none, from its currency and its customer's country (None: any country, or the country not given).
DEFAULT_JURISDICTIONS: tuple[tuple[str, str | None, str], ...] = (
    ("CNY", None, "cn"),  # a renminbi loan: PRC law (a PRC bank's customer abroad still borrows under it)
    ("USD", "US", "us"),  # a dollar loan to a customer in the United States: FDCPA / Regulation F
)


class NoRulePack(ValueError):
    """A loan maps to no rule pack while the deployment requires one."""


@dataclass(frozen=True, slots=True)
class PackSelection:
    """Which rule pack a loan that names none is under: ``fixed`` for every such loan when given, else the
    first row of ``table`` ((currency, customer country or None for any, pack)) that matches the loan's
    currency and its customer's country; ``required``: a loan that maps to no pack is refused."""

    fixed: str | None = None
    table: tuple[tuple[str, str | None, str], ...] = DEFAULT_JURISDICTIONS
    required: bool = False

    def pack_for(self, currency: str, country: str | None) -> str | None:
        if self.fixed is not None:
            return self.fixed
        for row_currency, row_country, pack in self.table:
            if row_currency == currency and (row_country is None or row_country == country):
                return pack
        return None

    def refusal(self, currency: str, country: str | None) -> str:
        where = f"a customer in {country}" if country else "a customer with no country"
        return (
            f"no rule pack for a {currency} loan to {where}, and this deployment requires one: name it in "
            "rules (cn, us), or add the jurisdiction to Settings.jurisdiction_packs"
        )


NO_SELECTION = PackSelection(table=())  # contractual dates and the engine's defaults (before packs existed)


class RulePackError(ValueError):
    """A rule pack that cannot be used: names the pack and the field."""


def parse_pack(name: str, text: str) -> RulePack:
    """Validate a pack's JSON; errors name the pack and each field."""
    try:
        pack = RulePack.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise RulePackError(f"rule pack {name}: bad JSON: {exc.msg} (line {exc.lineno})") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc']) or '-'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise RulePackError(f"rule pack {name}: {problems}") from None
    if pack.id != name:
        raise RulePackError(f"rule pack {name}: field id: {pack.id!r} is not the pack's name")
    return pack


@cache
def load_pack(name: str) -> RulePack:
    """The shipped pack ``name`` (cn, us), validated once."""
    if name not in PACK_IDS:
        raise RulePackError(f"no rule pack {name!r}: one of {', '.join(PACK_IDS)}")
    return parse_pack(name, (PACKS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def is_working_day(day: date, kind: str) -> bool:
    """A working day of the calendar ``kind``. ``cn``: the PRC calendar with its statutory holidays and
    make-up working days (a Saturday can be one), from the chinesecalendar package, which covers
    2004-2026; outside those years the weekday rule stands in (docs/rules.md). ``weekdays``: Monday to
    Friday."""
    if kind == "cn":
        working = _cn_working(day)
        if working is not None:
            return working
        _warn_uncovered(kind, day.year)  # a year the package has no State Council notice for yet
    if kind == "us_federal":
        return day.weekday() < 5 and day not in _us_legal_holidays(day.year)
    return day.weekday() < 5


def business_days_after(day: date, count: int, kind: str) -> date:
    """The ``count``-th working day of the calendar ``kind`` after ``day`` (Regulation F's "five days
    (excluding legal public holidays, Saturdays, and Sundays)": ``business_days_after(sent, 5,
    "us_federal")``)."""
    while count > 0:
        day += timedelta(days=1)
        count -= int(is_working_day(day, kind))
    return day


@lru_cache(maxsize=64)
def _us_legal_holidays(year: int) -> frozenset[date]:
    """The legal public holidays of 5 U.S.C. 6103(a) in ``year``, with the days they are observed on when
    they fall on a weekend (6103(b)), from the maintained ``holidays`` package (rule-based: every year)."""
    import holidays

    return frozenset(holidays.country_holidays("US", years=year, categories=("public",)))


@lru_cache(maxsize=16384)
def _next_working_day(day: date, kind: str) -> date:
    """``day`` or the first working day after it (kept: every position asks for each due date)."""
    while not is_working_day(day, kind):
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=8192)
def _cn_working(day: date) -> bool | None:
    """chinesecalendar's answer for ``day`` (None: a year it has no data for), kept: the package checks
    each date against the whole table's range (a min and max over every holiday) on every call."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class CalendarNotCovered(UserWarning):
    """A working-day calendar has no data for a year: the weekday rule stands in (holidays and make-up
    working days of that year are not known), which a bank must not rely on silently."""


def calendar_years(kind: str) -> tuple[int, int] | None:
    """The first and last year the calendar ``kind`` has holiday data for (None: weekdays, no data)."""
    if kind != "cn":
        return None
    import chinese_calendar

    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


@cache
def _warn_uncovered(kind: str, year: int) -> None:
    """Once per year and calendar, a ``CalendarNotCovered`` warning naming what to do."""
    import warnings

    warnings.warn(
        CalendarNotCovered(
            f"the {kind} calendar has no holidays for {year}: weekdays stand in; pin a chinesecalendar with "
            f"{year}'s State Council schedule (dueflow doctor lists the years covered)"
        ),
        stacklevel=3,
    )
