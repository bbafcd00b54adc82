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
