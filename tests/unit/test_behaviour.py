"""The simulation's customer behaviour model: reproducible, and every event it writes is valid."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from dueflow_local.behaviour import generate_run
from dueflow_local.simulate import read_events

START = date(2026, 7, 1)


def test_the_same_seed_gives_the_same_book_and_events() -> None:
    first = generate_run(120, 5, START, 60)
    second = generate_run(120, 5, START, 60)
    assert [loan.loan_id for loan in first[0]] == [loan.loan_id for loan in second[0]]
    assert first[1] == second[1]
    assert generate_run(120, 6, START, 60)[1] != first[1]


def test_every_generated_event_reads_back_and_the_mix_has_every_kind(tmp_path: Path) -> None:
    book, events = generate_run(300, 7, START, 90)
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    parsed, problems = read_events(path, {loan.loan_id for loan in book})
    assert problems == [] and len(parsed) == len(events)
    kinds = Counter(event.type for _, event in parsed)
    assert {"payment", "plan_proposed", "plan_accepted", "complaint_opened", "complaint_resolved"} <= set(kinds)
    assert all(START <= event.date < date(2026, 9, 29) for _, event in parsed)


def test_some_customers_promise_to_pay_and_half_of_them_keep_their_word() -> None:
    from datetime import date, timedelta

    from dueflow_local.behaviour import generate_run

    _, events = generate_run(600, 7, date(2026, 3, 1), 60)
    promises = [e for e in events if e["type"] == "promise_to_pay"]
    assert promises and all(e["role"] == "supervisor" and e["promised_date"] > e["date"] for e in promises)
    kept = [
        p
        for p in promises
        if any(
            e["type"] == "payment" and e["loan_id"] == p["loan_id"] and e["date"] == p["promised_date"] for e in events
        )
    ]
    assert 0 < len(kept) < len(promises)
    assert all(
        date.fromisoformat(p["promised_date"]) - date.fromisoformat(p["date"]) <= timedelta(days=30) for p in promises
    )
