"""A realistic synthetic loan book, reproducible from a seed (for the demo, tests and benchmarks).

Products, sizes, rates and terms are drawn per product; each customer follows a repayment behaviour:
most pay on time, some pay late and cure, some stop paying (at any point, so every bucket is
populated), some pay partially. Payments are dated up to ``as_of`` only: the book is a snapshot.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import takewhile

from dueflow.domain.book import DEFAULT_SELECTION
from dueflow.domain.calendar import add_months
from dueflow.domain.loan import Customer, EmergencyContact, Loan, Payment
from dueflow.domain.money import round_down, round_up
from dueflow.domain.schedule import Installment, iter_schedule


@dataclass(frozen=True)
class Product:
    name: str
    weight: float
    principal: tuple[int, int]
    rate: tuple[float, float]
    terms: tuple[int, ...]
    methods: tuple[str, ...]
    collateral: tuple[str, ...]


PRODUCTS: tuple[Product, ...] = (
    Product("consumer", 0.55, (5_000, 100_000), (0.06, 0.24), (6, 12, 24, 36), ("equal_installment",), ("unsecured",)),
    Product("auto", 0.2, (50_000, 300_000), (0.04, 0.09), (36, 60), ("equal_installment",), ("vehicle",)),
    Product(
        "mortgage",
        0.1,
        (300_000, 3_000_000),
        (0.03, 0.055),
        (240, 360),
        ("equal_installment", "equal_principal"),
        ("real_estate",),
    ),
    Product(
        "sme",
        0.15,
        (100_000, 2_000_000),
        (0.045, 0.12),
        (12, 24, 36),
        ("equal_principal", "equal_installment"),
        ("equipment", "guarantee", "deposit", "unsecured"),
    ),
)

# (behaviour, share of customers): a retail book where about 5% of loans are 1+ days past due and about
# 2% are 90+ (non-performing), in line with the delinquency rates Chinese banks report for retail books.
BEHAVIOURS: tuple[tuple[str, float], ...] = (
    ("on_time", 0.89),
    ("late_cure", 0.06),
    ("stopped", 0.03),
    ("partial", 0.01),
    ("missed_last", 0.01),
)

ZONES = (("Asia/Shanghai", 0.85), ("Asia/Hong_Kong", 0.07), ("Europe/London", 0.04), ("America/New_York", 0.04))
# where each zone's customers live (country, region): the rule pack follows the country, never the zone
PLACES: dict[str, tuple[str, str | None]] = {
    "Asia/Shanghai": ("CN", None),
    "Asia/Hong_Kong": ("HK", None),
    "Europe/London": ("GB", None),
    "America/New_York": ("US", "NY"),
}
SURNAMES = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗".split()
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平".split()
EN_FIRST = "James Mary John Linda Wei Mei David Sarah Michael Emma".split()
EN_LAST = "Smith Chan Wong Brown Taylor Lee Wilson Evans Thomas Walker".split()


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _ in weighted], weights=[w for _, w in weighted])[0]


def generate_loan(rng: random.Random, index: int, as_of: date) -> Loan:
    """One synthetic loan with its payment history up to ``as_of``."""
    product = rng.choices(PRODUCTS, weights=[p.weight for p in PRODUCTS])[0]
    term = rng.choice(product.terms)
    principal = Decimal(rng.randrange(product.principal[0] // 100, product.principal[1] // 100 + 1) * 100)
    rate = Decimal(str(round(rng.uniform(*product.rate), 4)))
    months_ago = rng.randint(1, min(term, 36))
    start = add_months(as_of, -months_ago) - timedelta(days=rng.randint(0, 27))
    language = "en" if rng.random() < 0.2 else "zh-CN"
    zone = _pick(rng, ZONES)
    if language == "zh-CN":
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    else:
        name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
    loan_id = f"L{index:08d}"
    base = {
        "loan_id": loan_id,
        "customer_id": f"C{index:08d}",
        "principal": principal,
        "annual_rate": rate,
        "term_months": term,
        "start_date": start,
        "product": product.name,
        "repayment_method": rng.choice(product.methods),
        "collateral": {"type": rng.choice(product.collateral), "value": principal * Decimal(rng.choice((0, 1, 2)))},
        # named on the loan: the pack the default jurisdiction table gives a renminbi loan (docs/rules.md)
        "rules": DEFAULT_SELECTION.pack_for("CNY", PLACES[zone][0]),
    }
    loan = Loan.model_validate(base)
    due = list(takewhile(lambda item: item.due_date <= as_of, iter_schedule(loan)))
    first = next(iter_schedule(loan))
    first_amount = first.principal + first.interest
    # the installment is 6-25% of income: a plan paid beside it is often affordable, not always
    income = round_down(first_amount / Decimal(str(rng.uniform(0.06, 0.25))))
    customer = {
        "name": name,
        "phone": f"+86{rng.choice((138, 139, 150, 186))}{rng.randrange(10**8):08d}",
        "email": f"customer{index}@example.com",
        "timezone": zone,
        "language": language,
        "country": PLACES[zone][0],
        "region": PLACES[zone][1],
        "monthly_income": income,
        "monthly_expenses": round_down(income * Decimal(str(rng.uniform(0.25, 0.55)))),
    }
    behaviour = _pick(rng, BEHAVIOURS)
    payments = _payments(rng, behaviour, due, loan, as_of)
    update: dict[str, object] = {
        "customer": Customer.model_validate(customer),
        "payments": tuple(Payment(date=d, amount=a) for d, a in payments),
    }
    if index % 3 == 0:  # a third of the customers named an emergency contact: a third party, never contacted
        update["emergency_contact"] = EmergencyContact(
            name="紧急联系人", phone=f"+86137{index:08d}", email=f"contact{index}@example.org", relationship="spouse"
        )
    return loan.model_copy(update=update)


def _payments(
    rng: random.Random, behaviour: str, due: list[Installment], loan: Loan, as_of: date
) -> list[tuple[date, Decimal]]:
    daily_penalty = loan.annual_rate * loan.penalty_rate_multiplier / 360
    stop_at = len(due)
    if behaviour == "stopped" and due:
        stop_at = rng.randint(0, len(due) - 1)
    elif behaviour == "missed_last" and due:
        stop_at = len(due) - 1
    out: list[tuple[date, Decimal]] = []
    for position, item in enumerate(due):
        if position >= stop_at:
            break
        amount = item.principal + item.interest
        if behaviour == "late_cure" and rng.random() < 0.3:
            late = rng.randint(1, 20)
            paid_on = item.due_date + timedelta(days=late)
            amount += round_up(daily_penalty * amount * late) + Decimal("0.01")
        elif behaviour == "partial" and position >= len(due) // 2:
            paid_on = item.due_date
            amount = round_down(amount * Decimal(str(rng.uniform(0.5, 0.9))))
        else:
            paid_on = item.due_date - timedelta(days=rng.randint(0, 3))
            paid_on = max(paid_on, loan.start_date)
        if paid_on <= as_of and amount > 0:
            out.append((paid_on, amount))
    out.sort(key=lambda pair: pair[0])
    return out


def generate_book(count: int, seed: int, as_of: date) -> Iterator[Loan]:
    """``count`` loans, the same for the same ``seed`` and ``as_of``."""
    rng = random.Random(seed)
    for index in range(1, count + 1):
        yield generate_loan(rng, index, as_of)
