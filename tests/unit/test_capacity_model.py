"""The capacity model behind docs/deploy.md: it responds to the book, the shards and the sending rates
as the system would, and the figures committed in bench/results.json are its output for their inputs
(the prod settings of cdk.json), within both windows with a 2x margin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dueflow.settings import Settings
from dueflow_local.capacity import REQUIRED_MARGIN, markdown, project

ROOT = Path(__file__).resolve().parents[2]
RESULTS: dict[str, Any] = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
PROD = Settings.from_context(json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]["dueflow"], "prod")


def test_the_committed_projection_is_the_models_output_for_the_committed_inputs() -> None:
    assert RESULTS["capacity_10m"] == project(PROD, RESULTS, 10_000_000)


def test_at_10_million_loans_both_windows_hold_with_a_2x_margin() -> None:
    projection = project(PROD, RESULTS, 10_000_000)
    assert projection["scan"]["margin"] >= REQUIRED_MARGIN and projection["dispatcher"]["margin"] >= REQUIRED_MARGIN
    assert projection["within_windows"] is True
    assert projection["scan"]["window_s"] == 6 * 3600 and projection["dispatcher"]["window_s"] == 13 * 3600


def test_docs_deploy_md_shows_the_projection() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    shown = doc.split("<!-- capacity table: generated -->\n", 1)[1].split("<!-- end of capacity table -->", 1)[0]
    assert shown == markdown(RESULTS["capacity_10m"])


def test_volumes_grow_with_the_book_and_shards_and_rates_buy_time() -> None:
    small, large = project(PROD, RESULTS, 1_000_000), project(PROD, RESULTS, 10_000_000)
    assert large["scan"]["due_index_items"] == pytest.approx(10 * small["scan"]["due_index_items"], rel=1e-3)
    assert large["dispatcher"]["sms"] == pytest.approx(10 * small["dispatcher"]["sms"], rel=1e-3)
    assert large["scan"]["margin"] < small["scan"]["margin"]
    more_shards = project(PROD.model_copy(update={"index_shards": 32}), RESULTS, 10_000_000)
    assert more_shards["scan"]["items_per_shard"] == pytest.approx(large["scan"]["items_per_shard"] / 2, abs=1)
    assert more_shards["scan"]["wall_s"] < large["scan"]["wall_s"]
    default_rates = project(Settings(), RESULTS, 10_000_000)  # 14 e-mails, 20 SMS a second
    assert default_rates["dispatcher"]["wall_s"] > large["dispatcher"]["wall_s"]
    slow = project(PROD.model_copy(update={"ses_max_send_per_second": 5}), RESULTS, 10_000_000)
    assert slow["dispatcher"]["margin"] < REQUIRED_MARGIN and slow["within_windows"] is False
