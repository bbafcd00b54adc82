"""The dashboard and the alarms read the metrics the handlers really emit.

The handlers run locally (the in-memory world, a generated book played for 120 days, each function with
its deployed Powertools service) and print their metrics as EMF, as on Lambda. Every metric of the
``DueFlow`` namespace that the synthesized dashboard or an alarm reads must be among them with exactly
the same dimensions (names and values); and a complaint left open past its deadline drives the
complaints alarm over its threshold."""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from dueflow.observability import METRICS, NAMESPACE
from dueflow.settings import Settings
from dueflow_local.behaviour import generate_run
from dueflow_local.runtime import open_runtime
from dueflow_local.simulate import Simulation, read_events
from infra.stack import DueFlowStack
from tests.e2e.conftest import borrower

Key = tuple[str, frozenset[tuple[str, str]]]


def emf(text: str) -> dict[Key, list[float]]:
    """Each (metric, dimensions) printed as EMF, with its values."""
    seen: dict[Key, list[float]] = defaultdict(list)
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == NAMESPACE
            for dimension_set in directive["Dimensions"]:
                dims = frozenset((name, blob[name]) for name in dimension_set)
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    seen[(metric["Name"], dims)] += value if isinstance(value, list) else [value]
    return seen


def read_by_template(template: Template) -> set[Key]:
    """Every DueFlow metric an alarm or the dashboard reads."""
    read: set[Key] = set()
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("Namespace") == NAMESPACE:
            read.add((props["MetricName"], frozenset((d["Name"], d["Value"]) for d in props.get("Dimensions", []))))
    for dashboard in template.find_resources("AWS::CloudWatch::Dashboard").values():
        parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
        body = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))
        for widget in body["widgets"]:
            for metric in widget["properties"].get("metrics", []):
                if metric[0] == NAMESPACE:
                    pairs = [m for m in metric[2:] if isinstance(m, str)]
                    read.add((metric[1], frozenset(zip(pairs[::2], pairs[1::2], strict=True))))
    return read


@pytest.fixture(scope="module")
def settings(dev: tuple[DueFlowStack, Template]) -> Settings:
    return dev[0].settings.model_copy(update={"index_shards": 2})


@pytest.fixture(scope="module")
def emitted(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[Key, list[float]]:
    start = date(2026, 3, 1)
    loans, made = generate_run(200, 7, start, 120)
    events = tmp_path_factory.mktemp("emf") / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in made), encoding="utf-8")
    parsed, problems = read_events(events, {loan.loan_id for loan in loans})
    assert problems == []
    simulation = Simulation(loans, parsed, start, 120, settings=settings, emit_metrics=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        simulation.run(Path(tmp_path_factory.mktemp("emf-run")))
        # no execution fails in a clean run: the status-change handler as EventBridge invokes it
        ended = json.loads((Path(__file__).resolve().parents[2] / "events" / "execution_ended-failed.json").read_text())
        with open_runtime("memory", settings, datetime(2026, 6, 18, tzinfo=UTC), emit_metrics=True) as rt:
            rt.invoke("execution_ended", ended)
    return emf(out.getvalue())


def test_every_metric_the_dashboard_and_alarms_read_is_emitted_with_exactly_its_dimensions(
    template: Template, emitted: dict[Key, list[float]]
) -> None:
    read = read_by_template(template)
    assert len(read) >= 20  # the dashboard's business widgets and the business alarms
    never_emitted = sorted((name, sorted(dims)) for name, dims in read - set(emitted))
    assert never_emitted == []


def test_every_emitted_metric_is_in_the_contract_with_its_function_service(
    settings: Settings, emitted: dict[Key, list[float]]
) -> None:
    for name, dims in emitted:
        function, expected = METRICS[name]
        assert dict(dims)["service"] == f"{settings.prefix}-{function}"
        assert sorted(dict(dims)) == sorted((*expected, "service"))
    assert {name for name, _ in emitted} == set(METRICS)  # the run exercised every metric


def test_a_complaint_open_past_its_deadline_breaches_the_complaints_alarm(
    template: Template, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    alarms = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("AlarmName") == f"{settings.prefix}-complaints-past-deadline"
    ]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["AlarmActions"]
    key = (alarm["MetricName"], frozenset((d["Name"], d["Value"]) for d in alarm["Dimensions"]))
    case = "L1-2026-06-15"
    with open_runtime("memory", settings, datetime(2026, 6, 16, tzinfo=UTC), emit_metrics=True) as rt:
        rt.load_book([borrower()], date(2026, 6, 16))
        rt.run_day(date(2026, 6, 17), [("09:00", lambda: rt.api("POST", f"/cases/{case}/complaints", system=True))])
        deadline = rt.services.cases.require(case).complaint_deadline
        assert deadline is not None
        capsys.readouterr()
        rt.scan(deadline)

        def values() -> list[Any]:
            return emf(capsys.readouterr().out)[key]

        on_deadline = values()
        rt.scan(deadline + timedelta(days=1))
        after = values()
    assert on_deadline == [0] and not on_deadline[0] > alarm["Threshold"]
    assert after == [1] and after[0] > alarm["Threshold"]
