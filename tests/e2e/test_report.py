"""The report read as a collections manager reads it, checked against independent sources: each card is
its figure in summary.json; the KPIs are recomputed from cases.jsonl and from the ledger (the input book
and the payments of the event log, through the domain engine), not from DueFlow's own records; the page
is responsive, accessible and in the language asked for."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from dueflow.domain.book import read_book
from dueflow.domain.loan import Payment
from dueflow.domain.position import assess
from dueflow_local.cli import app
from dueflow_local.report import Page, render_report

runner = CliRunner()
DAYS = 60


class Parsed(HTMLParser):
    """What the tests read off the page: the root's lang, metas, cards, SVGs, tables."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.metas: list[dict[str, str]] = []
        self.cards: dict[str, str] = {}
        self.svgs: list[dict[str, str]] = []
        self.svg_titles: dict[str, str] = {}
        self.tables = 0
        self.captions = 0
        self.headers: list[dict[str, str]] = []
        self._card: str | None = None
        self._in_b = False
        self._title_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "meta":
            self.metas.append(a)
        elif tag == "div" and "data-kpi" in a:
            self._card = a["data-kpi"]
        elif tag == "b" and self._card:
            self._in_b = True
        elif tag == "svg":
            self.svgs.append(a)
        elif tag == "title" and "id" in a:
            self._title_id = a["id"]
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th":
            self.headers.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "b":
            self._in_b = False
            self._card = None
        elif tag == "title":
            self._title_id = None

    def handle_data(self, data: str) -> None:
        if self._in_b and self._card:
            self.cards[self._card] = self.cards.get(self._card, "") + data
        if self._title_id:
            self.svg_titles[self._title_id] = self.svg_titles.get(self._title_id, "") + data


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    args = ["simulate", "--generate", "300", "--seed", "11", "--start", "2026-03-01", "--days", str(DAYS)]
    result = runner.invoke(app, [*args, "--out", str(out), "--lang", "zh-CN", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    return out


def read(run: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    cases = [json.loads(line) for line in (run / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    daily = json.loads((run / "daily.json").read_text(encoding="utf-8"))
    return summary, cases, daily


def parse(page: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(page)
    return parsed


def test_each_card_is_its_figure_in_summary_json(run: Path) -> None:
    summary, _, _ = read(run)
    page = parse((run / "report.html").read_text(encoding="utf-8"))
    p, k = Page("zh-CN", "CNY"), summary["kpis"]
    assert page.cards["cases_opened"] == p.number(summary["cases_opened"])
    assert page.cards["recovered"] == p.money(summary["recovered"]) == p.money(k["recovered"])
    assert page.cards["amount_in_collection"] == p.money(k["amount_in_collection"])
    assert page.cards["waivers_granted"] == p.money(summary["waivers_granted"])
    for rate in ("cure_rate", "settle_rate", "recovery_rate", "liquidation_rate", "promise_kept_rate"):
        assert page.cards[rate] == p.percent(k[rate]), rate
    assert page.cards["overdue_at_start"] == p.money(summary["overdue_at_start"])
    text = (run / "report.html").read_text(encoding="utf-8")
    aging = summary["aging"]
    for bucket in ("M1", "M2"):  # the aging table's cells: the summary's amounts and loan counts
        end = aging["end"][bucket]
        assert f"{p.money(end['total_overdue'])} ({end['loans']})" in text
    assert page.cards["overdue_at_end"] == p.money(summary["overdue_at_end"])


def test_the_kpis_agree_with_cases_jsonl_and_with_the_ledger(run: Path) -> None:
    summary, cases, daily = read(run)
    k = summary["kpis"]
    closed = [c for c in cases if c["outcome"] != "OPEN"]
    assert k["cases_opened"] == len(cases) and k["cases_closed"] == len(closed) > 0
    cured = sum(1 for c in closed if c["outcome"] == "CURED")
    for dimension in ("product", "vintage"):  # each case counted once, under its loan's product and vintage
        rows = k[f"by_{dimension}"]
        assert sum(row["cases"] for row in rows.values()) == len(cases)
        assert sum(Decimal(row["recovered"]) for row in rows.values()) == Decimal(k["recovered"])
    assert Decimal(k["cure_rate"]) == (Decimal(cured) / len(closed)).quantize(Decimal("0.0001"))
    # the ledger: the input book and the payments of the event log (those the run did not refuse)
    refused = {int(m.group(1)) for p in summary["event_problems"] if (m := re.match(r"event line (\d+)", p))}
    book = {loan.loan_id: loan for loan in read_book(run / "book.jsonl").loans}
    paid: dict[str, list[Payment]] = {}
    for number, line in enumerate((run / "events.jsonl").read_text(encoding="utf-8").splitlines(), start=1):
        event = json.loads(line)
        if event["type"] == "payment" and number not in refused:
            paid.setdefault(event["loan_id"], []).append(Payment(date=event["date"], amount=event["amount"]))
    end = date(2026, 3, 1) + timedelta(days=DAYS - 1)
    total_recovered, total_at_open, capped, balance = Decimal(0), Decimal(0), Decimal(0), Decimal(0)
    for case in cases:
        opened = date.fromisoformat(case["opened"])
        until = date.fromisoformat(case["closed"]) if case["closed"] else end
        payments = paid.get(case["loan_id"], [])
        recovered = sum((p.amount for p in payments if opened <= p.date <= until), Decimal("0.00"))
        assert Decimal(case["recovered"]) == recovered, case["case_id"]
        loan = book[case["loan_id"]]
        assert case["product"] == loan.product
        assert case["vintage"] == f"{loan.start_date.year}-H{1 if loan.start_date.month <= 6 else 2}"
        before = loan.model_copy(update={"payments": (*loan.payments, *(p for p in payments if p.date < opened))})
        # on the customer's calendar at the 02:00 Shanghai scan that opened the case (New York: the day before)
        scan = datetime.combine(opened, time(2, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
        assert loan.customer is not None
        position = assess(before, scan.astimezone(ZoneInfo(loan.customer.timezone)).date())
        at_open = position.total_overdue
        assert Decimal(case["owed_at_open"]) == at_open, case["case_id"]
        placed = position.outstanding_principal + position.overdue_interest + position.penalty
        assert Decimal(case["balance_at_open"]) == placed, case["case_id"]
        balance += placed
        total_recovered += recovered
        total_at_open += at_open
        capped += min(recovered, at_open)
    assert Decimal(k["recovered"]) == total_recovered == Decimal(daily[-1]["recovered_to_date"])  # card = curve end
    assert Decimal(k["amount_in_collection"]) == total_at_open
    assert Decimal(k["recovery_rate"]) == (capped / total_at_open).quantize(Decimal("0.0001"))
    assert Decimal(k["liquidation_rate"]) == (total_recovered / balance).quantize(Decimal("0.0001"))
    promises = summary["promises"]
    kept = Decimal(promises["kept"]) / (promises["kept"] + promises["broken"])
    assert Decimal(k["promise_kept_rate"]) == kept.quantize(Decimal("0.0001"))


def test_the_page_is_responsive_accessible_and_in_the_language_asked_for(run: Path) -> None:
    text = (run / "report.html").read_text(encoding="utf-8")
    page = parse(text)
    assert page.lang == "zh-CN" and "催收成效" in text and "治愈率" in text
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.metas
    assert len(page.svgs) >= 5
    for svg in page.svgs:
        assert re.fullmatch(r"0 0 \d+ \d+", svg.get("viewbox", "")), svg  # (the parser lower-cases names)
        assert "width" not in svg and svg.get("role") == "img"
        assert page.svg_titles.get(svg["aria-labelledby"], "").strip()  # an accessible name
    assert page.tables >= 4 and page.captions == page.tables - 1  # the roll-rate matrix is headed by its h2
    assert page.headers and all(h.get("scope") in ("col", "row") for h in page.headers)
    assert "special_mention" not in text and "<script" not in text
    # the business figures come before the engineers' checks
    assert text.index("催收成效") < text.index("回收曲线") < text.index("工程检查") < text.index("不变量")
    # the stages by the team's Chinese names, the console's state name beside each
    summary = json.loads((run / "summary.json").read_text())
    for stage in summary["stage_funnel"]:
        assert Page("zh-CN", "CNY").stage(stage) != stage and f"（{stage}）" in text, stage
    assert "确认逾期（Confirm overdue）" in text


def test_the_same_run_renders_in_english(run: Path) -> None:
    summary, cases, daily = read(run)
    text = render_report(summary, daily, cases, "en")
    page = parse(text)
    assert page.lang == "en" and "Cure rate" in text and "Recovery curve" in text
    assert page.cards["recovered"] == Page("en", "CNY").money(summary["kpis"]["recovered"])
    assert page.cards["recovered"].startswith("CN¥")
    with pytest.raises(ValueError, match="lang"):
        render_report(summary, daily, cases, "fr")
