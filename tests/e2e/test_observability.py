"""Every log line of a case's stage tasks carries the case id as its correlation id, and the next
invocation starts clean."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

from dueflow.settings import Settings
from dueflow_local.runtime import open_runtime
from tests.e2e.conftest import borrower

CASE = "L1-2026-06-15"


def test_stage_lines_carry_the_case_id_as_correlation_id(handler_logs: io.StringIO) -> None:
    settings = Settings(environment="obs", index_shards=2)
    with open_runtime("memory", settings, datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17))
    lines = [json.loads(line) for line in handler_logs.getvalue().splitlines()]
    stages = [line for line in lines if line.get("message") == "stage done"]
    assert [line["stage"] for line in stages] == ["confirm_overdue", "first_contact"]
    assert all(line["correlation_id"] == CASE and line["case_id"] == CASE for line in stages)
    # invocations that are about no case carry none: the scan's and the dispatcher's lines
    others = [line for line in lines if line.get("message") in ("scan finished", "dispatch finished")]
    assert len(others) >= 2 and all("correlation_id" not in line and "case_id" not in line for line in others)
