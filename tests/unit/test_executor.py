"""The local executor runs the deployed definition as Step Functions would, on the simulated clock.

The handlers here are scripted stand-ins (the real ones are exercised by the e2e and differential
tests): what matters is that every edge of the definition graph (each Task's Next, each Choice branch
and Default, each Catch, each Retry) is taken when its condition holds, and that what the executor does
not implement is refused by name.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from dueflow.ports import ExecutionAlreadyExists, TokenNotWaiting
from dueflow.settings import Settings
from dueflow.workflow import definition as d
from dueflow_local.executor import DefinitionNotSupported, Executor

SETTINGS = Settings()
DEFINITION = d.build_definition(d.Functions(stage="arn:stage", wait="arn:wait"), SETTINGS)
STATES: dict[str, Any] = DEFINITION["States"]
START = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def error(name: str) -> Exception:
    """An exception whose type is named ``name`` (how an unhandled Lambda error is named)."""
    return type(name, (Exception,), {})("scripted failure")


class Script:
    """Scripted handlers. ``stage[stage]`` and ``wait[state]`` are queues of what each visit does:
    a dict (a stage's result, or the answer sent to a callback's token), an exception to raise, or
    ``"timeout"`` / ``"hold"`` (a callback left unanswered)."""

    def __init__(
        self,
        stage: dict[str, list[Any]] | None = None,
        wait: dict[str, list[Any]] | None = None,
        resume_at: str = d.CONFIRM,
    ) -> None:
        self.resume_at = resume_at  # where the execution begins: a new case, or one continued
        self.stage = defaultdict(list, copy.deepcopy(stage or {}))
        self.wait = defaultdict(list, copy.deepcopy(wait or {}))
        self.now = START
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self.executor = Executor(DEFINITION, self.invoke, lambda: self.now)
        self.payloads: list[dict[str, Any]] = []

    def invoke(self, function: str, payload: dict[str, Any]) -> Any:
        self.payloads.append(payload)
        if function == "arn:stage":
            queue = self.stage[payload["stage"]]
            action = queue.pop(0) if queue else {"outcome": "ok"}
        else:
            queue = self.wait[payload["state"]]
            action = queue.pop(0) if queue else "hold"
        if isinstance(action, Exception):
            raise action
        if function == "arn:wait":
            if isinstance(action, dict):
                self.executor.resume(payload["token"], action)  # answered at once (case_wait may)
            return {"parked": payload["case_id"]}
        return action

    def advance(self, seconds: float) -> None:
        until = self.now + timedelta(seconds=seconds)
        while (due := self.executor.next_timer()) is not None and due <= until:
            self.now = max(self.now, due)
            self.executor.fire_next()
        self.now = until

    def run(self, name: str = "C1", days: int = 400) -> list[str]:
        self.executor.start(name, {"case_id": name, "loan_id": "L1", "resume_at": self.resume_at})
        self.executor.run()
        for _ in range(days):
            if self.executor.executions[name].status != "RUNNING":
                break
            self.advance(86_400)
        return self.entered(name)

    def entered(self, name: str = "C1") -> list[str]:
        history = self.executor.history(name)
        return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


def edges_of_definition() -> set[tuple[str, str]]:
    edges = set()
    for name, state in STATES.items():
        for key in ("Next", "Default"):
            if key in state:
                edges.add((name, state[key]))
        for rule in state.get("Choices", []) + state.get("Catch", []):
            edges.add((name, rule["Next"]))
    return edges


def retriers_of_definition() -> set[tuple[str, int]]:
    return {(name, i) for name, state in STATES.items() for i, _ in enumerate(state.get("Retry", []))}


R, S, A, P = d.AWAIT_RESPONSE, d.AWAIT_SECOND, d.AWAIT_AGREEMENT, d.AWAIT_PLAN
SCENARIOS: dict[str, tuple[Callable[[], Script], str]] = {}


def scenario(name: str, final: str) -> Callable[[Callable[[], Script]], Callable[[], Script]]:
    def register(build: Callable[[], Script]) -> Callable[[], Script]:
        SCENARIOS[name] = (build, final)
        return build

    return register


@scenario("silent to write-off, every wait timing out", d.CLOSED["WRITE_OFF_REVIEW"])
def _silent() -> Script:
    wait = {s: ["timeout"] for s in (R, S, A)}
    return Script(
        {
            "reevaluate": [{"outcome": "r", "kind": "no_response", "renegotiations_left": 1, "legal_review_due": True}]
            * 3
        },
        wait,
    )


@scenario("cured at confirmation", d.CLOSED["CURED"])
def _cured_at_confirm() -> Script:
    return Script(wait={R: [{"kind": "cured"}]})


@scenario("litigation after answered waits", d.CLOSED["LITIGATION"])
def _litigate() -> Script:
    return Script(
        {"legal_review": [{"outcome": "litigate"}]},
        {R: [{"kind": "no_response"}], S: [{"kind": "no_response"}], A: [{"kind": "no_response"}]},
    )


@scenario("plan accepted at once, kept to the end", d.CLOSED["SETTLED"])
def _plan_kept() -> Script:
    return Script(
        {"reevaluate": [{"outcome": "r", "kind": "tick", "renegotiations_left": 1, "legal_review_due": True}]},
        {R: [{"kind": "plan_accepted"}], P: [{"kind": "tick"}, "timeout", {"kind": "plan_completed"}]},
    )


@scenario("proposals and promises from every wait, a broken plan renegotiated", d.CLOSED["CURED"])
def _everything() -> Script:
    return Script(
        {
            "reevaluate": [
                {"outcome": "r", "kind": "paused", "renegotiations_left": 1, "legal_review_due": True},
                {"outcome": "r", "kind": "plan_completed", "renegotiations_left": 1, "legal_review_due": True},
            ]
        },
        {
            R: [{"kind": "paused"}, {"kind": "plan_proposed"}],
            A: [{"kind": "promise_to_pay"}, {"kind": "plan_accepted"}, {"kind": "plan_proposed"}, {"kind": "cured"}],
            P: ["timeout", {"kind": "broken_promise", "renegotiations_left": 1, "legal_review_due": True}],
        },
    )


@scenario("pauses at every wait, a plan broken and renegotiated, then kept to the end", d.CLOSED["SETTLED"])
def _answered_everywhere() -> Script:
    return Script(
        wait={
            R: [{"kind": "paused"}, {"kind": "plan_proposed"}],
            A: [{"kind": "paused"}, {"kind": "plan_accepted"}, {"kind": "plan_accepted"}],
            P: [
                {"kind": "paused"},
                {"kind": "tick"},
                {"kind": "broken_promise", "renegotiations_left": 1, "legal_review_due": True},
                {"kind": "plan_completed"},
            ],
        }
    )


@scenario("before the thresholds: reminded and negotiated again, a broken plan negotiated on", d.CLOSED["CURED"])
def _before_thresholds() -> Script:
    return Script(
        wait={
            R: [{"kind": "no_response"}],
            S: [{"kind": "not_yet"}, {"kind": "no_response"}],
            A: [{"kind": "not_yet"}, {"kind": "plan_accepted"}, {"kind": "cured"}],
            P: [{"kind": "broken_promise", "renegotiations_left": 0, "legal_review_due": False}],
        }
    )


@scenario("a broken plan with no renegotiation left goes to legal review", d.CLOSED["WRITE_OFF_REVIEW"])
def _no_renegotiation() -> Script:
    return Script(
        wait={
            R: [{"kind": "plan_accepted"}],
            P: [{"kind": "broken_promise", "renegotiations_left": 0, "legal_review_due": True}],
        }
    )


@scenario("second reminder: a pause, then a proposal, then a cure while agreeing", d.CLOSED["CURED"])
def _second_proposal() -> Script:
    return Script(
        wait={R: [{"kind": "no_response"}], S: [{"kind": "paused"}, {"kind": "plan_proposed"}], A: [{"kind": "cured"}]}
    )


@scenario("second reminder: a plan accepted, then cured during the plan", d.CLOSED["CURED"])
def _second_plan() -> Script:
    return Script(wait={R: [{"kind": "no_response"}], S: [{"kind": "plan_accepted"}], P: [{"kind": "cured"}]})


@scenario("second reminder: cured", d.CLOSED["CURED"])
def _second_cured() -> Script:
    return Script(wait={R: [{"kind": "no_response"}], S: [{"kind": "cured"}]})


@scenario("legal review before the write-off threshold: negotiation goes on", d.CLOSED["WRITE_OFF_REVIEW"])
def _collect_on() -> Script:
    silent = [{"kind": "no_response"}] * 2
    return Script({"legal_review": [{"outcome": "collect_on"}]}, {R: silent[:1], S: silent[:1], A: silent})


@scenario("a limitation period nearing its end: legal review from the first wait", d.CLOSED["LITIGATION"])
def _limitation_first_wait() -> Script:
    return Script({"legal_review": [{"outcome": "litigate"}]}, {R: [{"kind": "limitation_nearing"}]})


@scenario("a limitation period nearing its end: legal review from the second wait", d.CLOSED["WRITE_OFF_REVIEW"])
def _limitation_second_wait() -> Script:
    return Script(wait={R: [{"kind": "no_response"}], S: [{"kind": "limitation_nearing"}]})


@scenario("a long plan hands over to a new execution of the case", d.CONTINUED)
def _long_plan() -> Script:
    return Script(
        {"follow_up": [{"outcome": "following_up"}, {"outcome": "continue_as_new"}]},
        {R: [{"kind": "plan_accepted"}], P: [{"kind": "tick"}]},
    )


@scenario("a continued execution follows the plan up to its end", d.CLOSED["SETTLED"])
def _continued_plan() -> Script:
    return Script(wait={P: [{"kind": "plan_completed"}]}, resume_at=d.FOLLOW_UP)


def _continued_at(state: str) -> Callable[[], Script]:
    def build() -> Script:  # re-evaluated first: the case's record says it was cured meanwhile
        cured = {"outcome": "r", "kind": "cured", "renegotiations_left": 1, "legal_review_due": False}
        return Script({"reevaluate": [cured]}, resume_at=state)

    return build


for _state in (R, S, A, P):
    scenario(f"an execution continued at {_state!r} (its predecessor ended)", d.CLOSED["CURED"])(_continued_at(_state))


def _restarted_at(stage: str, script: Script) -> Callable[[], Script]:
    def build() -> Script:  # its predecessor failed there (dueflow.services.recovery): it runs again
        return Script(dict(script.stage), dict(script.wait), resume_at=stage)

    return build


_CURED = [{"kind": "cured"}]
for _stage, _script, _final in (
    (d.CONFIRM, Script(wait={R: _CURED}), d.CLOSED["CURED"]),
    (d.FIRST_CONTACT, Script(wait={R: _CURED}), d.CLOSED["CURED"]),
    (d.SECOND_REMINDER, Script(wait={S: _CURED}), d.CLOSED["CURED"]),
    (d.NEGOTIATE, Script(wait={A: _CURED}), d.CLOSED["CURED"]),
    (d.LEGAL_REVIEW, Script({"legal_review": [{"outcome": "litigate"}]}), d.CLOSED["LITIGATION"]),
    *((closing, Script(), closing) for closing in d.CLOSED.values()),
):
    scenario(f"an execution restarted at {_stage!r} (its predecessor failed there)", _final)(
        _restarted_at(_stage, _script)
    )


def _run_all() -> tuple[set[tuple[str, str]], dict[str, tuple[list[str], str]]]:
    taken: set[tuple[str, str]] = set()
    results = {}
    for name, (build, _) in SCENARIOS.items():
        script = build()
        entered = script.run()
        taken |= set(pairwise(entered))
        results[name] = (entered, script.executor.executions["C1"].status)
    return taken, results


def test_each_scenario_reaches_its_outcome() -> None:
    _, results = _run_all()
    for name, (_, final) in SCENARIOS.items():
        entered, status = results[name]
        assert status == "SUCCEEDED", (name, entered)
        ending = [d.CONTINUE, d.CONTINUED] if final == d.CONTINUED else [final, f"{final}: done"]
        assert entered[-2:] == ending, (name, entered)


def test_the_scenarios_take_every_edge_of_the_definition() -> None:
    taken, _ = _run_all()
    missing = edges_of_definition() - taken
    assert not missing, f"edges no scenario takes: {sorted(missing)}"


def test_every_retry_of_every_task_fires_and_the_execution_carries_on() -> None:
    """Each task fails once with the first error of each of its retriers, then succeeds."""
    fired: set[tuple[str, int]] = set()
    for name, state in STATES.items():
        for index, retrier in enumerate(state.get("Retry", [])):
            failure = error(retrier["ErrorEquals"][0] if retrier["ErrorEquals"][0] != "States.TaskFailed" else "E")
            script = _reaching(name)
            if state["Resource"].endswith("waitForTaskToken"):
                script.wait[name].insert(0, failure)
            else:
                script.stage[state["Parameters"]["Payload"]["stage"]].insert(0, failure)
            entered = script.run()
            execution = script.executor.executions["C1"]
            failed = [e for e in script.executor.history("C1") if e["type"] == "TaskFailed"]
            assert failed and failed[0]["taskFailedEventDetails"]["error"] == type(failure).__name__
            assert execution.status == "SUCCEEDED", (name, index, entered, execution.error)
            interval = retrier["IntervalSeconds"]
            assert script.now >= START + timedelta(seconds=0 if retrier.get("JitterStrategy") else interval)
            fired.add((name, index))
    assert fired == retriers_of_definition()


def _reaching(name: str) -> Script:
    """A fresh script whose run passes through state ``name`` and ends."""
    for build, _ in SCENARIOS.values():
        if name in build().run():
            return build()
    raise AssertionError(f"no scenario reaches {name}")


def test_a_callback_timeout_fires_on_the_simulated_clock_and_goes_to_re_evaluation() -> None:
    script = Script(
        {"reevaluate": [{"outcome": "r", "kind": "cured", "renegotiations_left": 1, "legal_review_due": True}]},
        {R: ["timeout"]},
    )
    script.executor.start("C1", {"case_id": "C1", "loan_id": "L1", "resume_at": "Confirm overdue"})
    script.executor.run()
    assert script.entered()[-1] == R and script.executor.parked("C1")
    timeout = STATES[R]["TimeoutSeconds"]
    entered = script.executor.executions["C1"].entered
    assert entered is not None
    script.advance((entered - START).total_seconds() + timeout - 1)
    assert script.entered()[-1] == R  # not yet
    script.advance(1)
    assert script.entered()[-4:-1] == [f"{R}: re-evaluate", f"{R}: what happened?", d.CLOSED["CURED"]]
    types = [e["type"] for e in script.executor.history("C1")]
    assert "TaskTimedOut" in types


def test_a_token_answers_once_and_not_after_its_timeout() -> None:
    script = Script(
        {"reevaluate": [{"outcome": "r", "kind": "no_response", "renegotiations_left": 1, "legal_review_due": True}]}
    )
    script.executor.start("C1", {"case_id": "C1", "loan_id": "L1", "resume_at": "Confirm overdue"})
    script.executor.run()
    token = next(p["token"] for p in script.payloads if p.get("state") == R)
    script.advance(STATES[R]["TimeoutSeconds"] + 1)
    with pytest.raises(TokenNotWaiting) as late:
        script.executor.resume(token, {"kind": "cured"})
    assert late.value.code == "TaskTimedOut"
    token2 = next(p["token"] for p in reversed(script.payloads) if p.get("state") == S)
    script.executor.resume(token2, {"kind": "cured"})
    with pytest.raises(TokenNotWaiting) as twice:
        script.executor.resume(token2, {"kind": "cured"})
    assert twice.value.code == "InvalidToken"
    script.executor.run()
    assert script.executor.executions["C1"].status == "SUCCEEDED"
    with pytest.raises(TokenNotWaiting):
        script.executor.resume("nonsense", {})


def test_a_choice_reading_a_missing_field_fails_the_execution_with_states_runtime() -> None:
    """What Step Functions does when "Renegotiation allowed?" reads a field the path did not supply."""
    script = Script(wait={R: [{"kind": "plan_accepted"}], P: [{"kind": "broken_promise"}]})
    script.run()
    execution = script.executor.executions["C1"]
    assert execution.status == "FAILED" and execution.error == "States.Runtime"
    assert "renegotiations_left" in (execution.cause or "")


def test_starting_a_name_twice_is_refused_unless_it_is_the_same_running_execution() -> None:
    script = Script()
    arn = script.executor.start("C1", {"case_id": "C1", "loan_id": "L1", "resume_at": "Confirm overdue"})
    assert script.executor.start("C1", {"case_id": "C1", "loan_id": "L1", "resume_at": "Confirm overdue"}) == arn
    with pytest.raises(ExecutionAlreadyExists):
        script.executor.start("C1", {"case_id": "C1", "loan_id": "other", "resume_at": "Confirm overdue"})


def test_each_state_visit_has_its_own_entered_time_even_at_one_instant() -> None:
    script = Script(wait={R: [{"kind": "plan_accepted"}], P: [{"kind": "tick"}, {"kind": "tick"}]})
    script.executor.start("C1", {"case_id": "C1", "loan_id": "L1", "resume_at": "Confirm overdue"})
    script.executor.run()
    entered = [p["entered"] for p in script.payloads]
    assert len(entered) == len(set(entered))
    assert all(e.endswith("Z") and len(e) == len("2026-07-01T02:00:00.000Z") for e in entered)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda s: s[d.CONFIRM].update(OutputPath="$.x"), "'Confirm overdue': field 'OutputPath'"),
        (lambda s: s.update({"W": {"Type": "Wait", "Seconds": 1, "Next": d.CONFIRM}}), "'W': field 'Type'"),
        (lambda s: s[d.CONFIRM].update(Resource="arn:aws:states:::sqs:sendMessage"), "field 'Resource'"),
        (lambda s: s[d.RENEGOTIATE]["Choices"][0].update(StringMatches="x*"), "comparison"),
        (lambda s: s[d.CONFIRM]["Retry"][0].update(MaxDelaySeconds=5), "Retry[0] field 'MaxDelaySeconds'"),
        (lambda s: s[d.CONFIRM]["Parameters"]["Payload"].update({"x.$": "$.a[0]"}), "only simple paths"),
        (lambda s: s[d.CONFIRM]["Parameters"]["Payload"].update({"x.$": "States.Format('{}', $.a)"}), "intrinsic"),
        (lambda s: s[d.CONFIRM].update(Next="Nowhere"), "unknown state 'Nowhere'"),
    ],
)
def test_what_the_executor_does_not_implement_is_refused_by_state_and_field(change: Any, named: str) -> None:
    definition = copy.deepcopy(DEFINITION)
    change(definition["States"])
    with pytest.raises(DefinitionNotSupported, match=named.replace("?", r"\?").replace("[", r"\[")):
        Executor(definition, lambda f, p: {}, lambda: START)


def test_an_execution_times_out_after_a_year_and_its_token_is_gone() -> None:
    """Step Functions ends a Standard execution after 365 days: a case parked that long is TIMED_OUT and
    an answer to its token gets TaskDoesNotExist (which the services must not swallow)."""
    paused = {"outcome": "r", "kind": "paused", "renegotiations_left": 1, "legal_review_due": False}
    script = Script({"reevaluate": [paused] * 60}, {R: ["hold"]})  # a complaint that is never resolved
    script.executor.start("C1", {"case_id": "C1", "loan_id": "L1", "resume_at": d.CONFIRM})
    script.executor.run()
    token = script.executor.executions["C1"].token
    assert token is not None
    script.advance(364 * 86_400)
    assert script.executor.executions["C1"].status == "RUNNING"  # the callback timeout went to re-evaluation
    script.advance(2 * 86_400)
    execution = script.executor.executions["C1"]
    assert execution.status == "TIMED_OUT" and script.executor.describe("C1")["status"] == "TIMED_OUT"
    assert script.executor.history("C1")[-1]["type"] == "ExecutionTimedOut"
    stale = next(p["token"] for p in reversed(script.payloads) if "token" in p)
    with pytest.raises(TokenNotWaiting) as caught:
        script.executor.resume(stale, {"kind": "cured"})
    assert caught.value.code == "TaskDoesNotExist"
