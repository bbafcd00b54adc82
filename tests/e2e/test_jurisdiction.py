"""Jurisdiction by default: a loan naming no rule pack is under the one the deployment's jurisdiction
table chooses from its currency and its customer's country (Settings.jurisdiction_packs, docs/rules.md),
checked against that pack's bounds; a deployment can require a pack, and then refuses a loan mapping to
none with the setting to give."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dueflow.domain.book import iter_jsonl
from dueflow.domain.loan import FieldError
from dueflow.settings import JurisdictionPack, Settings
from dueflow_local.cli import app
from dueflow_local.runtime import open_runtime
from tests.e2e.conftest import borrower

runner = CliRunner()

US_CUSTOMER: dict[str, Any] = {
    "phone": "+12125550100",
    "email": "jane@example.com",
    "timezone": "America/New_York",
    "language": "en",
    "country": "US",
    "region": "NY",
}


def test_the_default_table_puts_a_cny_loan_under_cn_and_a_us_dollar_loan_in_the_us_under_us() -> None:
    packs = Settings().pack_selection()
    assert packs.pack_for("CNY", None) == "cn"
    assert packs.pack_for("CNY", "HK") == "cn"
    assert packs.pack_for("USD", "US") == "us"
    assert packs.pack_for("USD", "GB") is None  # a dollar loan elsewhere: no shipped pack
    assert packs.pack_for("EUR", "DE") is None
    # a fixed rule_pack overrides the table; an explicit table replaces it
    assert Settings(rule_pack="us").pack_selection().pack_for("CNY", "CN") == "us"
    only_eur = Settings(jurisdiction_packs=(JurisdictionPack(currency="EUR", pack="us"),))
    assert only_eur.pack_selection().pack_for("EUR", "DE") == "us"
    assert only_eur.pack_selection().pack_for("CNY", "CN") is None


def test_book_validate_refuses_a_cny_loan_outside_the_cn_penalty_bounds(tmp_path: Path) -> None:
    """A CNY loan names no pack, so the cn pack's penalty bounds (1.3 to 1.5, 银发〔2003〕251号) apply."""
    book = tmp_path / "book.jsonl"
    book.write_text("".join(iter_jsonl([borrower("L1", penalty_rate_multiplier="10"), borrower("L2")])))
    result = runner.invoke(app, ["book", "validate", str(book), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["good"] == 1 and report["bad"] == 1
    (error,) = report["errors"]
    assert (error["line"], error["loan_id"], error["field"]) == (1, "L1", "penalty_rate_multiplier")
    assert "cn rule pack allows 1.3 to 1.5" in error["reason"]


def test_a_loan_naming_no_pack_is_stored_under_the_table_s_pack_and_collected_by_its_calendar() -> None:
    """Installment 1 of a CNY loan from 2026-09-03 is due Saturday 10-03, National Day: under cn it is
    payable on 10-08, so no case opens before 10-09 (on contractual dates one would on 10-04)."""
    loan = borrower("L1", start_date="2026-09-03")
    assert loan.rules is None
    with open_runtime(
        "memory", Settings(environment="juris", index_shards=2), start=datetime(2026, 10, 1, tzinfo=UTC)
    ) as rt:
        rt.load_book([loan], date(2026, 10, 1))
        stored = rt.services.loans.get("L1")
        assert stored is not None and stored.rules == "cn"
        for day in range(2, 9):
            rt.run_day(date(2026, 10, day))
        assert rt.services.cases.latest_case_for_loan("L1") is None
        rt.run_day(date(2026, 10, 9))
        case = rt.services.cases.open_case_for_loan("L1")
        assert case is not None and case.opened_on == date(2026, 10, 9)


def test_a_deployment_that_requires_a_pack_refuses_a_loan_mapping_to_none_naming_the_setting() -> None:
    settings = Settings(environment="juris", index_shards=2, require_rule_pack=True)
    pound = borrower("G1", currency="USD", customer={**US_CUSTOMER, "country": "GB", "region": None})
    with open_runtime("memory", settings, start=datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        with pytest.raises(FieldError) as refused:
            rt.load_book([pound], date(2026, 6, 16))
        assert refused.value.field == "rules"
        assert "USD loan to a customer in GB" in refused.value.reason
        assert "Settings.jurisdiction_packs" in refused.value.reason
        assert rt.services.loans.get("G1") is None
        # a US customer's dollar loan maps to us
        rt.load_book([borrower("U1", currency="USD", customer=US_CUSTOMER)], date(2026, 6, 16))
        stored = rt.services.loans.get("U1")
        assert stored is not None and stored.rules == "us"
