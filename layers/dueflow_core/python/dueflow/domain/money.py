"""Money helpers. Amounts are ``Decimal`` in the loan's currency; 2 decimal places when reported."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
ZERO_CENTS = Decimal("0.00")


def round_half_up(amount: Decimal) -> Decimal:
    """Round an amount to 0.01 with ROUND_HALF_UP (the rule for every reported or allocated amount)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_down(amount: Decimal) -> Decimal:
    """Round an amount down (towards zero) to 0.01."""
    return amount.quantize(CENT, rounding=ROUND_DOWN)


def round_up(amount: Decimal) -> Decimal:
    """Round an amount up (away from zero) to 0.01."""
    return amount.quantize(CENT, rounding=ROUND_UP)


def unit_cents(currency: str) -> int:
    """The currency's smallest amount in cents (ISO 4217 minor units): 1 for two decimals, 100 for a
    currency with none (JPY, KRW, ...). Every amount the engine makes (installments, interest, penalty,
    plans) is a whole number of these."""
    from dueflow.domain.currencies import places

    return 10 ** (2 - places(currency)) if currency else 1


def unit(currency: str) -> Decimal:
    """The currency's smallest amount: ``0.01``, or ``1`` for a currency with no minor unit."""
    from dueflow.domain.currencies import places

    return Decimal(1).scaleb(-places(currency)) if currency else CENT  # an exponent of 0 or -2: quantize's step


def fmt(amount: Decimal) -> str:
    """Format an amount as a decimal string with exactly 2 places (``"1234.50"``)."""
    return str(round_half_up(amount))


# how an amount reads in a customer's message: the currency's sign, thousands grouped, its minor units
_SIGNS = {"CNY": "¥", "USD": "$", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "¥", "SGD": "S$", "MOP": "MOP$"}


def display(amount: object, currency: str) -> str:
    """``¥5,336.26``, ``$5,336.26``, ``¥1,200`` (yen has no minor unit); an unknown currency by its code."""
    from dueflow.domain.currencies import places

    value = Decimal(str(amount))
    digits = places(currency) if currency else 2
    text = f"{value:,.{digits}f}"
    sign = _SIGNS.get(currency)
    return f"{sign}{text}" if sign else f"{text} {currency}".strip()
