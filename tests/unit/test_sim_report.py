"""The pieces of a simulation's outputs: roll rates, next actions, stage names, the report page and
the measured cost, on hand-made inputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dueflow_local.cost import PRICES, measured_monthly_cost
from dueflow_local.report import render_report, roll_rate_table
from dueflow_local.simulate import case_days, next_action, roll_rates, stage_name


def test_roll_rates_count_each_loan_from_one_month_end_bucket_to_the_next() -> None:
    snapshots = [
        {"A": "M0", "B": "M0", "C": "M1", "D": "M2"},
        {"A": "M0", "B": "M1", "C": "M0", "D": "M3"},
        {"A": "M1", "B": "M2", "C": "M0", "D": "M4"},
    ]
    assert roll_rates(snapshots) == {
        "M0": {"M0": 2, "M1": 2},  # A stays then rolls; B rolls; C cured then stays
        "M1": {"M0": 1, "M2": 1},
        "M2": {"M3": 1},
        "M3": {"M4": 1},
    }
    assert roll_rates(snapshots[:1]) == {}


def test_the_roll_rate_table_shows_shares_of_each_row() -> None:
    table = roll_rate_table({"M0": {"M0": 3, "M1": 1}})
    assert "75.0%" in table and "25.0%" in table and "M0 (4)" in table


def test_next_action_says_what_happens_next_in_plain_words() -> None:
    assert next_action({"stage": "Await response", "wake_on": "2026-07-01"}) == (
        "waiting for payment or a reply; next step on 2026-07-01"
    )
    assert next_action({"stage": "Await plan event", "wake_on": "2026-07-05"}).startswith("plan in force")
    assert "paused" in next_action({"stage": "Await response", "complaint_open": True})
    assert next_action({"stage": "Legal review"}).startswith("legal team")


def test_stage_names_are_the_console_names() -> None:
    assert stage_name("confirm_overdue", "OPEN") == "Confirm overdue"
    assert stage_name("close", "CURED") == "Closed: cured"
    assert stage_name("Closed: LITIGATION", "LITIGATION") == "Closed: litigation"
    assert stage_name("Await agreement", "OPEN") == "Await agreement"


def _summary() -> dict[str, object]:
    return {
        "loans": 3,
        "days": 2,
        "start": "2026-06-01",
        "cases_opened": 1,
        "cases_by_outcome": {"OPEN": 1},
        "plans": {"proposed": 0, "accepted": 0, "completed": 0, "broken": 0},
        "recovered": "0.00",
        "overdue_at_start": "10.00",
        "overdue_at_end": "12.00",
        "complaints": 0,
        "messages_by_channel": {"sms": 2},
        "audit_chains_verified": True,
        "aws": {"monthly_cost_usd": {"total": "15.00"}},
        "stage_funnel": {"Confirm overdue": 1, "First contact": 1},
        "roll_rates": {"M0": {"M1": 1}},
    }


def test_the_report_is_one_offline_page_and_escapes_what_it_shows() -> None:
    daily = [
        {"date": "2026-06-01", "open": 1, "opened": 1, "cured": 0, "closed_other": 0, "messages": {"sms": 2},
         "recovered_to_date": "0"},
        {"date": "2026-06-02", "open": 1, "opened": 0, "cured": 0, "closed_other": 0, "messages": {},
         "recovered_to_date": "5.00"},
    ]  # fmt: skip
    hostile = {
        "loan_id": "<script>alert(1)</script>",
        "case_id": "c1",
        "opened": "2026-06-01",
        "closed": None,
        "outcome": "OPEN",
        "stage": "Await response",
        "next_action": "x & y",
        "dpd_at_end": 3,
        "owed_at_end": "10.00",
        "recovered": "0.00",
    }
    page = render_report(_summary(), daily, [hostile], "en")
    assert page.startswith("<!doctype html>") and "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "x &amp; y" in page
    assert page.count("<svg") == 5  # recovery, opened/closed, open cases, stages reached, contacts
    assert "<link" not in page and "src=" not in page


def test_measured_cost_prices_each_counted_call_and_scales_to_a_month() -> None:
    calls = {
        "dynamodb": {"GetItem": 1000, "Query": 500, "PutItem": 300, "UpdateItem": 200},
        "sns": {"Publish:sms": 100, "Publish": 10},
        "sesv2": {"SendEmail": 50},
        "s3": {"PutObject": 40},
        "kms": {"Decrypt": 20},
    }
    cost = measured_monthly_cost(calls, lambda_invocations=0, state_transitions=0, api_requests=0, days=15)
    price = {k: v[0] for k, v in PRICES.items()}
    assert cost["SMS (SNS)"] == ((100 * price["sns_sms"] + 10 * price["sns_publish"]) * 2).quantize(Decimal("0.01"))
    assert cost["SMS (SNS)"] == Decimal("4.00")  # 100 SMS in 15 days is 200 a month at 0.02
    assert cost["Email (SES)"] == Decimal("0.01")  # 100 a month at 0.0001
    assert cost["DynamoDB"] == Decimal("0.00")  # 3,000 reads and 1,000 writes a month cost under a cent
    assert cost["Step Functions"] == Decimal("0.00")


def test_case_days_count_each_day_a_case_was_open_within_the_run() -> None:
    cases = [
        {"opened": "2026-06-01", "closed": "2026-06-01"},  # opened and cured the same day: 1
        {"opened": "2026-06-01", "closed": "2026-06-10"},  # 10
        {"opened": "2026-06-25", "closed": None},  # still open on the last day, 2026-06-30: 6
    ]
    assert case_days(cases, date(2026, 6, 30)) == 17


def test_the_report_shows_each_invariant_and_the_first_violation() -> None:
    summary = _summary() | {
        "invariants": {
            "no_stuck_case": {"violations": 0, "examples": []},
            "contact_window": {"violations": 2, "examples": ["sms to loan <L1> at 2026-06-01 22:10 local"]},
            "violations_total": 2,
        },
        "faults": {"plan": "sns:Publish=0.2", "injected_total": 7, "crashes_after_send": 1},
    }
    page = render_report(summary, [], [], "en")
    section = page[page.index("<h3>Invariants</h3>") : page.index("<h3>AWS calls and cost</h3>")]
    assert "no case stuck</td><td" in section and "holds" in section
    assert "2 violations" in section and "sms to loan &lt;L1&gt; at 2026-06-01 22:10 local" in section
    assert "sns:Publish=0.2): 7 failed attempts, 1 crashes after a send" in section
    assert page.index("Cure rate") < page.index("<h3>Invariants</h3>")  # business first, engineering last
    assert "<h3>Invariants</h3>" not in render_report(_summary(), [], [], "en")
