"""The dueflow CLI on small books: validate, statement, assess, generate."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dueflow.domain.book import read_book
from dueflow_local.cli import app
from tests.unit.domain.test_book import line

runner = CliRunner()


def write_book(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "book.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_validate_reports_each_bad_line_and_exits_non_zero(tmp_path: Path) -> None:
    book = write_book(
        tmp_path,
        line(),
        line(loan_id="L2", currency="XYZ"),
        "{oops",
        line(),  # duplicate of line 1
    )
    result = runner.invoke(app, ["book", "validate", str(book)])
    assert result.exit_code == 1
    assert "line 2 loan_id=L2 field=currency: unknown ISO 4217 currency 'XYZ'" in result.stdout
    assert "line 3 field=-: bad JSON" in result.stdout
    assert "line 4 loan_id=L1 field=loan_id: duplicate loan_id" in result.stdout
    assert "4 lines: 1 good, 3 bad" in result.stderr


def test_validate_a_clean_book_exits_zero(tmp_path: Path) -> None:
    result = runner.invoke(app, ["book", "validate", str(write_book(tmp_path, line(), line(loan_id="L2")))])
    assert result.exit_code == 0
    assert "2 lines: 2 good, 0 bad" in result.stderr


def test_statement_json_for_one_loan(tmp_path: Path) -> None:
    book = write_book(tmp_path, line(payments=[{"date": "2026-02-28", "amount": "1066.19"}]), "not json")
    result = runner.invoke(app, ["statement", "--book", str(book), "--loan", "L1", "--as-of", "2026-05-10", "--json"])
    assert result.exit_code == 3, result.stderr  # done, but a line of the book was rejected
    data = json.loads(result.stdout)
    assert (data["loan_id"], data["dpd"], data["bucket"], data["total_overdue"]) == ("L1", 40, "M2", "2159.03")
    assert [i["seq"] for i in data["installments"]] == [2, 3]
    # the rejected line is listed, on stderr so that stdout stays one JSON object
    assert "1 of 2 lines rejected" in result.stderr and "line 2" in result.stderr


def test_statement_table_and_unknown_loan(tmp_path: Path) -> None:
    book = write_book(tmp_path, line())
    table = runner.invoke(app, ["statement", "--book", str(book), "--loan", "L1", "--as-of", "2026-03-10"])
    assert table.exit_code == 0 and "DPD 10" in table.stdout and "total overdue" in table.stdout
    missing = runner.invoke(app, ["statement", "--book", str(book), "--loan", "NOPE", "--as-of", "2026-03-10"])
    assert missing.exit_code == 1 and "'NOPE'" in missing.stderr


def test_bad_as_of_date_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["assess", "--book", str(write_book(tmp_path, line())), "--as-of", "2026-13-01"])
    assert result.exit_code == 2 and "--as-of: '2026-13-01' is not a calendar date" in result.stderr


def test_assess_json_counts_buckets_and_warnings(tmp_path: Path) -> None:
    book = write_book(
        tmp_path,
        line(loan_id="CURRENT", start_date="2026-04-28"),  # first due 05-28: due soon on 05-26
        line(loan_id="LATE", start_date="2026-03-01"),  # due 04-01 unpaid: 55 DPD
        line(loan_id="DEEP", start_date="2025-09-01"),  # due 2025-10-01 unpaid: 237 DPD
        line(loan_id="BAD", principal="-1"),
    )
    result = runner.invoke(app, ["assess", "--book", str(book), "--as-of", "2026-05-26", "--json"])
    assert result.exit_code == 3, result.stderr  # the BAD line was rejected: not a clean exit
    data = json.loads(result.stdout)
    assert (data["loans"], data["overdue_loans"]) == (3, 2)
    assert data["by_bucket"]["M0"]["loans"] == 1
    assert data["by_bucket"]["M2"]["loans"] == 1
    assert data["by_bucket"]["M7+"]["loans"] == 1
    assert data["by_classification"]["substandard"]["loans"] == 1
    assert data["early_warning"]["due_soon"] == 1
    assert data["rejected_lines"] == [4]


def test_generate_is_reproducible_and_valid(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        result = runner.invoke(app, ["book", "generate", "--loans", "200", "--seed", "3", "--out", str(path)])
        assert result.exit_code == 0, result.stderr
    assert first.read_text() == second.read_text()
    book = read_book(first)
    assert len(book.loans) == 200 and book.errors == []
    assert {loan.product for loan in book.loans} == {"consumer", "auto", "mortgage", "sme"}


def test_sample_prints_the_delinquency_picture(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "--out", str(tmp_path), "--loans", "300", "--seed", "7"])
    assert result.exit_code == 0, result.stderr
    assert "300 loans as of 2026-06-30" in result.stdout
    for expected in ("M7+", "special_mention", "逾期账单", "Early warning"):
        assert expected in result.stdout
    assert (tmp_path / "book.jsonl").exists()
