"""The two worlds side by side: a seeded simulation played on moto (the AWS adapters, moto's Step
Functions interpreter) and on the in-memory world (the in-memory adapters, the local executor) ends the
same, case by case: the same outcome, the same sequence of stages, the same messages, the same calls.

(The e2e paths run on both worlds too: tests/e2e/conftest.py. The definition's edges are driven on both
interpreters in test_definition_edges.py.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dueflow_local.cli import app

runner = CliRunner()
RUN = ["simulate", "--generate", "60", "--seed", "3", "--start", "2026-03-01", "--days", "40"]


def simulate(out: Path, backend: str) -> tuple[dict[str, Any], dict[str, Any]]:
    result = runner.invoke(app, [*RUN, "--out", str(out), "--backend", backend])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    summary = json.loads((out / "summary.json").read_text())
    cases = {
        c["case_id"]: {
            "outcome": c["outcome"],
            "stages": [s["stage"] for s in c["stages"]],
            # messages by day (two sent in one dispatcher tick may go in either order)
            "messages": sorted((m["bank_date"], m["channel"], m["template"]) for m in c["messages"]),
            "audit_records": c["audit_records"],
            "recovered": c["recovered"],
        }
        for c in map(json.loads, (out / "cases.jsonl").read_text().splitlines())
    }
    return summary, cases


def test_a_seeded_simulation_ends_the_same_on_moto_and_in_memory(tmp_path: Path) -> None:
    moto_summary, moto_cases = simulate(tmp_path / "moto", "moto")
    memory_summary, memory_cases = simulate(tmp_path / "memory", "memory")
    assert (moto_summary["backend"], memory_summary["backend"]) == ("moto", "memory")
    # the run is rich enough to compare: several outcomes, plans, reminders on every channel
    assert len(moto_cases) >= 10 and len(moto_summary["cases_by_outcome"]) >= 3
    assert moto_summary["plans"]["accepted"] > 0 and moto_summary["messages_by_channel"].get("call", 0) > 0
    assert sorted(memory_cases) == sorted(moto_cases)
    for case_id, on_moto in moto_cases.items():
        assert memory_cases[case_id] == on_moto, case_id
    for key in ("cases_by_outcome", "stage_funnel", "messages_by_channel", "plans", "recovered", "audit_records"):
        assert memory_summary[key] == moto_summary[key], key
    assert memory_summary["invariants"]["violations_total"] == moto_summary["invariants"]["violations_total"] == 0
    # each world's records verify against its own signed daily digests (a KMS key on moto, a local one)
    for world in ("moto", "memory"):
        key = tmp_path / world / "signing-key.pem"
        verified = runner.invoke(app, ["audit", "verify", "--run", str(tmp_path / world), "--public-key", str(key)])
        assert verified.exit_code == 0 and "every record is the one sealed" in verified.stdout, verified.output
    # the same AWS calls, counted in each world where they would be made. moto's own Lambda invocations of
    # the handlers are Step Functions' on AWS (counted as invocations instead). moto runs each execution in
    # threads, so a stage task and an API call may append to one case's audit chain at once: the loser of
    # the conditional claim reads and tries again, a few calls more than the single-threaded world makes
    moto_calls = {k: v for k, v in moto_summary["aws"]["calls_by_service"].items() if k != "lambda"}
    memory_calls = memory_summary["aws"]["calls_by_service"]
    assert set(memory_calls) == set(moto_calls)
    for service, calls in moto_calls.items():
        assert calls * 0.97 <= memory_calls[service] <= calls, service
    assert memory_summary["aws"]["state_transitions"] == moto_summary["aws"]["state_transitions"]


def test_two_workers_end_as_one_process_does(tmp_path: Path) -> None:
    """The book split by customer across two processes: the same cases, outcomes, stages and messages
    (only provider message ids, and so the audit heads, and the index queries per process differ)."""
    one = runner.invoke(app, [*RUN, "--out", str(tmp_path / "one"), "--workers", "1"])
    two = runner.invoke(app, [*RUN, "--out", str(tmp_path / "two"), "--workers", "2"])
    assert one.exit_code == two.exit_code == 0, (one.stdout, two.stdout)
    single, split = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("one", "two"))
    assert (single["workers"], split["workers"]) == (1, 2)
    for key in ("cases_by_outcome", "stage_funnel", "messages_by_channel", "plans", "recovered", "roll_rates"):
        assert split[key] == single[key], key
    assert split["invariants"]["violations_total"] == 0

    def lines(folder: str) -> dict[str, Any]:
        cases = map(json.loads, (tmp_path / folder / "cases.jsonl").read_text().splitlines())
        return {c["case_id"]: {k: v for k, v in c.items() if k != "audit_head"} for c in cases}

    assert lines("two") == lines("one")
    daily = [json.loads((tmp_path / d / "daily.json").read_text()) for d in ("one", "two")]
    assert daily[0] == daily[1]
