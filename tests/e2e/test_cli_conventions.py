"""The CLI as people use it: -h, --version, --json on every reporting command, documented exit codes,
a non-empty --out refused, and one case's whole story in ``dueflow case show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dueflow.domain.book import iter_jsonl
from dueflow_local.cli import EXIT_CODES, app
from tests.e2e.conftest import borrower

runner = CliRunner()
NEW_YORK = {
    "name": "王芳",
    "phone": "+8613800138000",
    "email": "l1@example.com",
    "timezone": "America/New_York",
    "language": "en",
    "monthly_income": "20000.00",
    "monthly_expenses": "8000.00",
}
EVENTS = [
    {"date": "2026-06-18", "time": "10:00", "type": "opt_out", "loan_id": "L1", "channel": "sms"},
    {"date": "2026-06-19", "time": "11:00", "type": "complaint_opened", "loan_id": "L1"},
    {"date": "2026-06-22", "time": "11:00", "type": "complaint_resolved", "loan_id": "L1"},
    {
        "date": "2026-06-23",
        "time": "15:00",
        "type": "plan_proposed",
        "loan_id": "L1",
        "waive_penalty": "10.00",
        "months": 6,
    },
    {"date": "2026-06-23", "time": "16:00", "type": "plan_accepted", "loan_id": "L1"},
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 days of one loan already 94 days past due, whose customer lives in New York: an opt-out, a
    complaint, a plan with a waiver that breaks, then legal review."""
    folder = tmp_path_factory.mktemp("cli")
    book, events = folder / "book.jsonl", folder / "events.jsonl"
    book.write_text("".join(iter_jsonl([borrower("L1", start_date="2026-02-15", customer=NEW_YORK)])), encoding="utf-8")
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    out = folder / "run"
    args = ["simulate", "--book", str(book), "--events", str(events), "--start", "2026-06-17", "--days", "60"]
    result = runner.invoke(app, [*args, "--out", str(out), "--workers", "1", "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    headline = json.loads(result.stdout)
    assert headline["cases_opened"] == 1 and headline["audit_chains_verified"] is True
    return out


def test_version_and_short_help() -> None:
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("dueflow ")
    for args in (["-h"], ["simulate", "-h"], ["case", "show", "-h"], ["audit", "-h"]):
        shown = runner.invoke(app, args)
        assert shown.exit_code == 0 and "Usage:" in shown.stdout, args
    assert "Exit codes: 0 done; 1 a check failed" in runner.invoke(app, ["-h"]).stdout
    assert set(EXIT_CODES) == {0, 1, 2, 3}


def test_every_reporting_command_answers_one_json_object(run: Path, tmp_path: Path) -> None:
    book = run.parent / "book.jsonl"
    commands: list[list[str]] = [
        ["book", "validate", str(book)],
        ["statement", "--book", str(book), "--loan", "L1", "--as-of", "2026-07-01"],
        ["assess", "--book", str(book), "--as-of", "2026-07-01"],
        ["sample", "--out", str(tmp_path / "sample"), "--loans", "20"],
        ["case", "show", "L1", "--run", str(run)],
        ["case", "list", "--run", str(run)],
        ["audit", "verify", "--run", str(run)],
    ]
    for command in commands:
        result = runner.invoke(app, [*command, "--json"])
        assert result.exit_code == 0, (command, result.stderr)
        assert isinstance(json.loads(result.stdout), dict), command
    listed = json.loads(runner.invoke(app, ["case", "list", "--run", str(run), "--outcome", "open", "--json"]).stdout)
    assert listed["matched"] == 0  # the case closed


def test_exit_codes_say_what_happened(tmp_path: Path) -> None:
    book = tmp_path / "book.jsonl"
    good = next(iter_jsonl([borrower("L1")]))
    book.write_text(good + '{"loan_id": "L2", "principal": "-5", "annual_rate": "1.2"}\n', encoding="utf-8")
    assessed = runner.invoke(app, ["assess", "--book", str(book), "--as-of", "2026-07-01", "--json"])
    assert assessed.exit_code == 3 and json.loads(assessed.stdout)["loans"] == 1  # done, a line rejected
    for field in ("principal", "annual_rate", "customer_id"):  # every error of the line, not the first
        assert f"field={field}" in assessed.stderr
    assert runner.invoke(app, ["book", "validate", str(book)]).exit_code == 1  # the check failed
    usage = runner.invoke(app, ["assess", "--book", str(book), "--as-of", "tomorrow"])
    assert usage.exit_code == 2 and usage.stderr.startswith("Error: --as-of")
    assert runner.invoke(app, ["case", "show", "L9", "--run", str(tmp_path)]).exit_code == 2  # no run there


def test_a_non_empty_out_is_refused_unless_replaced_and_then_nothing_stale_is_left(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["simulate", "--generate", "20", "--seed", "4", "--start", "2026-03-01", "--days", "20", "--out", str(out)]
    assert runner.invoke(app, [*args, "--workers", "1"]).exit_code == 0
    stale = out / "audit" / "cases" / "STALE" / "STALE-2026-01-01" / "000001-case_opened.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}", encoding="utf-8")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    refused = runner.invoke(app, [*args, "--workers", "1"])
    assert refused.exit_code == 2 and "--replace" in refused.stderr
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # nothing touched
    assert runner.invoke(app, [*args, "--workers", "1", "--replace"]).exit_code == 0
    assert not stale.exists()
    assert runner.invoke(app, ["audit", "verify", "--run", str(out)]).exit_code == 0
    stranger = tmp_path / "mine"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me", encoding="utf-8")
    kept = runner.invoke(app, [*args[:-1], str(stranger), "--replace"])
    assert kept.exit_code == 2 and (stranger / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_case_show_tells_the_whole_story_in_order_with_both_local_times(run: Path) -> None:
    result = runner.invoke(app, ["case", "show", "L1", "--run", str(run), "--json"])
    assert result.exit_code == 0, result.stderr
    (case,) = json.loads(result.stdout)["cases"]
    assert (case["bank_zone"], case["customer_zone"]) == ("Asia/Shanghai", "America/New_York")
    assert case["dpd"] is not None and case["owed"] and case["bucket"]  # the position as of its last day
    events: list[dict[str, Any]] = case["events"]
    kinds = [e["kind"] for e in events]
    story = ["reply", "complaint", "complaint", "waiver", "plan proposed", "plan accepted", "plan broken", "legal"]
    positions = [
        kinds.index(kind, kinds.index(story[i - 1]) + 1 if i and story[i - 1] == kind else 0)
        for i, kind in enumerate(story)
    ]
    assert positions == sorted(positions), kinds
    opt_out = next(e for e in events if e["kind"] == "reply")
    assert "opted out of sms" in opt_out["detail"]
    # 10:00 in Shanghai on 06-18 is 22:00 the day before in New York (EDT, 12 hours behind)
    assert (opt_out["bank_time"], opt_out["customer_time"]) == ("2026-06-18 10:00", "2026-06-17 22:00")
    waiver = next(e for e in events if e["kind"] == "waiver")
    assert "penalty 10.00" in waiver["detail"] and "approved" in waiver["detail"]
    legal = next(e for e in events if e["kind"] == "legal")
    assert "claim" in legal["detail"] and "expected net" in legal["detail"]
    calls = [e for e in events if e["kind"] == "call task"]
    assert calls and all(e["detail"].startswith("Call script:") for e in calls)  # not the SMS text
    held = [e for e in events if e["record"] == "message_dropped"]
    assert any("opted out of sms" in e["detail"] for e in held)  # what the contact rules held back
    at = [e["at"] for e in events if e["at"]]
    assert at == sorted(at)
    table = runner.invoke(app, ["case", "show", "L1", "--run", str(run)])
    assert "customer's time (America/New_York)" in table.stdout and "bank time (Asia/Shanghai)" in table.stdout
