"""The loan record: one line of the loan book (JSON Lines), validated.

Amounts are decimal strings (``"1000.00"``) parsed to ``Decimal`` in the loan's currency, at most two
decimal places. Rates are fractions (``"0.12"`` is 12% a year). Dates are ISO local dates.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from dueflow.domain.currencies import ISO_4217, places
from dueflow.domain.strict import iso_date, plain_decimal

MAX_AMOUNT = Decimal("1000000000000")  # 10^12 in the loan's currency: anything larger is a data error
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2100, 12, 31)

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._: -]{0,62}[A-Za-z0-9._:-])?$")  # inner spaces: "HK 2026 001"


def _decimal(value: Any) -> Decimal:
    """A plain decimal string (or a JSON integer): dueflow.domain.strict."""
    return plain_decimal(value)


def _money(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("has more than 2 decimal places")
    if value < 0:
        raise ValueError("must not be negative")
    if value > MAX_AMOUNT:
        raise ValueError(f"is larger than {MAX_AMOUNT}")
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _date_in_range(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


def _identifier(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            "must be 1-64 characters of letters, digits, spaces and . _ : - (starting alphanumeric, "
            "not ending with a space)"
        )
    return value


@lru_cache(maxsize=1024)
def known_time_zone(key: str) -> bool:
    """Is ``key`` an IANA time zone this Python knows (without touching the file system for nonsense)?"""
    if not 0 < len(key) <= 64:  # the longest IANA name is 32 characters; a long one is not a file to look up
        return False
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _timezone(value: str) -> str:
    if not known_time_zone(value):
        raise ValueError(f"unknown IANA time zone {value[:40]!r}")
    return value


def _currency(value: str) -> str:
    if value not in ISO_4217:
        raise ValueError(f"unknown ISO 4217 currency {value[:10]!r}")
    return value


def _phone(value: str) -> str:
    if not _E164.match(value):
        raise ValueError("must be an E.164 number such as +8613800138000")
    return value


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("is not a valid email address")
    return value


DecimalStr = Annotated[Decimal, BeforeValidator(_decimal)]
Money = Annotated[Decimal, BeforeValidator(_decimal), AfterValidator(_money)]
PositiveMoney = Annotated[Money, AfterValidator(_positive)]
LocalDate = Annotated[date, BeforeValidator(iso_date), AfterValidator(_date_in_range)]
Identifier = Annotated[str, AfterValidator(_identifier)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Customer(_Record):
    """Contact details and means of the borrower. PII: never logged, encrypted at rest in AWS."""

    name: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")  # no control characters
    phone: Annotated[str, AfterValidator(_phone)] | None = None
    email: Annotated[str, AfterValidator(_email)] | None = None
    timezone: Annotated[str, AfterValidator(_timezone)] = "Asia/Shanghai"
    language: Literal["zh-CN", "en"] = "zh-CN"
    # where the customer lives: ISO 3166-1 alpha-2 country (CN, US) and the ISO 3166-2 subdivision code
    # within it (NY, 44): the rule pack and a state's own rules follow them, never the time zone
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    region: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,3}$")
    monthly_income: Money | None = None
    monthly_expenses: Money | None = None


class Guarantor(_Record):
    """Who guarantees the loan (保证人): liable with the borrower (``joint_several``, 连带责任保证) or only
    after the borrower's assets are exhausted (``general``, 一般保证). Name, phone and e-mail are PII,
    sealed at rest like the borrower's; a rule pack says whether and when the guarantor may be asked to
    pay (docs/rules.md)."""

    liability: Literal["joint_several", "general"] = "joint_several"
    name: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    phone: Annotated[str, AfterValidator(_phone)] | None = None
    email: Annotated[str, AfterValidator(_email)] | None = None
    language: Literal["zh-CN", "en"] = "zh-CN"


GUARANTOR_PII = ("name", "phone", "email")


class EmergencyContact(_Record):
    """Someone the borrower named for the bank to reach in an emergency (紧急联系人): a third party, never
    contacted about the debt (银保监规〔2022〕13号: 不得向债务人以外的第三人催收; 15 U.S.C. 1692c(b)). Name,
    phone and e-mail are PII, sealed at rest like the borrower's; the invariants prove no message reaches
    them."""

    name: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    phone: Annotated[str, AfterValidator(_phone)] | None = None
    email: Annotated[str, AfterValidator(_email)] | None = None
    relationship: str | None = Field(default=None, max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$")


EMERGENCY_PII = ("name", "phone", "email")


class Collateral(_Record):
    """What secures the loan; ``type`` selects the recovery rate in the legal cost-benefit rule."""

    type: str = Field(min_length=1, max_length=40)
    value: Money


class ScheduledInstallment(_Record):
    """One line of an explicit repayment schedule. Amounts in the loan's currency."""

    seq: int = Field(ge=1, le=480, strict=True)
    due_date: LocalDate
    principal: Money
    interest: Money


PaymentReference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$")]


class Payment(_Record):
    """A repayment received on ``date`` (local date), amount in the loan's currency; ``reference`` is the
    bank's own id of the payment, when it gives one (a payment posted twice with it counts once)."""

    date: LocalDate
    amount: PositiveMoney
    reference: PaymentReference | None = None


EntryReference = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:/ -]+$")]
Approver = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Waiver(_Record):
    """A waiver booked on the loan's ledger on ``date``: ``penalty`` off the overdue installments'
    penalty and ``interest`` off their interest (oldest first), approved by ``approved_by``. What the
    ledger cannot take (paid meanwhile) is not waived: the position reports what was.

    A conditional waiver (``conditional_on``: the reference of the restructuring it was granted for) is
    reinstated when that plan breaks: what it took off is owed again from the day the plan broke (the
    rule pack's ``waivers.reinstate_on_broken_plan`` decides whether a plan's waiver is conditional)."""

    kind: Literal["waiver"] = "waiver"
    date: LocalDate
    penalty: Money = Decimal(0)
    interest: Money = Decimal(0)
    approved_by: Approver
    reference: EntryReference
    conditional_on: EntryReference | None = None


class PlanLine(_Record):
    """One installment of a restructuring: ``amount`` of the covered arrears falls due on ``due_date``."""

    due_date: LocalDate
    amount: PositiveMoney


class Restructuring(_Record):
    """A repayment plan booked on the loan (重组): from ``date`` on, the arrears then outstanding
    (principal, interest and penalty of every installment due before ``date``) fall due by the plan's
    ``installments`` instead of their own due dates, and accrue no penalty while the plan is kept;
    installments falling due during the plan are paid alongside it. The plan breaks when any of these
    (a plan installment or a regular one) is unpaid ``grace_days`` after its due date: the original due
    dates and penalty accrual (from the day it breaks) are reinstated. See docs/formulas.md."""

    kind: Literal["restructuring"] = "restructuring"
    date: LocalDate
    installments: tuple[PlanLine, ...] = Field(min_length=1, max_length=60)
    grace_days: int = Field(default=3, ge=0, le=60, strict=True)
    approved_by: Approver
    reference: EntryReference

    @model_validator(mode="after")
    def _increasing(self) -> Restructuring:
        previous = self.date
        for index, line in enumerate(self.installments):
            if line.due_date <= previous:
                raise _field_error(
                    f"installments.{index}.due_date", "plan due dates must be after the plan date and increasing"
                )
            previous = line.due_date
        return self


LedgerEntry = Annotated[Waiver | Restructuring, Field(discriminator="kind")]


class Loan(_Record):
    """One loan of the book. See docs/formulas.md for how the schedule and the position follow.
    ``adjustments`` are what DueFlow books on the loan's ledger (waivers, restructurings), in date order."""

    loan_id: Identifier
    customer_id: Identifier
    principal: PositiveMoney
    annual_rate: DecimalStr
    term_months: int = Field(ge=1, le=480, strict=True)
    start_date: LocalDate
    currency: Annotated[str, AfterValidator(_currency)] = "CNY"
    product: str | None = Field(default=None, max_length=60)
    repayment_method: Literal["equal_installment", "equal_principal"] = "equal_installment"
    penalty_rate_multiplier: DecimalStr = Decimal("1.5")
    installments: tuple[ScheduledInstallment, ...] | None = None
    payments: tuple[Payment, ...] = ()  # always in date order
    adjustments: tuple[LedgerEntry, ...] = ()  # always in date order
    customer: Customer | None = None
    guarantor: Guarantor | None = None
    emergency_contact: EmergencyContact | None = None  # a third party: never contacted
    collateral: Collateral | None = None
    # assets of the borrower known to the bank (an asset search), beyond any collateral: what a
    # preservation order could hold for an unsecured claim
    known_assets: Money | None = None
    # the jurisdiction rule pack (cn, us: dueflow.domain.rules); none keeps contractual dates
    rules: Literal["cn", "us"] | None = None

    @field_validator("payments")
    @classmethod
    def _in_date_order(cls, payments: tuple[Payment, ...]) -> tuple[Payment, ...]:
        """Keep payments in date order (stable: same-day payments keep their order)."""
        if any(a.date > b.date for a, b in pairwise(payments)):
            return tuple(sorted(payments, key=lambda p: p.date))
        return payments

    @field_validator("adjustments")
    @classmethod
    def _entries_in_date_order(cls, entries: tuple[Any, ...]) -> tuple[Any, ...]:
        if any(a.date > b.date for a, b in pairwise(entries)):
            return tuple(sorted(entries, key=lambda e: e.date))
        return entries

    # range checks on single fields are field validators: reported together with every other field's
    # error of the line (a model validator runs only when every field passed)
    @field_validator("annual_rate")
    @classmethod
    def _rate(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value < Decimal(1):
            raise _field_error("annual_rate", "must be at least 0 and below 1 (a fraction: 0.12 is 12%)")
        return value

    @field_validator("penalty_rate_multiplier")
    @classmethod
    def _multiplier(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value <= Decimal(10):
            raise _field_error("penalty_rate_multiplier", "must be between 0 and 10")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Loan:
        if self.rules is not None:
            from dueflow.domain.rules import load_pack

            bounds = load_pack(self.rules).penalty
            if not bounds.multiplier_min <= self.penalty_rate_multiplier <= bounds.multiplier_max:
                raise _field_error(
                    "penalty_rate_multiplier",
                    f"the {self.rules} rule pack allows {bounds.multiplier_min} to {bounds.multiplier_max} "
                    f"({bounds.source[:60]}...)",
                )
        for index, payment in enumerate(self.payments):
            if payment.date < self.start_date:
                raise _field_error(
                    f"payments.{index}.date", f"payment dated {payment.date} is before start_date {self.start_date}"
                )
        if places(self.currency) == 0:
            for field, amount in _amounts(self):
                if amount != amount.to_integral_value():
                    raise _field_error(field, f"{self.currency} has no minor unit: {amount} must be a whole amount")
        references = set()
        for index, entry in enumerate(self.adjustments):
            if entry.date < self.start_date:
                raise _field_error(
                    f"adjustments.{index}.date", f"entry dated {entry.date} is before start_date {self.start_date}"
                )
            if entry.reference in references:
                raise _field_error(f"adjustments.{index}.reference", f"{entry.reference!r} is booked twice")
            references.add(entry.reference)
        if self.installments is not None:
            _check_explicit_schedule(self)
        else:
            from dueflow.domain.schedule import schedule_problem

            problem = schedule_problem(self)
            if problem:
                raise _field_error("term_months", problem)
        return self


def _amounts(loan: Loan) -> list[tuple[str, Decimal]]:
    """Every amount of a loan record with its field path."""
    out: list[tuple[str, Decimal]] = [("principal", loan.principal)]
    out += [(f"payments.{i}.amount", p.amount) for i, p in enumerate(loan.payments)]
    for i, item in enumerate(loan.installments or ()):
        out += [(f"installments.{i}.principal", item.principal), (f"installments.{i}.interest", item.interest)]
    if loan.collateral is not None:
        out.append(("collateral.value", loan.collateral.value))
    if loan.customer is not None:
        for name in ("monthly_income", "monthly_expenses"):
            value = getattr(loan.customer, name)
            if value is not None:
                out.append((f"customer.{name}", value))
    for i, entry in enumerate(loan.adjustments):
        if isinstance(entry, Waiver):
            out += [(f"adjustments.{i}.penalty", entry.penalty), (f"adjustments.{i}.interest", entry.interest)]
        else:
            out += [
                (f"adjustments.{i}.installments.{k}.amount", line.amount) for k, line in enumerate(entry.installments)
            ]
    return out


class FieldError(ValueError):
    """A validation error that names the offending field (dotted path)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _field_error(field: str, reason: str) -> FieldError:
    return FieldError(field, reason)


def _check_explicit_schedule(loan: Loan) -> None:
    items = loan.installments or ()
    if not items:
        raise _field_error("installments", "an explicit schedule needs at least one installment")
    if len(items) != loan.term_months:
        raise _field_error("installments", f"has {len(items)} installments but term_months is {loan.term_months}")
    previous = loan.start_date
    for index, item in enumerate(items):
        if item.seq != index + 1:
            raise _field_error(f"installments.{index}.seq", f"expected seq {index + 1}, got {item.seq}")
        if item.due_date <= previous:
            raise _field_error(
                f"installments.{index}.due_date", "due dates must be after start_date and strictly increasing"
            )
        previous = item.due_date
    total = sum((item.principal for item in items), Decimal(0))
    if total != loan.principal:
        raise _field_error(
            "installments", f"principal of the installments sums to {total}, not to the loan principal {loan.principal}"
        )
