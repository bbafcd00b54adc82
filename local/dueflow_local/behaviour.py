"""A customer behaviour model for simulations: who pays on time, who is late and cures, who negotiates
and keeps or breaks a plan, who promises to pay (and keeps or breaks the promise), who never answers, who
complains. Reproducible from a seed.

The model writes an event log in the format ``dueflow simulate --events`` reads, so a generated run can
be replayed exactly from the files it leaves behind.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dueflow.domain.loan import Loan
from dueflow.domain.money import fmt, round_up
from dueflow.domain.position import assess
from dueflow.domain.schedule import iter_schedule
from dueflow_local.generate import generate_book

# (profile, share of customers)
PROFILES: tuple[tuple[str, float], ...] = (
    ("regular", 0.80),
    ("late_cure", 0.07),
    ("keeps_plan", 0.04),
    ("breaks_plan", 0.03),
    ("silent", 0.02),
    ("promises", 0.02),  # taken from the silent customers' share, so no other customer changes profile
    ("complains", 0.02),
)


def _event(day: date, kind: str, loan_id: str, time: str = "12:00", **fields: Any) -> dict[str, Any]:
    return {"date": day.isoformat(), "time": time, "type": kind, "loan_id": loan_id, **fields}


def events_for(loan: Loan, profile: str, start: date, days: int, rng: random.Random) -> list[dict[str, Any]]:
    """The events one customer produces between ``start`` and ``start + days``."""
    end = start + timedelta(days=days)
    due = [i for i in iter_schedule(loan) if start <= i.due_date < end]
    position = assess(loan, start - timedelta(days=1))
    events: list[dict[str, Any]] = []
    margin = Decimal("1.02")
    if profile == "regular":
        if position.dpd:  # already behind when the run starts: catch up within a few days
            amount = round_up(position.total_overdue * margin)
            events.append(
                _event(start + timedelta(days=rng.randint(0, 4)), "payment", loan.loan_id, amount=fmt(amount))
            )
        for item in due:
            paid_on = max(item.due_date - timedelta(days=rng.randint(0, 2)), start)
            events.append(_event(paid_on, "payment", loan.loan_id, time="09:30", amount=fmt(item.amount)))
        return events
    if profile == "late_cure":
        behind = position.total_overdue  # whatever was overdue at the start is caught up with the first
        for item in due:
            late = rng.randint(3, 12)
            amount = round_up((item.amount + behind) * margin)
            behind = Decimal(0)
            events.append(_event(item.due_date + timedelta(days=late), "payment", loan.loan_id, amount=fmt(amount)))
        return events
    first_miss = position.as_of - timedelta(days=position.dpd) if position.dpd else (due[0].due_date if due else None)
    if first_miss is None:
        return events
    opened = max(first_miss + timedelta(days=1), start)  # the scan opens the case at DPD 1
    if profile in ("keeps_plan", "breaks_plan"):
        talk = opened + timedelta(days=rng.randint(2, 5))
        # the agent waives the penalty so far (within an agent's authority) to make the plan easier to keep
        penalty = assess(loan, talk).penalty
        events.append(
            _event(
                talk,
                "plan_proposed",
                loan.loan_id,
                time="11:00",
                role=rng.choice(["agent", "supervisor"]),
                waive_penalty=fmt(penalty),
            )
        )
        events.append(_event(talk, "plan_accepted", loan.loan_id, time="15:00"))
        if profile == "keeps_plan":
            # what is overdue when they talk plus what falls due in the next 40 days, with room to spare
            coming = sum((i.amount for i in due if talk < i.due_date <= talk + timedelta(days=40)), Decimal(0))
            ample = round_up((assess(loan, talk).total_overdue + coming) * Decimal("1.10"))
            events.append(_event(talk + timedelta(days=7), "payment", loan.loan_id, time="10:00", amount=fmt(ample)))
            # and the regular installments after that, paid alongside the plan on their due dates
            for item in due:
                if item.due_date > talk + timedelta(days=40):
                    events.append(_event(item.due_date, "payment", loan.loan_id, time="09:30", amount=fmt(item.amount)))
        return events
    if profile == "promises":
        # their own generator, so that the shared one draws as it did before this profile existed
        own = random.Random(f"{loan.loan_id}:promise")
        talk = opened + timedelta(days=own.randint(2, 5))
        promised_on = talk + timedelta(days=own.randint(5, 12))
        owed = round_up(assess(loan, promised_on).total_overdue * margin)
        events.append(
            _event(
                talk,
                "promise_to_pay",
                loan.loan_id,
                time="11:30",
                role="supervisor",
                promised_date=promised_on.isoformat(),
                amount=fmt(owed),
            )
        )
        if own.random() < 0.5:  # half keep their word
            events.append(_event(promised_on, "payment", loan.loan_id, time="10:00", amount=fmt(owed)))
        return events
    if profile == "complains":
        events.append(_event(opened + timedelta(days=2), "complaint_opened", loan.loan_id, time="10:00"))
        events.append(_event(opened + timedelta(days=9), "complaint_resolved", loan.loan_id, time="16:00"))
        overdue = assess(loan, opened + timedelta(days=12)).total_overdue  # nothing was paid meanwhile
        events.append(
            _event(opened + timedelta(days=12), "payment", loan.loan_id, amount=fmt(round_up(overdue * margin)))
        )
    return events  # silent: nothing at all


def generate_run(count: int, seed: int, start: date, days: int) -> tuple[list[Loan], list[dict[str, Any]]]:
    """A book as of the day before ``start`` and the event log of its customers over ``days``."""
    book = list(generate_book(count, seed, start - timedelta(days=1)))
    rng = random.Random(seed * 7919 + 17)
    names = [name for name, _ in PROFILES]
    weights = [weight for _, weight in PROFILES]
    events: list[dict[str, Any]] = []
    for loan in book:
        profile = rng.choices(names, weights=weights)[0]
        events.extend(events_for(loan, profile, start, days, rng))
    events = [e for e in events if date.fromisoformat(e["date"]) < start + timedelta(days=days)]
    events.sort(key=lambda e: (e["date"], e["time"], e["loan_id"], e["type"]))
    return book, events
