"""The event log can replay what the API can do: dial attempts, telephone conversations, call outcomes
(disputes, hardship), do-not-contact, waiver decisions, acceleration notices, assignments and notes, at
times in the customer's zone. A us-pack simulation exercises the 7-in-7 call cap and the 7-day quiet
period after a conversation (12 CFR 1006.14(b)(2)) from the log alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dueflow.domain.book import iter_jsonl
from dueflow_local.cli import app
from dueflow_local.simulate import EVENT_TYPES, read_events
from tests.e2e.conftest import borrower
from tests.e2e.test_jurisdiction import US_CUSTOMER as NEW_YORK

runner = CliRunner()


def dial(day: str, hhmm: str, outcome: str = "no_answer") -> dict[str, Any]:
    """An agent's dial attempt at ``hhmm`` in the customer's zone (New York)."""
    return {"date": day, "time": hhmm, "zone": "customer", "type": "call_attempt", "loan_id": "U1", "outcome": outcome}


def simulate(tmp_path: Path, events: list[dict[str, Any]], start: str, days: int) -> tuple[Any, Path]:
    book = tmp_path / "book.jsonl"
    book.write_text("".join(iter_jsonl([borrower("U1", currency="USD", customer=NEW_YORK)])), encoding="utf-8")
    log = tmp_path / "events.jsonl"
    log.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    out = tmp_path / "out"
    args = ["simulate", "--workers", "1", "--book", str(book), "--events", str(log)]
    result = runner.invoke(app, [*args, "--start", start, "--days", str(days), "--out", str(out)])
    return result, out


def test_a_us_simulation_keeps_the_quiet_period_after_a_conversation_and_the_7_in_7_cap(tmp_path: Path) -> None:
    # the loan (USD, a customer in the US: the us pack by the jurisdiction table) falls due 2026-06-15;
    # its case opens at the 06-17 scan (06-16 in New York)
    events = [
        dial("2026-06-17", "10:00"),
        dial("2026-06-17", "11:00", "conversation"),  # the quiet period starts: no call until 06-24 11:00
        dial("2026-06-18", "10:00"),  # refused: within 7 days of the conversation
        dial("2026-06-25", "09:00"),
        dial("2026-06-25", "10:00"),
        dial("2026-06-25", "11:00"),
        dial("2026-06-25", "12:00"),  # refused: 3 a day
        dial("2026-06-26", "09:00"),
        dial("2026-06-26", "10:00"),
        dial("2026-06-27", "09:00"),
        dial("2026-06-27", "10:00"),  # the 7th attempt in 7 days (06-25 to 06-27)
        dial("2026-06-27", "11:00"),  # refused: 7 attempts in 7 days on this debt
    ]
    result, out = simulate(tmp_path, events, "2026-06-16", 13)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    refused = [line for line in result.stderr.splitlines() if "call_attempt refused" in line]
    assert [line.split(":", 1)[0] for line in refused] == ["event line 3", "event line 7", "event line 12"]
    assert "quiet after a telephone conversation" in refused[0]
    assert "from 2026-06-24T15:00:00+00:00" in refused[0]  # 7 days after 06-17 11:00 in New York
    assert "from 2026-06-26T12:00:00+00:00" in refused[1]  # 3 a day: the next day's 08:00 in New York
    assert "from 2026-07-02T13:00:00+00:00" in refused[2]  # 7 in 7 days: 7 days after 06-25 09:00
    (case,) = map(json.loads, (out / "cases.jsonl").read_text(encoding="utf-8").splitlines())
    records = [json.loads(p.read_text()) for p in sorted((out / "audit" / "cases" / "U1").rglob("*.json"))]
    attempts = [r for r in records if r["type"] == "call_attempt"]
    assert len(attempts) == 9  # 12 placed, 3 refused by the contact rules
    assert case["outcome"] == "OPEN"


def test_every_api_action_has_an_event_type_and_bad_lines_name_their_field(tmp_path: Path) -> None:
    assert {
        "do_not_contact",
        "do_not_contact_cleared",
        "call_attempt",
        "conversation",
        "call_outcome",
        "waiver_approved",
        "waiver_refused",
        "acceleration_notice",
        "assigned",
        "note",
    } <= set(EVENT_TYPES)
    lines = [
        {"date": "2026-06-17", "type": "call_attempt", "loan_id": "U1"},
        {"date": "2026-06-17", "type": "call_attempt", "loan_id": "U1", "outcome": "maybe"},
        {"date": "2026-06-17", "type": "do_not_contact", "loan_id": "U1"},
        {"date": "2026-06-17", "zone": "Mars/Olympus", "type": "note", "loan_id": "U1", "text": "x"},
        {"date": "2026-06-17", "type": "call_outcome", "loan_id": "U1", "disposition": "promise_to_pay"},
        {"date": "2026-06-17", "type": "call_outcome", "loan_id": "U1", "disposition": "dispute", "text": "not mine"},
    ]
    log = tmp_path / "events.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    events, problems = read_events(log, {"U1"})
    assert [n for n, _ in events] == [6]
    assert [str(p) for p in problems] == [
        "event line 1: field outcome: a call_attempt event needs outcome",
        "event line 2: field outcome: must be one of no_answer, busy, voicemail, wrong_number, conversation",
        "event line 3: field reason: a do_not_contact event needs reason",
        "event line 4: field zone: 'Mars/Olympus' is neither 'customer' nor an IANA time zone",
        "event line 5: field promised_date: a promise_to_pay call outcome needs promised_date and amount",
    ]


def test_a_dispute_hardship_and_do_not_contact_from_the_log_reach_the_case(tmp_path: Path) -> None:
    events = [
        {"date": "2026-06-17", "time": "10:00", "zone": "customer", "type": "call_outcome", "loan_id": "U1",
         "disposition": "hardship", "reason_code": "unemployment", "reason": "laid off in May"},
        {"date": "2026-06-18", "time": "10:00", "zone": "customer", "type": "call_outcome", "loan_id": "U1",
         "disposition": "dispute", "text": "says the June payment was made"},
        {"date": "2026-06-19", "time": "10:00", "type": "do_not_contact", "loan_id": "U1",
         "reason": "cease-and-desist letter received"},
    ]  # fmt: skip
    result, out = simulate(tmp_path, events, "2026-06-16", 6)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "refused" not in result.stderr, result.stderr
    records = [json.loads(p.read_text()) for p in sorted((out / "audit" / "cases" / "U1").rglob("*.json"))]
    kinds = [r["type"] for r in records]
    assert "call_outcome" in kinds and "complaint_opened" in kinds  # a dispute opens a complaint
    assert [r["body"]["do_not_contact"] for r in records if "do_not_contact" in r["body"]] == [
        "cease-and-desist letter received"
    ]
    # nothing reached the customer after it (the providers' log: every message on the case's record)
    stopped = next(r["at"] for r in records if "do_not_contact" in r["body"])
    assert not [r for r in records if r["type"] == "message_sent" and r["at"] > stopped]


def test_a_call_outcome_names_one_of_the_api_s_dispositions(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    line = {"date": "2026-06-17", "type": "call_outcome", "loan_id": "U1", "disposition": "maybe_later"}
    log.write_text(json.dumps(line) + "\n", encoding="utf-8")
    events, problems = read_events(log, {"U1"})
    assert not events
    assert [str(p) for p in problems] == [
        "event line 1: field disposition: must be one of right_party_contact, promise_to_pay, hardship, refused, "
        "dispute, left_message, no_answer, wrong_number"
    ]
