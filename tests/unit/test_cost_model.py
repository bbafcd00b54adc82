"""The cost model behind docs/deploy.md: it scales with the book, and the doc shows its current output."""

from __future__ import annotations

from pathlib import Path

from dueflow_local.cost import monthly_cost, table


def test_cost_grows_with_the_book_and_fixed_costs_do_not() -> None:
    small, large = monthly_cost(10_000), monthly_cost(1_000_000)
    assert large["SMS (SNS)"] == small["SMS (SNS)"] * 100
    assert large["WAF, dashboard, alarms"] == small["WAF, dashboard, alarms"]
    assert sum(large.values()) > sum(small.values()) * 50


def test_docs_deploy_md_shows_the_current_table() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert table() in doc, "regenerate: .venv/bin/python -m dueflow_local.cost"
