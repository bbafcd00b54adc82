"""Hostile API bodies and Lambda events on the local runtime: a clear 4xx naming the field (or a clear
error for an event), never a 5xx, and nothing stored changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dueflow.settings import Settings
from dueflow_local.lambda_dispatch import LambdaContext
from dueflow_local.memory_runtime import MemoryRuntime
from tests.e2e.conftest import borrower

CASE = "L1-2026-06-15"
SUPERVISOR = {"user": "sup1", "groups": ("supervisor",)}
SYSTEM = {"system": True}

ROUTES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # route: (path, a valid body, the caller)
    "payment": ("/loans/L1/payments", {"date": "2026-06-17", "amount": "10.00", "reference": "bank-1"}, SYSTEM),
    "plan": (f"/cases/{CASE}/plan-proposals", {"waive_penalty": "0", "waive_interest": "0", "months": 3}, SUPERVISOR),
    "promise": (f"/cases/{CASE}/promises", {"promised_date": "2026-06-30", "amount": "100.00"}, SUPERVISOR),
    "opt_out": (f"/cases/{CASE}/opt-outs", {"channel": "sms"}, SUPERVISOR),
    "assign": (f"/cases/{CASE}/assignment", {"agent": "ag1"}, SUPERVISOR),
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
HOSTILE_VALUES = st.one_of(
    json_values,
    st.sampled_from(["-1", "1e30", "NaN", "0.001", "99999999999999999.99", "2026-02-30", "0001-01-01", "9999-12-31"]),
    st.sampled_from(["'; DROP TABLE cases; --", "<script>x</script>", "${jndi:ldap://x}", "\u0000", "a" * 5000]),
)


@st.composite
def hostile_bodies(draw: st.DrawFn, valid: dict[str, Any]) -> str:
    """A raw request body: broken JSON, a JSON value of the wrong shape, or the valid body with one field
    replaced or one unknown field added."""
    kind = draw(st.sampled_from(["raw", "shape", "field", "extra"]))
    if kind == "raw":
        return draw(st.sampled_from(["{", "{'date': 1}", "", "null", "[]", "nope", '{"a":1}}', "\ufeff{}"]))
    if kind == "shape":
        return json.dumps(draw(json_values))
    body = dict(valid)
    if kind == "field":
        body[draw(st.sampled_from(sorted(valid)))] = draw(HOSTILE_VALUES)
    else:
        body[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in valid))] = draw(HOSTILE_VALUES)
    return json.dumps(body)


@pytest.fixture(scope="module")
def rt() -> Iterator[MemoryRuntime]:
    with MemoryRuntime(Settings(environment="abuse", index_shards=2), start=datetime(2026, 6, 16, tzinfo=UTC)) as r:
        r.load_book([borrower("L1")], date(2026, 6, 16))
        r.run_day(date(2026, 6, 17))
        yield r


def snapshot(rt: MemoryRuntime) -> tuple[Any, ...]:
    loans = sorted(
        str((s.loan, dict(s.sealed))) for x in rt.services.loans.all() if (s := rt.services.loans.get_stored(x.loan_id))
    )
    cases = sorted(str(c) for c in rt.services.cases.all())
    outbox = sorted(str(m) for m in rt.services.outbox.all())
    return (loans, cases, outbox, [key for key, _ in rt.services.audit_store.read_case("L1", CASE)])


@pytest.mark.parametrize("route", sorted(ROUTES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_hostile_body_gets_a_4xx_naming_the_field_and_changes_nothing(
    rt: MemoryRuntime, route: str, data: st.DataObject
) -> None:
    path, valid, caller = ROUTES[route]
    body = data.draw(hostile_bodies(valid))
    before = snapshot(rt)
    status, answer = rt.api("POST", path, body, **caller)
    assert 400 <= status < 500 or status == 200, (status, answer, body)
    if status == 200:
        return  # the body was valid after all (an extra field can not be: unknown fields are refused)
    if status == 422:
        fields = [".".join(str(part) for part in error["loc"]) for error in answer["detail"]]
        assert fields and all(f.startswith("body") for f in fields), answer
    else:
        assert answer["message"], answer
    after = snapshot(rt)
    if route == "plan" and status == 409 and after[3] != before[3]:
        # a waiver refused for want of authority is a decision, and each decision is on the record
        # (issue 12): exactly one waiver_decision record more, and the loans and messages unchanged
        new = [key for key in after[3] if key not in before[3]]
        assert len(new) == 1 and new[0].endswith("-waiver_decision.json"), new
        assert (after[0], after[2]) == (before[0], before[2]), body
        return
    assert after == before, body


@pytest.mark.parametrize(
    ("function", "event", "says"),
    [
        ("case_stage", {"stage": "confirm"}, "missing case_id"),
        (
            "case_stage",
            {"stage": "confirm", "case_id": ["x"], "loan_id": "L1", "execution": "e", "entered": "t"},
            "case_id",
        ),
        (
            "case_stage",
            {"stage": "teleport", "case_id": CASE, "loan_id": "L1", "execution": "e", "entered": "t"},
            "unknown stage",
        ),
        ("case_wait", {"case_id": CASE}, "missing loan_id"),
        (
            "case_wait",
            {"case_id": CASE, "loan_id": "L1", "token": "t", "state": "s", "wait": "w", "days": "ten", "entered": "x"},
            "days",
        ),
        ("case_wait", [], "must be an object"),
    ],
)
def test_a_malformed_workflow_event_is_a_clear_error_and_changes_nothing(
    rt: MemoryRuntime, function: str, event: Any, says: str
) -> None:
    before = snapshot(rt)
    handler = rt.dispatcher.handlers[function]
    with pytest.raises(ValueError, match=says):
        handler(event, LambdaContext(function, "abuse"))
    assert snapshot(rt) == before


def test_a_payment_posted_again_with_its_reference_counts_once(rt: MemoryRuntime) -> None:
    """The bank's system calls again after a lost answer: the same reference posts nothing more and
    answers as the first did; other content under it is refused naming both amounts."""
    before = rt.services.loans.get("L1")
    assert before is not None
    body = {"date": "2026-06-17", "amount": "5.00", "reference": "bank-2026-06-17-0001"}
    first = rt.api("POST", "/loans/L1/payments", body, system=True)
    again = rt.api("POST", "/loans/L1/payments", body, system=True)
    assert (
        first
        == again
        == (200, {"loan_id": "L1", "reference": body["reference"], "date": "2026-06-17", "amount": "5.00"})
    )
    assert len(rt.services.loans.get("L1").payments) == len(before.payments) + 1  # type: ignore[union-attr]
    status, answer = rt.api("POST", "/loans/L1/payments", body | {"amount": "7.00"}, system=True)
    assert status == 409 and "5.00 on 2026-06-17" in answer["message"] and "7.00 on 2026-06-17" in answer["message"]
    other = rt.api("POST", "/loans/L1/payments", body | {"reference": "bank-2026-06-17-0002"}, system=True)
    assert other[0] == 200  # a different payment
    assert len(rt.services.loans.get("L1").payments) == len(before.payments) + 2  # type: ignore[union-attr]
    status, answer = rt.api("POST", "/loans/L1/payments", {"date": "2026-06-17", "amount": "5.00"}, system=True)
    assert status == 422 and "reference" in answer["message"]  # the bank's reference is required


@pytest.mark.parametrize(
    "body",
    [
        '{"a":' * 3000 + "1" + "}" * 3000,  # 6 KB nested past Python's recursion limit
        '{"date": "2026-06-17", "amount": ' + "9" * 5000 + ', "reference": "bank-9"}',  # past int() limits
        json.dumps({f"k{n}": n for n in range(300_000)}),  # 4 MB of unknown keys
    ],
    ids=["deeply-nested", "huge-integer", "huge-body"],
)
def test_a_body_the_parser_cannot_hold_is_a_short_422_never_a_5xx(rt: MemoryRuntime, body: str) -> None:
    before = rt.services.loans.get("L1")
    status, answer = rt.api("POST", "/loans/L1/payments", body, system=True)
    assert status == 422, answer
    assert len(json.dumps(answer)) < 2_000  # the error says what is wrong, not every key it saw
    assert rt.services.loans.get("L1") == before
