"""``dueflow simulate`` on a small book with a hand-written event log: exact outcomes and counts."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from dueflow.domain.book import iter_jsonl
from dueflow.domain.loan import Loan
from dueflow_local.cli import app
from tests.e2e.conftest import borrower

runner = CliRunner()
SVG_NS = "http://www.w3.org/2000/svg"


def own_phone(loan: Loan, n: int) -> Loan:
    """Three customers, three phones (the contact caps are per customer, told apart by their numbers)."""
    assert loan.customer is not None
    return loan.model_copy(update={"customer": loan.customer.model_copy(update={"phone": f"+861380013800{n}"})})


def test_simulate_plays_the_event_log_and_reports_per_case_and_in_summary(tmp_path: Path) -> None:
    book = tmp_path / "book.jsonl"
    book.write_text(
        "".join(
            iter_jsonl(
                own_phone(loan, n)
                for n, loan in enumerate(
                    [borrower("L1"), borrower("L2", principal="3000.00"), borrower("L3", language="en")]
                )
            )
        ),
        encoding="utf-8",
    )
    events = tmp_path / "events.jsonl"
    lines = [
        {"date": "2026-06-18", "time": "12:00", "type": "payment", "loan_id": "L1", "amount": "1100.00"},
        {"date": "2026-06-18", "type": "plan_proposed", "loan_id": "L3", "role": "supervisor"},
        {"date": "2026-06-18", "time": "13:00", "type": "plan_accepted", "loan_id": "L3"},
        {"date": "2026-06-25", "time": "10:00", "type": "payment", "loan_id": "L3", "amount": "1070.00"},
        {"date": "2026-06-19", "type": "payment", "loan_id": "NOPE", "amount": "1.00"},
        {"date": "2026-06-19", "type": "teleport", "loan_id": "L1"},
    ]
    events.write_text("\n".join(json.dumps(line) for line in lines) + "\n{broken\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--workers",
            "1",  # the exact call counts below are one process's
            "--book",
            str(book),
            "--events",
            str(events),
            "--start",
            "2026-06-17",
            "--days",
            "10",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    # bad lines are reported with their line numbers, and the run went on
    assert "event line 5: unknown loan 'NOPE'" in result.stderr
    assert "event line 6: field type" in result.stderr
    assert "event line 7: bad JSON" in result.stderr
    cases = {c["loan_id"]: c for c in map(json.loads, (out / "cases.jsonl").read_text().splitlines())}
    assert {loan: c["outcome"] for loan, c in cases.items()} == {"L1": "CURED", "L2": "OPEN", "L3": "SETTLED"}
    assert cases["L2"]["stage"] == "Await response to second reminder"  # reminded twice, never answered
    assert [m["template"] for m in cases["L2"]["messages"]].count("second_reminder") == 2
    assert all(m["language"] == "en" for m in cases["L3"]["messages"])
    # every message time with its zone: the moment (UTC), the bank's date, the customer's date and time
    for message in (m for c in cases.values() for m in c["messages"]):
        moment = datetime.fromisoformat(message["at"])
        assert message["at"].endswith("Z") and (message["bank_zone"], message["zone"]) == ("Asia/Shanghai",) * 2
        assert moment.astimezone(ZoneInfo(message["bank_zone"])).date().isoformat() == message["bank_date"]
        local = moment.astimezone(ZoneInfo(message["zone"]))
        assert (local.date().isoformat(), local.strftime("%H:%M")) == (message["local_date"], message["local_time"])
    assert all(c["audit_chain_ok"] for c in cases.values())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["loans"] == 3 and summary["cases_opened"] == 3
    assert summary["cases_by_outcome"] == {"CURED": 1, "OPEN": 1, "SETTLED": 1}
    assert (
        summary["plans"]["proposed"] == 1 and summary["plans"]["accepted"] == 1 and summary["plans"]["completed"] == 1
    )
    assert summary["audit_chains_verified"] is True
    assert summary["events_applied"] == 4
    assert len(summary["event_problems"]) == 3
    assert summary["messages_by_channel"]["sms"] >= 4
    assert date.fromisoformat(summary["start"]) == date(2026, 6, 17)
    # what the run cost: every AWS call counted by service, priced per month
    aws = summary["aws"]
    assert aws["calls_by_service"]["stepfunctions"] >= 3  # three StartExecutions at least
    assert aws["calls"]["stepfunctions"]["StartExecution"] == 3
    assert aws["calls"]["sesv2"]["SendEmail"] == summary["messages_by_channel"].get("email", 0)
    assert aws["calls"]["sns"]["Publish:sms"] == summary["messages_by_channel"]["sms"]
    assert aws["lambda_invocations"]["scan"] == 10  # once a simulated day
    assert aws["state_transitions"] > 0
    assert float(aws["monthly_cost_usd"]["total"]) > 0
    # the report: one self-contained page with every part the issue names
    page = (out / "report.html").read_text(encoding="utf-8")
    for heading in (  # the settings' language: zh-CN
        "催收成效",
        "案件到达的阶段",
        "每日新建与结案",
        "逾期段月度迁徙率",
        "回收曲线",
        "每日各渠道触达",
        "未结案件（1）",
    ):
        assert heading in page
    assert page.count("<svg") >= 5 and "<script" not in page and "http://" not in page.replace(SVG_NS, "")
    assert "L2" in page  # the open case is listed with its next action
    daily = json.loads((out / "daily.json").read_text())
    assert len(daily) == 10 and sum(d["opened"] for d in daily) == 3 and sum(d["cured"] for d in daily) == 1

    # case show: one loan's timeline, from the files the run left
    shown = runner.invoke(app, ["case", "show", "L3", "--run", str(out), "--execution"])
    assert shown.exit_code == 0, shown.stdout
    assert "SETTLED" in shown.stdout and "Await plan event" in shown.stdout and "1070.00 paid on" in shown.stdout
    # with its execution history in the console's terms, from the plan's acceptance to the close
    assert "ExecutionStarted" in shown.stdout and "ExecutionSucceeded" in shown.stdout
    (l3,) = [c for c in map(json.loads, (out / "cases.jsonl").read_text().splitlines()) if c["loan_id"] == "L3"]
    entered = [detail for _, kind, detail in l3["execution"] if kind.endswith("StateEntered")]
    assert entered[:4] == ["New or continued case?", "Confirm overdue", "First contact", "Await response"]
    assert entered[-2:] == ["Closed: settled", "Closed: settled: done"]
    assert runner.invoke(app, ["case", "show", "NOPE", "--run", str(out)]).exit_code == 1

    # audit verify: every chain verifies; then one edited record and one removed record are caught
    verified = runner.invoke(app, ["audit", "verify", "--run", str(out)])
    assert verified.exit_code == 0 and "all 3 case chains verify" in verified.stdout
    l1 = sorted((out / "audit" / "cases" / "L1").rglob("*.json"))
    edited = l1[1]
    edited.write_bytes(edited.read_bytes().replace(b'"seq":2', b'"seq":2 '))
    l2 = sorted((out / "audit" / "cases" / "L2").rglob("*.json"))
    l2[2].unlink()
    tampered = runner.invoke(app, ["audit", "verify", "--run", str(out)])
    assert tampered.exit_code == 1
    assert "2 of 3 case chains failed" in tampered.stderr
    assert "prev_hash does not match" in tampered.stdout and "missing records" in tampered.stdout
