"""The case state machine definition: well-formed, every wait has a safety net, every outcome reachable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dueflow.settings import Settings
from dueflow.workflow.definition import (
    CLOSED,
    CONFIRM,
    DAY,
    RESUMABLE_STAGES,
    WAITING_STATES,
    Functions,
    build_definition,
)
from dueflow.workflow.diagram import mermaid

DEFINITION = build_definition(Functions(stage="arn:stage", wait="arn:wait"), Settings())
STATES: dict[str, Any] = DEFINITION["States"]


def targets(state: dict[str, Any]) -> list[str]:
    out = [state[k] for k in ("Next", "Default") if k in state]
    out += [c["Next"] for c in state.get("Choices", [])] + [c["Next"] for c in state.get("Catch", [])]
    return out


def test_every_transition_points_at_a_state_and_every_state_is_reachable() -> None:
    seen, todo = set(), [DEFINITION["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for target in targets(STATES[name]):
            assert target in STATES, f"{name} -> {target}"
            todo.append(target)
    assert seen == set(STATES)
    # a new case begins at "Confirm overdue"; a continued one where its input says
    start = STATES[DEFINITION["StartAt"]]
    assert start["Type"] == "Choice" and start["Default"] == CONFIRM
    # (a plan continued in a new execution, or a failed execution's replacement: dueflow.services.recovery)
    assert {rule["Next"] for rule in start["Choices"]} == {
        *RESUMABLE_STAGES,
        *(f"{w}: re-evaluate" for w in WAITING_STATES),
        *CLOSED.values(),
    }
    assert "Follow up plan" in RESUMABLE_STAGES


def test_state_names_are_readable_and_within_the_console_limit() -> None:
    for name in STATES:
        assert len(name) <= 80 and name[0].isupper()


def test_no_case_sleeps_in_a_wait_state_and_every_callback_has_a_safety_net() -> None:
    assert all(s["Type"] != "Wait" for s in STATES.values())
    callbacks = {n: s for n, s in STATES.items() if s.get("Resource", "").endswith(".waitForTaskToken")}
    assert sorted(callbacks) == [
        "Await agreement",
        "Await plan event",
        "Await response",
        "Await response to second reminder",
    ]
    for state in callbacks.values():
        assert state["TimeoutSeconds"] >= state["Parameters"]["Payload"]["days"] * DAY
        (catch,) = state["Catch"]
        assert catch["ErrorEquals"] == ["States.Timeout"]
        reevaluate = STATES[catch["Next"]]
        assert reevaluate["Parameters"]["Payload"]["stage"] == "reevaluate"
        assert reevaluate["Next"] == state["Next"]  # back to the same decision
        assert state["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"


def test_a_payment_cures_from_every_wait_and_a_complaint_keeps_the_case_where_it_is() -> None:
    for name, state in STATES.items():
        if state.get("Resource", "").endswith(".waitForTaskToken"):
            router = STATES[state["Next"]]
            routes = {c["StringEquals"]: c["Next"] for c in router["Choices"]}
            assert routes["cured"] == CLOSED["CURED"]
            assert routes["paused"] == name


def test_all_four_outcomes_close_through_the_close_task() -> None:
    for outcome, name in CLOSED.items():
        assert STATES[name]["Parameters"]["Payload"] == {
            **STATES[name]["Parameters"]["Payload"],
            "stage": "close",
            "outcome": outcome,
        }
        assert STATES[STATES[name]["Next"]]["Type"] == "Succeed"


def test_waits_follow_the_settings() -> None:
    slow = build_definition(Functions("a", "b"), Settings(response_days=10))
    assert slow["States"]["Await response"]["Parameters"]["Payload"]["days"] == 10
    assert slow["States"]["Await response"]["TimeoutSeconds"] == 13 * DAY


def test_the_definition_is_plain_json() -> None:
    assert json.loads(json.dumps(DEFINITION)) == DEFINITION


def test_docs_workflow_md_shows_the_current_definition() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "workflow.md").read_text(encoding="utf-8")
    assert mermaid(DEFINITION) in doc, "regenerate the diagram: python -m dueflow_local.docs_workflow"


@pytest.mark.parametrize("kind", ["cured", "plan_accepted", "no_response"])
def test_routes_from_the_first_wait(kind: str) -> None:
    router = STATES["Await response: what happened?"]
    routes = {c["StringEquals"]: c["Next"] for c in router["Choices"]}
    expected = {"cured": "Closed: cured", "plan_accepted": "Follow up plan", "no_response": "Second reminder"}
    assert routes.get(kind, router["Default"]) == expected[kind]


def test_the_stage_labels_are_the_state_names_of_their_stage_tasks() -> None:
    from dueflow.workflow.definition import STAGE_LABELS

    tasks = {
        s["Parameters"]["Payload"]["stage"]: name
        for name, s in STATES.items()
        if s.get("Parameters", {}).get("FunctionName") == "arn:stage"
        and s["Parameters"]["Payload"]["stage"] not in ("reevaluate", "close")
    }
    assert tasks == STAGE_LABELS
