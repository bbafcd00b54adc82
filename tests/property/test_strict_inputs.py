"""One strict policy for money, rates and dates wherever they come in: the loan book, the event log, the
REST API and the CLI. Each hostile form is refused with a message naming the line or the field, nothing
stored changes, and nothing hangs (a rate like 1e-999999999 once made the schedule build a
billion-digit number)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dueflow.domain.book import parse_line
from dueflow.services.scan import scheduled_date
from dueflow.settings import Settings
from dueflow_local.cli import app as cli
from dueflow_local.memory_runtime import MemoryRuntime
from dueflow_local.simulate import read_events
from tests.e2e.conftest import borrower
from tests.property.test_abuse import VALID, put

AMOUNTS = [
    "١٠",  # Arabic-Indic digits
    "１０",  # full-width digits
    "1_0",
    "1_000.00",
    10.5,
    "1e3",
    "1E-30",
    "NaN",
    "Infinity",
    "-Infinity",
    "+10",
    "10.",
    ".5",
    "0x10",
    "10,00",
    "1 000",
    "1" * 30,
    True,
    [],
]
RATES = [*AMOUNTS, "1e-999999999", "1e-30", "0.1e1"]
DATES = [
    1781654400,
    "1781654400",
    1781654400.0,
    "2026-6-1",
    "20260601",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2026-06-01T00:00:00",
    "２０２６-０６-０１",
    "2026-06-01 ",
]
DATES = [d for d in DATES if d != "2026-06-01 "]  # surrounding spaces are stripped: that one is valid
BOOK_PLACES = {
    ("principal",): AMOUNTS,
    ("annual_rate",): RATES,
    ("payments", 0, "amount"): AMOUNTS,
    ("customer", "monthly_income"): AMOUNTS,
    ("start_date",): DATES,
    ("payments", 0, "date"): DATES,
}
QUICK = 5.0  # seconds: nothing hostile may make a command run long


@st.composite
def book_attacks(draw: st.DrawFn) -> tuple[tuple[Any, ...], Any]:
    path = draw(st.sampled_from(sorted(BOOK_PLACES, key=str)))
    return path, draw(st.sampled_from(BOOK_PLACES[path]))


@settings(max_examples=150, deadline=None)
@given(attack=book_attacks())
def test_the_book_refuses_each_hostile_form_naming_the_line_and_field(attack: tuple[tuple[Any, ...], Any]) -> None:
    path, value = attack
    started = time.monotonic()
    loan, errors = parse_line(json.dumps(put(VALID, path, value), ensure_ascii=False), 4)
    assert time.monotonic() - started < QUICK
    assert loan is None and errors, (path, value)
    field = ".".join(str(p) for p in path)
    assert any(e.field == field for e in errors), (errors, field)
    assert all(e.line == 4 and len(e.reason) > 10 for e in errors)


def test_a_book_line_with_a_key_twice_is_refused() -> None:
    text = json.dumps(VALID)[:-1] + ', "principal": "1.00"}'
    loan, errors = parse_line(text, 9)
    assert loan is None and errors[0].line == 9 and "duplicate key 'principal'" in errors[0].reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(["amount", "date", "promised_date", "waive_penalty"]),
    data=st.data(),
)
def test_the_event_log_reports_each_hostile_form_naming_the_line_and_field(
    tmp_path: Path, field: str, data: st.DataObject
) -> None:
    value = data.draw(st.sampled_from(DATES if "date" in field else AMOUNTS))
    line: dict[str, Any] = {"date": "2026-06-20", "type": "payment", "loan_id": "L1", "amount": "10.00"}
    if field in ("promised_date", "waive_penalty"):
        line["type"] = "promise_to_pay" if field == "promised_date" else "plan_proposed"
    line[field] = value
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n" + json.dumps(line) + "\n", encoding="utf-8")
    events, problems = read_events(path, {"L1"})
    assert events == [] and [p.line for p in problems] == [1, 2]
    assert all(f"field {field}" in str(p) for p in problems), problems


def test_an_event_line_with_a_key_twice_or_dated_outside_the_run_is_reported(tmp_path: Path) -> None:
    from dueflow_local.simulate import Simulation

    path = tmp_path / "events.jsonl"
    lines = [
        '{"date": "2026-06-20", "type": "payment", "loan_id": "L1", "amount": "10.00", "amount": "99.00"}',
        '{"date": "2100-12-31", "type": "payment", "loan_id": "L1", "amount": "10.00"}',
        '{"date": "2026-06-18", "type": "payment", "loan_id": "L1", "amount": "10.00"}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    events, problems = read_events(path, {"L1"})
    assert [p.line for p in problems] == [1] and "duplicate key 'amount'" in str(problems[0])
    simulation = Simulation(
        book=[borrower()], events=events, start=date(2026, 6, 17), days=3, settings=Settings(index_shards=2)
    )
    simulation.problems = list(problems)
    simulation.run(tmp_path / "out")
    reported = {p.line: p.reason for p in simulation.problems}
    assert "outside the run" in reported[2] and simulation.applied == 1
    assert simulation.applied + len(simulation.problems) == len(lines)  # every line applied or reported


@pytest.fixture(scope="module")
def rt() -> Iterator[MemoryRuntime]:
    with MemoryRuntime(Settings(environment="strict", index_shards=2), start=datetime(2026, 6, 16, tzinfo=UTC)) as r:
        r.load_book([borrower("L1")], date(2026, 6, 16))
        r.run_day(date(2026, 6, 17))
        yield r


CASE = "L1-2026-06-15"
ROUTES = {
    "amount": ("/loans/L1/payments", {"date": "2026-06-17", "amount": "10.00", "reference": "b1"}, {"system": True}),
    "date": ("/loans/L1/payments", {"date": "2026-06-17", "amount": "10.00", "reference": "b1"}, {"system": True}),
    "promised_date": (
        f"/cases/{CASE}/promises",
        {"promised_date": "2026-06-30", "amount": "100.00"},
        {"user": "sup1", "groups": ("supervisor",)},
    ),
    "promise_amount": (
        f"/cases/{CASE}/promises",
        {"promised_date": "2026-06-30", "amount": "100.00"},
        {"user": "sup1", "groups": ("supervisor",)},
    ),
    "waive_interest": (
        f"/cases/{CASE}/plan-proposals",
        {"waive_interest": "0"},
        {"user": "sup1", "groups": ("supervisor",)},
    ),
    "waive_penalty": (
        f"/cases/{CASE}/plan-proposals",
        {"waive_penalty": "0"},
        {"user": "sup1", "groups": ("supervisor",)},
    ),
}


def snapshot(rt: MemoryRuntime) -> tuple[Any, ...]:
    return (
        [str(loan) for loan in rt.services.loans.all()],
        sorted(str(c) for c in rt.services.cases.all()),
        sorted(str(m) for m in rt.services.outbox.all()),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(ROUTES)), data=st.data())
def test_the_api_refuses_each_hostile_form_with_a_message_naming_the_field(
    rt: MemoryRuntime, field: str, data: st.DataObject
) -> None:
    path, valid, caller = ROUTES[field]
    value = data.draw(st.sampled_from(DATES if "date" in field else AMOUNTS))
    field = "amount" if field == "promise_amount" else field
    before = snapshot(rt)
    status, answer = rt.api("POST", path, json.dumps({**valid, field: value}), **caller)  # type: ignore[arg-type]
    assert status == 422, (field, value, answer)
    assert field in answer["message"] and answer["detail"][0]["loc"] == ["body", field], answer
    assert snapshot(rt) == before


def test_the_api_refuses_a_body_with_a_key_twice(rt: MemoryRuntime) -> None:
    before = snapshot(rt)
    body = '{"date": "2026-06-17", "amount": "10.00", "amount": "9999.00"}'
    status, answer = rt.api("POST", "/loans/L1/payments", body, system=True)
    assert status == 422 and "duplicate key 'amount'" in answer["message"], answer
    assert snapshot(rt) == before


def test_a_token_that_names_no_user_is_not_a_principal(rt: MemoryRuntime) -> None:
    """Claims with groups but neither a username nor a sub once became the principal "None"."""
    from dueflow_local.api_events import api_gateway_event

    event = api_gateway_event("GET", f"/cases/{CASE}", None, user="x", groups=("supervisor",), request_id="nobody")
    event["requestContext"]["authorizer"]["claims"] = {"cognito:groups": "supervisor"}
    response = rt.dispatcher.invoke("api", event)
    assert response["statusCode"] == 401 and "names no user" in json.loads(response["body"])["message"]


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-13-01", 1781654400])
def test_the_scan_event_refuses_a_date_outside_the_window_naming_the_field(value: Any) -> None:
    with pytest.raises(ValueError, match="as_of"):
        scheduled_date({"as_of": value}, "Asia/Shanghai")


def test_dueflow_invoke_says_why_the_scan_refused_its_event(tmp_path: Path) -> None:
    event = tmp_path / "scan.json"
    event.write_text('{"as_of": "9999-12-31"}', encoding="utf-8")
    result = CliRunner().invoke(cli, ["invoke", "scan", str(event)])
    assert result.exit_code == 1 and "scan: scan event field as_of: 9999-12-31 is outside" in result.stderr


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-6-1", "1781654400", "２０２６-０６-０１"])
@pytest.mark.parametrize("command", ["statement", "assess", "book generate", "sample", "invoke", "simulate"])
def test_the_cli_refuses_a_hostile_date_naming_the_option(tmp_path: Path, command: str, value: str) -> None:
    book = tmp_path / "book.jsonl"
    book.write_text(json.dumps(VALID) + "\n", encoding="utf-8")
    if command == "statement":
        args = ["statement", "--book", str(book), "--loan", "L-1", "--as-of", value]
        option = "--as-of"
    elif command == "assess":
        args = ["assess", "--book", str(book), "--as-of", value]
        option = "--as-of"
    elif command == "book generate":
        args = ["book", "generate", "--out", str(tmp_path / "b.jsonl"), "--loans", "2", "--as-of", value]
        option = "--as-of"
    elif command == "sample":
        args = ["sample", "--out", str(tmp_path / "d"), "--loans", "2", "--as-of", value]
        option = "--as-of"
    elif command == "invoke":
        event = tmp_path / "e.json"
        event.write_text("{}", encoding="utf-8")
        args = ["invoke", "scan", str(event), "--book", str(book), "--as-of", value]
        option = "--as-of"
    else:
        args = ["simulate", "--book", str(book), "--start", value, "--days", "2", "--out", str(tmp_path / "o")]
        option = "--start"
    started = time.monotonic()
    result = CliRunner().invoke(cli, args)
    assert time.monotonic() - started < QUICK
    assert result.exit_code == 2 and f"{option}:" in result.stderr, result.output


def test_an_amount_finer_than_the_currencys_minor_unit_is_refused_naming_the_field() -> None:
    jpy = put(put(VALID, ("currency",), "JPY"), ("principal",), "12000")
    jpy = put(jpy, ("payments", 0, "amount"), "1066.19")
    jpy = put(jpy, ("customer", "monthly_income"), "20000")
    jpy = put(jpy, ("collateral", "value"), "600000")
    loan, errors = parse_line(json.dumps(jpy, ensure_ascii=False), 2)
    assert loan is None and [(e.field, e.reason) for e in errors] == [
        ("payments.0.amount", "JPY has no minor unit: 1066.19 must be a whole amount")
    ]
    loan, errors = parse_line(json.dumps(put(jpy, ("payments", 0, "amount"), "1066"), ensure_ascii=False), 2)
    assert loan is not None and not errors
