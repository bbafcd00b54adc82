"""A simulation with injected faults keeps every invariant and ends as the same run without faults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dueflow_local.cli import app

runner = CliRunner()
FAULTS = (
    "ses:SendEmail=0.2,sns:Publish=0.2,s3:PutObject=0.1,dynamodb:*=0.05,states:SendTaskSuccess=0.1,"
    "crash:after_send=0.05"
)
RUN = ["simulate", "--generate", "60", "--seed", "3", "--start", "2026-03-01", "--days", "40"]


def simulate(out: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, [*RUN, "--out", str(out), *extra])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def test_a_faulty_run_keeps_every_invariant_and_the_outcomes_of_a_clean_run(tmp_path: Path) -> None:
    clean = simulate(tmp_path / "clean")
    assert clean["faults"] is None
    assert clean["invariants"]["violations_total"] == 0, clean["invariants"]
    # the run is rich enough for the invariants to mean something
    assert clean["cases_opened"] >= 10 and len(clean["cases_by_outcome"]) >= 3
    assert clean["messages_by_channel"]["sms"] > 20 and clean["messages_by_channel"]["email"] > 20

    faulty = simulate(tmp_path / "faulty", "--faults", FAULTS, "--baseline", str(tmp_path / "clean"))
    faults = faulty["faults"]
    for target in ("sesv2:SendEmail", "sns:Publish", "s3:PutObject", "dynamodb:UpdateItem", "dynamodb:Query"):
        assert faults["injected"].get(target, 0) > 0, target
    assert faults["crashes_after_send"] > 0
    assert faults["failed_invocations"].get("outbox_dispatcher", 0) >= faults["crashes_after_send"]
    # each message whose dispatcher crashed after sending was settled as unconfirmed (none resent)
    assert 0 < faulty["messages_unconfirmed"] <= faults["crashes_after_send"]
    assert clean["messages_unconfirmed"] == 0

    checked = faulty["invariants"]
    assert "outcomes_match_baseline" in checked
    assert checked["violations_total"] == 0, checked
    assert faulty["cases_by_outcome"] == clean["cases_by_outcome"]
    assert faulty["audit_chains_verified"] is True


@pytest.mark.parametrize("rate", ["0.15", "0.3"])
def test_at_every_service_failing_at_a_rate_no_case_is_lost_and_the_outcomes_are_the_clean_runs(
    tmp_path: Path, rate: str
) -> None:
    """Every call of every service fails at ``rate`` per attempt (and dispatchers crash after sends): every
    case still progresses or closes (no_stuck_case), every message a provider accepted is on the record
    (messages_on_record), and every case ends as in the clean run (outcomes_match_baseline)."""
    clean = simulate(tmp_path / "clean")
    plan = ",".join(f"{s}={rate}" for s in ("dynamodb:*", "s3:PutObject", "sns:Publish", "ses:SendEmail", "states:*"))
    faulty = simulate(
        tmp_path / "faulty", "--faults", f"{plan},crash:after_send=0.05", "--baseline", str(tmp_path / "clean")
    )
    checked = faulty["invariants"]
    assert faulty["faults"]["injected_total"] > 1000 and faulty["faults"]["failed_invocations"]
    assert checked["violations_total"] == 0, checked
    assert faulty["cases_by_outcome"] == clean["cases_by_outcome"]
