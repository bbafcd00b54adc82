"""Whole lifecycles on the fast engine: random event logs over small books, each played day by day
through the real handlers and state machine (in-memory world), then checked against the book and the
payments, not against DueFlow's own records:

- no loan left behind, and every other run invariant (contact window and caps, one case per episode,
  no stuck case, no duplicate message, messages on record, audit chains intact): ``dueflow_local.
  invariants``, which replays each loan through the domain engine;
- money conserved, to the cent: what the customer paid is what was allocated plus unapplied credit;
  what fell due (installments and penalty) is what was paid, waived, or is still owed.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dueflow.domain.calendar import add_months
from dueflow.domain.loan import Loan, Payment
from dueflow.domain.position import assess
from dueflow.domain.schedule import iter_schedule, to_cents
from dueflow.settings import Settings
from dueflow_local.simulate import SimEvent, Simulation
from tests.e2e.conftest import borrower

START = dt.date(2026, 6, 1)
DAYS = 45
END = START + dt.timedelta(days=DAYS - 1)
TIMES = ("09:00", "10:30", "12:00", "15:00", "20:30")
CENTS = st.integers(min_value=100, max_value=600_000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def small_loans(draw: st.DrawFn, loan_id: str) -> Loan:
    """A short loan whose last installment falls due inside the run (so everything is due by its end),
    with some of the installments before the run paid on time."""
    term = draw(st.integers(min_value=2, max_value=5))
    last_due = START + dt.timedelta(days=draw(st.integers(min_value=0, max_value=DAYS - 10)))
    start = add_months(last_due, -term)
    principal = Decimal(draw(st.integers(min_value=20, max_value=600))) * 100
    customer = {  # each customer their own phone: the contact caps count by recipient
        "phone": f"+861380013800{loan_id[-1]}",
        "email": f"{loan_id.lower()}@example.com",
        "monthly_income": str(draw(st.sampled_from([3000, 8000, 20000]))),
        "monthly_expenses": "2000.00",
    }
    loan = borrower(
        loan_id, principal=str(principal), term_months=term, start_date=start.isoformat(), customer=customer
    )
    paid = [
        Payment(date=i.due_date, amount=i.amount)
        for i in iter_schedule(loan)
        if i.due_date < START and draw(st.booleans())
    ]
    return loan.model_copy(update={"payments": tuple(paid)})


@st.composite
def events(draw: st.DrawFn, book: list[Loan]) -> list[SimEvent]:
    out: list[SimEvent] = []
    by_id = {loan.loan_id: loan for loan in book}
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        loan_id = draw(st.sampled_from(sorted(by_id)))
        day = START + dt.timedelta(days=draw(st.integers(min_value=0, max_value=DAYS - 1)))
        time = draw(st.sampled_from(TIMES))
        kind = draw(
            st.sampled_from(
                ["payment", "payment", "plan", "promise_to_pay", "complaint_opened", "complaint_resolved", "opt_out"]
            )
        )
        base: dict[str, Any] = {"date": day, "time": time, "loan_id": loan_id}
        if kind == "payment":
            # a random amount, one installment, or everything the loan will ever ask (and some to spare)
            schedule = list(iter_schedule(by_id[loan_id]))
            whole = (sum(i.amount for i in schedule) * Decimal("1.05")).quantize(Decimal("0.01"))
            amount = draw(st.one_of(CENTS, st.just(schedule[0].amount), st.just(whole)))
            out.append(SimEvent(type="payment", amount=amount, **base))
        elif kind == "plan":
            proposal = {
                "role": draw(st.sampled_from(["agent", "supervisor"])),
                "months": draw(st.none() | st.integers(min_value=1, max_value=6)),
                "waive_penalty": draw(st.sampled_from([Decimal(0), Decimal("0.50"), Decimal("1.60")])),
            }
            out.append(SimEvent(type="plan_proposed", **base, **proposal))
            later = day + dt.timedelta(days=draw(st.integers(min_value=0, max_value=3)))
            out.append(SimEvent(type="plan_accepted", **(base | {"date": later, "time": "20:45"})))
        elif kind == "promise_to_pay":
            promised = day + dt.timedelta(days=draw(st.integers(min_value=0, max_value=35)))
            out.append(SimEvent(type="promise_to_pay", amount=draw(CENTS), promised_date=promised, **base))
        elif kind == "opt_out":
            out.append(SimEvent(type="opt_out", channel=draw(st.sampled_from(["sms", "email", "call"])), **base))
        else:
            out.append(SimEvent(type=kind, **base))
    return out


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[Loan], list[SimEvent]]:
    ids = [f"L{n}" for n in range(1, draw(st.integers(min_value=1, max_value=3)) + 1)]
    book = [draw(small_loans(loan_id)) for loan_id in ids]
    return book, draw(events(book))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(run=runs())
def test_a_random_lifecycle_leaves_no_loan_behind_conserves_money_and_keeps_the_rules(
    run: tuple[list[Loan], list[SimEvent]],
) -> None:
    book, log = run
    simulation = Simulation(
        book=book,
        events=list(enumerate(sorted(log, key=lambda e: (e.date, e.time)), start=1)),
        start=START,
        days=DAYS,
        settings=Settings(environment="prop", index_shards=2),
    )
    with tempfile.TemporaryDirectory() as out:
        played = simulation.play(Path(out))
    for case in played.cases:  # what the runs cover (--hypothesis-show-statistics)
        event(f"case {case['outcome']}")
        if (case.get("plan") or {}).get("accepted_on"):
            event("plan accepted")
    broken = {k: v for k, v in played.checked.items() if isinstance(v, dict) and v["violations"]}
    assert not broken, broken
    for loan in played.final_book:
        _money_is_conserved(loan)


def _money_is_conserved(loan: Loan) -> None:
    position = assess(loan, END)
    paid = sum(to_cents(p.amount) for p in loan.payments)
    assert position.paid_cents == paid, loan.loan_id
    schedule = list(iter_schedule(loan))
    assert schedule[-1].due_date < END  # everything has fallen due
    charged = sum(to_cents(i.amount) for i in schedule) + position.penalty_charged_cents
    allocated = paid - position.credit_cents
    assert charged == allocated + position.waived_cents + position.owed_cents, (
        loan.loan_id,
        charged,
        allocated,
        position.waived_cents,
        position.owed_cents,
    )
    if position.owed_cents == 0 or position.credit_cents:
        assert position.owed_cents == 0 and position.outstanding_principal_cents == 0
