"""``dueflow invoke FUNCTION events/FILE.json`` runs every sample event through its real handler on moto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dueflow_local.cli import app

EVENTS = Path(__file__).resolve().parents[3] / "events"
runner = CliRunner()
SAMPLES = sorted(p.name for p in EVENTS.glob("*.json"))


def test_there_is_a_sample_event_for_every_function() -> None:
    functions = {name.split("-", 1)[0] for name in SAMPLES}
    deployed = {p.name for p in (EVENTS.parent / "functions").iterdir() if (p / "handler.py").exists()}
    assert functions == deployed


@pytest.mark.parametrize("sample", SAMPLES)
def test_each_sample_event_runs_locally(sample: str) -> None:
    function = sample.split("-", 1)[0]
    result = runner.invoke(app, ["invoke", function, str(EVENTS / sample), "--book", str(EVENTS / "book.jsonl")])
    assert result.exit_code == 0, (result.stderr, result.exception)
    output = json.loads(result.stdout)
    if function == "api":
        assert output["statusCode"] == 200, output
    if sample == "scan-daily.json":
        assert output["cases_opened"] == 1 and output["reminders_queued"] == 2  # E0001 overdue, E0002 due soon
    if sample == "payment_stream-payment.json":
        assert output == {"batchItemFailures": []}


def test_an_unknown_function_is_a_usage_error() -> None:
    result = runner.invoke(app, ["invoke", "nope", str(EVENTS / "scan-daily.json")])
    assert result.exit_code == 2 and "unknown function" in result.stderr
