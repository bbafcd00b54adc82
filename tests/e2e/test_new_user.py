"""What a new user meets first, on the commands the README shows: a short run ends cleanly even with a
promise not yet due, ``--json`` prints JSON alone, handler logs go to the run folder (each line with its
function's service), and the console's lines are whole lines."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from dueflow_local.cli import app

runner = CliRunner()
SHORT = ["simulate", "--generate", "50", "--seed", "1", "--start", "2026-03-01", "--days", "20"]


def test_a_short_run_with_a_promise_still_pending_ends_cleanly_and_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, [*SHORT, "--out", str(tmp_path / "q")])
    assert result.exit_code == 0, (result.stdout, result.exception)
    summary = json.loads((tmp_path / "q" / "summary.json").read_text())
    promises = summary["promises"]
    assert promises["made"] > promises["kept"] + promises["broken"] and promises["kept_rate"] is None
    lines = result.stdout.splitlines()
    assert any(line.startswith("promises to pay:") and "pending" in line for line in lines)
    # each summary line whole, however long (not wrapped off a terminal)
    invariants = next(line for line in lines if line.startswith("invariants:"))
    assert invariants.endswith("no_third_party_contact)") and len(invariants) > 140


def test_json_output_is_json_alone_and_the_handler_logs_are_in_the_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "q"
    result = runner.invoke(app, [*SHORT, "--out", str(out), "--json", "--log-level", "info"])
    assert result.exit_code == 0, (result.stdout, result.exception)
    payload = json.loads(result.stdout)  # one JSON document, no log line mixed in
    assert payload["loans"] == 50 and payload["out"] == str(out)
    logs = [json.loads(line) for line in (out / "logs.jsonl").read_text().splitlines()]
    services = Counter(line["service"] for line in logs)
    assert services and all(s.startswith("dueflow-") and s != "service_undefined" for s in services), services
    assert {"dueflow-sim-scan", "dueflow-sim-case_stage"} <= set(services)
    assert not list(out.glob("logs-*.jsonl"))  # the workers' parts gathered into one file
    quiet = runner.invoke(app, [*SHORT, "--out", str(out), "--replace", "--log-level", "ERROR"])
    assert quiet.exit_code == 0 and (out / "logs.jsonl").read_text() == ""


def test_an_unknown_log_level_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, [*SHORT, "--out", str(tmp_path / "q"), "--log-level", "loud"])
    assert result.exit_code == 2 and "--log-level" in result.stderr


def test_case_list_refuses_unknown_filters_and_shows_the_amount_owed_and_case_show_takes_a_case_id(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    run = ["simulate", "--generate", "300", "--seed", "7", "--start", "2026-03-01", "--days", "60", "--out", str(out)]
    assert runner.invoke(app, run).exit_code == 0
    for option, value, allowed in (
        ("--outcome", "FOO", "CURED"),
        ("--bucket", "M9", "M7+"),
        ("--stage", "nope", "Await response"),
    ):
        refused = runner.invoke(app, ["case", "list", "--run", str(out), option, value])
        assert refused.exit_code == 2 and option in refused.stderr and allowed in refused.stderr, refused.stderr
    listed = json.loads(runner.invoke(app, ["case", "list", "--run", str(out), "--json", "--limit", "1000"]).stdout)
    assert all("owed_at_end" in c and c["currency"] for c in listed["cases"])
    second = [c for c in listed["cases"] if c["case_id"].endswith("-e2")]
    assert second, "the run has a loan's second case"
    shown = runner.invoke(app, ["case", "show", second[0]["case_id"], "--run", str(out), "--json"])
    assert shown.exit_code == 0, shown.stderr
    assert [t["case_id"] for t in json.loads(shown.stdout)["cases"]] == [second[0]["case_id"]]
    by_loan = runner.invoke(app, ["case", "show", second[0]["loan_id"], "--run", str(out), "--json"])
    assert len(json.loads(by_loan.stdout)["cases"]) >= 2
