"""Loan book validation: every bad line is reported with line, loan_id, field and reason."""

import json
from typing import Any

import pytest

from dueflow.domain.book import read_lines

GOOD: dict[str, Any] = {
    "loan_id": "L1",
    "customer_id": "C1",
    "principal": "12000.00",
    "annual_rate": "0.12",
    "term_months": 12,
    "start_date": "2026-01-31",
}


def line(**changes: Any) -> str:
    record = {**GOOD, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not None})


def test_a_good_line_loads_with_defaults() -> None:
    book = read_lines([line()])
    assert book.errors == []
    (loan,) = book.loans
    assert (loan.currency, loan.repayment_method, str(loan.penalty_rate_multiplier)) == (
        "CNY",
        "equal_installment",
        "1.5",
    )


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("{not json", "-", "bad JSON"),
        ("[1, 2]", "-", "JSON object"),
        (line(principal=None), "principal", "missing required field"),
        (line(principal="-5.00"), "principal", "negative"),
        (line(principal="0"), "principal", "greater than 0"),
        (line(principal="10.005"), "principal", "more than 2 decimal places"),
        (line(principal=1000.5), "principal", "decimal string"),
        (line(principal="abc"), "principal", "not a plain decimal"),
        (line(currency="XYZ"), "currency", "unknown ISO 4217"),
        (line(start_date="2026-02-30"), "start_date", "date"),
        (line(annual_rate="1.2"), "annual_rate", "below 1"),
        (line(term_months=0), "term_months", "must be at least 1"),
        (line(term_months=481), "term_months", "must be at most 480"),
        (line(payments=[{"date": "2025-12-01", "amount": "10.00"}]), "payments.0.date", "before start_date"),
        (line(payments=[{"date": "2026-03-01", "amount": "-10.00"}]), "payments.0.amount", "negative"),
        (line(customer={"phone": "12345"}), "customer.phone", "E.164"),
        (line(customer={"timezone": "Mars/Olympus"}), "customer.timezone", "unknown IANA time zone"),
        (line(customer={"language": "fr"}), "customer.language", "zh-CN"),
        (line(repayment_method="balloon"), "repayment_method", "equal_installment"),
        (line(surprise=1), "surprise", "unknown field"),
        (line(loan_id="bad/id"), "loan_id", "letters, digits"),
        (line(loan_id="-starts-with-a-dash"), "loan_id", "starting alphanumeric"),
        (
            line(
                term_months=2,
                installments=[
                    {"seq": 1, "due_date": "2026-02-28", "principal": "5000.00", "interest": "0"},
                    {"seq": 2, "due_date": "2026-03-31", "principal": "5000.00", "interest": "0"},
                ],
            ),
            "installments",
            "sums to 10000.00, not to the loan principal 12000.00",
        ),
        (
            line(
                term_months=2,
                installments=[
                    {"seq": 1, "due_date": "2026-03-31", "principal": "6000.00", "interest": "0"},
                    {"seq": 2, "due_date": "2026-02-28", "principal": "6000.00", "interest": "0"},
                ],
            ),
            "installments.1.due_date",
            "strictly increasing",
        ),
        (line(principal="482.40", term_months=480, repayment_method="equal_principal"), "term_months", "not viable"),
    ],
)
def test_each_kind_of_bad_line_names_the_field_and_reason(text: str, field: str, reason: str) -> None:
    book = read_lines([line(loan_id="OK1"), text])
    assert [loan.loan_id for loan in book.loans] == ["OK1"]  # the good line still loads
    assert book.errors, "the bad line must be reported"
    error = book.errors[0]
    assert error.line == 2
    assert error.field == field
    assert reason in error.reason
    if text.startswith('{"loan_id": "L1"'):
        assert error.loan_id == "L1"


def test_duplicate_loan_id_keeps_the_first_and_reports_the_second() -> None:
    book = read_lines([line(), "", line(principal="500.00")])
    assert len(book.loans) == 1 and book.loans[0].principal == 12000
    (error,) = book.errors
    assert (error.line, error.loan_id, error.field) == (3, "L1", "loan_id")
    assert "first seen on line 1" in error.reason
    assert str(error) == "line 3 loan_id=L1 field=loan_id: duplicate loan_id (first seen on line 1)"


def test_every_bad_line_is_reported_not_just_the_first() -> None:
    book = read_lines([line(loan_id=f"L{i}", principal="-1") for i in range(5)] + [line(loan_id="G")])
    assert book.rejected_lines == [1, 2, 3, 4, 5]
    assert [loan.loan_id for loan in book.loans] == ["G"]
    assert book.lines_read == 6


def test_every_field_error_of_a_line_is_reported_not_only_the_first() -> None:
    """A negative principal does not hide an out-of-range rate on the same line; all in the house style."""
    from dueflow.domain.book import read_lines

    book = read_lines([line(principal="-5", annual_rate="1.2", term_months=0)])
    fields = {error.field: error.reason for error in book.errors}
    assert set(fields) == {"principal", "annual_rate", "term_months"}
    assert fields["term_months"] == "must be at least 1"
    assert all(not reason.startswith("Input should") for reason in fields.values())
