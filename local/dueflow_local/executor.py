"""A thread-free executor of the case state machine, on the simulated clock.

It runs the very dict ``dueflow.workflow.definition.build_definition`` returns, and implements the part
of the Amazon States Language that definition uses: ``Task`` states on ``lambda:invoke`` and
``lambda:invoke.waitForTaskToken`` (``Parameters`` with ``.$`` paths and the context object
``$$.Execution.Name``, ``$$.State.Name``, ``$$.State.EnteredTime``, ``$$.Task.Token``;
``ResultSelector``, ``ResultPath``, ``TimeoutSeconds`` on callback tasks, ``Retry`` with ``ErrorEquals``,
``IntervalSeconds``, ``MaxAttempts``, ``BackoffRate``, ``JitterStrategy``; ``Catch``), ``Choice`` (the
comparison operators listed in ``OPERATORS``, ``Default``), ``Succeed`` and ``Fail``. Anything else in a
definition is refused when the executor is built, with an error naming the state and the field, so a
definition change can never silently run differently here than on Step Functions.

Why our own: moto's interpreter (a copy of LocalStack's) holds three threads per open execution, times
``TimeoutSeconds`` and ``Retry`` intervals in real seconds (so the callback safety nets never fire in a
simulated day) and costs ~18 ms per state entered; the Python ASL executors on PyPI that were looked at
(pyaslengine, aws-stepfunctions-toolkit, local-workflow-engine) cannot park an execution without a thread
or run on a simulated clock. Here a parked execution is a few objects, timeouts and retry intervals are
timers on the simulated clock, and everything runs in the caller's thread.

Semantics kept from Step Functions:
- An execution lives at most a year (``MAX_EXECUTION``, or the definition's top-level
  ``TimeoutSeconds`` when shorter): then it ends ``TIMED_OUT`` and its pending token answers
  ``TaskDoesNotExist``.
- A callback token may be answered while the task's Lambda is still running (``case_wait`` answers at
  once when there is nothing to wait for); the answer is taken when the invocation returns. A failed
  invocation fails the task (its token is void). A token is answered once: a second answer, an answer
  after the timeout, or after the execution ended is ``TokenNotWaiting`` (InvalidToken, TaskTimedOut,
  TaskDoesNotExist).
- Errors: an unhandled Lambda error is named by its exception type; ``States.TaskFailed`` matches every
  task failure except ``States.Timeout``; ``States.ALL`` matches every error; ``States.Runtime`` (an
  invalid path) is never retried or caught and fails the execution.
- A retry re-runs the task within the same state visit (``$$.State.EnteredTime`` unchanged), after
  ``IntervalSeconds * BackoffRate ** attempt`` seconds (``JitterStrategy: FULL``: a seeded uniform draw
  up to that), on the simulated clock.
- Each state entry gets a distinct ``EnteredTime`` (at least one millisecond after the previous entry of
  the execution), as it would on AWS where time passes between states; stage tasks dedupe by it.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dueflow.ports import ExecutionAlreadyExists, TokenNotWaiting

MAX_EXECUTION = timedelta(days=365)  # a Standard execution's longest life (a Step Functions quota)
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
LAMBDA_INVOKE = {f"arn:{p}:states:::lambda:invoke" for p in PARTITIONS}
LAMBDA_CALLBACK = {f"{invoke}.waitForTaskToken" for invoke in LAMBDA_INVOKE}

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "StringEquals": lambda a, b: isinstance(a, str) and a == b,
    "NumericEquals": lambda a, b: _number(a) and a == b,
    "NumericGreaterThan": lambda a, b: _number(a) and a > b,
    "NumericGreaterThanEquals": lambda a, b: _number(a) and a >= b,
    "NumericLessThan": lambda a, b: _number(a) and a < b,
    "NumericLessThanEquals": lambda a, b: _number(a) and a <= b,
    "BooleanEquals": lambda a, b: isinstance(a, bool) and a == b,
}
FIELDS = {
    "Task": {
        "Type",
        "Comment",
        "Resource",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "TimeoutSeconds",
        "Retry",
        "Catch",
        "Next",
        "End",
    },
    "Choice": {"Type", "Comment", "Choices", "Default"},
    "Succeed": {"Type", "Comment"},
    "Fail": {"Type", "Comment", "Error", "Cause"},
}
RETRY_FIELDS = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "JitterStrategy"}
CATCH_FIELDS = {"ErrorEquals", "ResultPath", "Next"}
TOP_FIELDS = {"Comment", "StartAt", "States", "TimeoutSeconds"}


class DefinitionNotSupported(ValueError):
    """The definition uses something this executor does not implement (names the state and field)."""


class StatesError(Exception):
    """An error as Step Functions names it (``error``), with its ``cause``."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- paths ---------------------------------------------------------------------------------------------
def _check_path(path: Any, where: str) -> None:
    if not isinstance(path, str) or not (path == "$" or path.startswith("$.") or path.startswith("$$.")):
        raise DefinitionNotSupported(f"{where}: only simple paths ($, $.a.b, $$.X.Y) are supported, got {path!r}")
    for part in path.lstrip("$").split(".")[1:]:
        if not part or any(c in part for c in "[]*?@()'\""):
            raise DefinitionNotSupported(f"{where}: only simple paths ($, $.a.b, $$.X.Y) are supported, got {path!r}")


def read_path(path: str, document: Any, context: Mapping[str, Any]) -> Any:
    """The value at ``path`` (``$...`` in ``document``, ``$$...`` in the context object); a missing
    field is ``States.Runtime``, as Step Functions reports an invalid path."""
    if path.startswith("$$"):
        value: Any = context
        parts = path[3:].split(".") if len(path) > 2 else []
    else:
        value = document
        parts = path[2:].split(".") if len(path) > 1 else []
    for part in parts:
        if not isinstance(value, Mapping) or part not in value:
            raise StatesError("States.Runtime", f"Invalid path '{path}': the field '{part}' is not present")
        value = value[part]
    return value


def write_path(document: Any, path: str | None, value: Any) -> Any:
    """``ResultPath``: ``value`` placed at ``path`` in a copy of ``document`` (``$`` replaces it)."""
    if path is None:
        return document  # "ResultPath": null keeps the input
    if path == "$":
        return value
    out = dict(document) if isinstance(document, Mapping) else {}
    target = out
    parts = path[2:].split(".")
    for part in parts[:-1]:
        child = target.get(part)
        child = dict(child) if isinstance(child, Mapping) else {}
        target[part] = child
        target = child
    target[parts[-1]] = value
    return out


def render(template: Any, document: Any, context: Mapping[str, Any]) -> Any:
    """``Parameters`` / ``ResultSelector``: keys ending in ``.$`` take the value at their path."""
    if isinstance(template, Mapping):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = read_path(value, document, context)
            else:
                out[key] = render(value, document, context)
        return out
    if isinstance(template, list):
        return [render(v, document, context) for v in template]
    return template


# -- the definition, checked ---------------------------------------------------------------------------
def check_definition(definition: Mapping[str, Any]) -> None:
    """Refuse, naming the state and the field, anything this executor does not implement."""
    for key in definition:
        if key not in TOP_FIELDS:
            raise DefinitionNotSupported(f"definition: field {key!r} is not supported")
    states = definition.get("States")
    if not isinstance(states, Mapping) or definition.get("StartAt") not in states:
        raise DefinitionNotSupported("definition: StartAt must name one of States")
    for name, state in states.items():
        kind = state.get("Type")
        if kind not in FIELDS:
            raise DefinitionNotSupported(f"state {name!r}: field 'Type' {kind!r} is not supported")
        for key in state:
            if key not in FIELDS[kind]:
                raise DefinitionNotSupported(f"state {name!r}: field {key!r} is not supported on a {kind} state")
        targets = []
        if kind == "Task":
            _check_task(name, state)
            targets = [state.get("Next")] + [c["Next"] for c in state.get("Catch", [])]
            if state.get("End") is not True and "Next" not in state:
                raise DefinitionNotSupported(f"state {name!r}: field 'Next' (or End) is required")
        elif kind == "Choice":
            for index, rule in enumerate(state.get("Choices", [])):
                _check_rule(f"state {name!r}: Choices[{index}]", rule, top=True)
                targets.append(rule["Next"])
            if "Default" in state:
                targets.append(state["Default"])
        for target in targets:
            if target is not None and target not in states:
                raise DefinitionNotSupported(f"state {name!r}: transition to unknown state {target!r}")


def _check_task(name: str, state: Mapping[str, Any]) -> None:
    resource = state.get("Resource")
    if resource not in LAMBDA_INVOKE | LAMBDA_CALLBACK:
        raise DefinitionNotSupported(f"state {name!r}: field 'Resource' {resource!r} is not supported")
    params = state.get("Parameters", {})
    if set(params) - {"FunctionName", "Payload"}:
        raise DefinitionNotSupported(f"state {name!r}: field 'Parameters' may hold only FunctionName and Payload")
    _check_template(f"state {name!r}: Parameters", params)
    _check_template(f"state {name!r}: ResultSelector", state.get("ResultSelector", {}))
    if state.get("ResultPath") is not None:
        _check_path(state["ResultPath"], f"state {name!r}: ResultPath")
        if state["ResultPath"].startswith("$$"):
            raise DefinitionNotSupported(f"state {name!r}: ResultPath cannot write the context object")
    for index, retrier in enumerate(state.get("Retry", [])):
        extra = set(retrier) - RETRY_FIELDS
        if extra:
            raise DefinitionNotSupported(f"state {name!r}: Retry[{index}] field {sorted(extra)[0]!r} is not supported")
        if retrier.get("JitterStrategy", "NONE") not in ("NONE", "FULL"):
            raise DefinitionNotSupported(f"state {name!r}: Retry[{index}] JitterStrategy must be NONE or FULL")
    for index, catcher in enumerate(state.get("Catch", [])):
        extra = set(catcher) - CATCH_FIELDS
        if extra:
            raise DefinitionNotSupported(f"state {name!r}: Catch[{index}] field {sorted(extra)[0]!r} is not supported")
        if catcher.get("ResultPath") is not None:
            _check_path(catcher["ResultPath"], f"state {name!r}: Catch[{index}] ResultPath")
    if "TimeoutSeconds" in state and not isinstance(state["TimeoutSeconds"], int):
        raise DefinitionNotSupported(f"state {name!r}: TimeoutSeconds must be a whole number of seconds")


def _check_template(where: str, template: Any) -> None:
    if isinstance(template, Mapping):
        for key, value in template.items():
            if key.endswith(".$"):
                if isinstance(value, str) and value.startswith("States."):
                    raise DefinitionNotSupported(f"{where}.{key}: intrinsic functions are not supported")
                _check_path(value, f"{where}.{key}")
            else:
                _check_template(f"{where}.{key}", value)
    elif isinstance(template, list):
        for index, value in enumerate(template):
            _check_template(f"{where}[{index}]", value)


def _check_rule(where: str, rule: Mapping[str, Any], top: bool) -> None:
    keys = set(rule) - {"Next"}
    if top and "Next" not in rule:
        raise DefinitionNotSupported(f"{where}: field 'Next' is required")
    if keys & {"And", "Or"}:
        for op in keys & {"And", "Or"}:
            for index, sub in enumerate(rule[op]):
                _check_rule(f"{where}.{op}[{index}]", sub, top=False)
        return
    if "Not" in keys:
        _check_rule(f"{where}.Not", rule["Not"], top=False)
        return
    _check_path(rule.get("Variable"), f"{where}.Variable")
    operators = keys - {"Variable"}
    if len(operators) != 1 or next(iter(operators)) not in OPERATORS:
        raise DefinitionNotSupported(f"{where}: comparison {sorted(operators)} is not supported")


def _matches(rule: Mapping[str, Any], document: Any, context: Mapping[str, Any]) -> bool:
    if "And" in rule:
        return all(_matches(sub, document, context) for sub in rule["And"])
    if "Or" in rule:
        return any(_matches(sub, document, context) for sub in rule["Or"])
    if "Not" in rule:
        return not _matches(rule["Not"], document, context)
    value = read_path(rule["Variable"], document, context)
    (operator,) = (k for k in rule if k in OPERATORS)
    return OPERATORS[operator](value, rule[operator])


def _error_matches(names: list[str], error: str) -> bool:
    if error == "States.Runtime":
        return False
    return error in names or "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout")


# -- executions ----------------------------------------------------------------------------------------
@dataclass
class Execution:
    name: str
    arn: str
    input: dict[str, Any]
    started: datetime
    status: str = "RUNNING"
    state: str = ""
    document: Any = None
    entered: datetime | None = None
    attempts: dict[int, int] = field(default_factory=dict)  # retrier index -> retries so far (this visit)
    token: str | None = None  # the callback token of the task it waits on
    answer: tuple[str, Any] | None = None  # ("success", output) or ("failure", StatesError)
    invoking: bool = False
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stopped: datetime | None = None
    history: list[tuple[datetime, str, str]] = field(default_factory=list)  # (time, event type, detail)


Invoke = Callable[[str, dict[str, Any]], Any]


class Executor:
    """Executions of one definition. ``invoke(function_arn, payload)`` runs a Lambda handler and returns
    its result (or raises); ``now()`` is the simulated clock. Implements the ``CaseWorkflow`` port."""

    def __init__(
        self,
        definition: Mapping[str, Any],
        invoke: Invoke,
        now: Callable[[], datetime],
        arn: str = "arn:aws:states:local:000000000000:stateMachine:cases",
        seed: int = 0,
    ) -> None:
        check_definition(definition)
        self.definition = definition
        self._states: Mapping[str, Any] = definition["States"]
        self._invoke = invoke
        self._now = now
        self._arn = arn
        self._random = random.Random(seed)
        self.executions: dict[str, Execution] = {}
        self._tokens: dict[str, Execution] = {}
        self._void: dict[str, str] = {}  # answered or expired token -> the code a late answer gets
        self._ready: deque[Execution] = deque()
        self._timers: list[tuple[datetime, int, str, str, str]] = []  # (when, n, execution, kind, token)
        self._sequence = itertools.count()
        self._running = False
        self.transitions = 0
        self.ended: list[str] = []  # executions that ended FAILED, TIMED_OUT or ABORTED (the status events)

    # -- the CaseWorkflow port ---------------------------------------------------------------------------
    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        existing = self.executions.get(name)
        if existing is not None:
            if existing.status == "RUNNING" and existing.input == dict(payload):
                return existing.arn  # StartExecution is idempotent for a running execution, same input
            raise ExecutionAlreadyExists(name)
        arn = self._arn.replace(":stateMachine:", ":execution:") + f":{name}"
        now = self._now()
        execution = Execution(name=name, arn=arn, input=dict(payload), started=now, document=dict(payload))
        self.executions[name] = execution
        self._event(execution, "ExecutionStarted")
        limit = MAX_EXECUTION
        if "TimeoutSeconds" in self.definition:
            limit = min(limit, timedelta(seconds=self.definition["TimeoutSeconds"]))
        heapq.heappush(self._timers, (now + limit, next(self._sequence), name, "execution", ""))
        self._enter(execution, self.definition["StartAt"], execution.document)
        self._ready.append(execution)
        return arn

    def resume(self, token: str, output: Mapping[str, Any]) -> None:
        self._answer(token, ("success", json.loads(json.dumps(output))))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._answer(token, ("failure", StatesError(error, cause)))

    def status(self, execution: str) -> str:
        """By the id ``start`` returned (or the name): as DescribeExecution's ``status``."""
        return self.executions[execution.rsplit(":", 1)[-1]].status

    def _answer(self, token: str, answer: tuple[str, Any]) -> None:
        execution = self._tokens.get(token)
        if execution is None or execution.status != "RUNNING" or execution.token != token:
            code = self._void.get(token, "InvalidToken")
            raise TokenNotWaiting(code, "the task token is not waiting for an answer")
        del self._tokens[token]
        self._void[token] = "InvalidToken"
        execution.token = None
        execution.answer = answer
        if not execution.invoking:
            self._ready.append(execution)

    # -- running -------------------------------------------------------------------------------------
    def run(self) -> None:
        """Run every execution that can move until each is parked at a callback, waiting on a timer, or
        finished. Calls made from inside a task (a handler answering a token) only queue work."""
        if self._running:
            return
        self._running = True
        try:
            while self._ready:
                execution = self._ready.popleft()
                if execution.status == "RUNNING":
                    self._step(execution)
        finally:
            self._running = False

    def next_timer(self) -> datetime | None:
        """When the earliest pending timer (a retry interval or a callback timeout) fires."""
        while self._timers and not self._live(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def fire_next(self) -> None:
        """Fire the earliest timer (the caller has moved the clock to its time), then run."""
        if self.next_timer() is None:
            return
        _, _, name, kind, token = heapq.heappop(self._timers)
        execution = self.executions[name]
        if kind == "execution":
            self._stop(execution, "TIMED_OUT", error="States.Timeout", cause="the execution ran out of time")
            return
        if kind == "timeout":
            del self._tokens[token]
            self._void[token] = "TaskTimedOut"
            execution.token = None
            execution.answer = ("failure", StatesError("States.Timeout", "the callback task timed out"))
            self._event(execution, "TaskTimedOut", "States.Timeout")
        else:
            execution.answer = ("retry", None)
        self._ready.append(execution)
        self.run()

    def _live(self, timer: tuple[datetime, int, str, str, str]) -> bool:
        _, _, name, kind, token = timer
        execution = self.executions[name]
        if execution.status != "RUNNING":
            return False
        if kind == "execution":
            return True
        if kind == "timeout":
            return execution.token == token
        return execution.token is None and execution.answer is None and token == f"retry:{execution.state}"

    def _step(self, execution: Execution) -> None:
        """Move ``execution`` as far as it goes without waiting."""
        while execution.status == "RUNNING":
            state = self._states[execution.state]
            try:
                if execution.answer is not None:
                    kind, value = execution.answer
                    execution.answer = None
                    if kind == "failure":
                        raise value
                    if kind == "success":
                        self._event(execution, "TaskSucceeded")
                        self._finish_task(execution, state, value)
                        continue
                    # kind == "retry": run the task again below
                kind = state["Type"]
                if kind == "Task":
                    if not self._run_task(execution, state):
                        return  # parked at a callback, or waiting for a retry
                elif kind == "Choice":
                    self._choose(execution, state)
                elif kind == "Succeed":
                    self._exit(execution)
                    self._stop(execution, "SUCCEEDED", output=execution.document)
                elif kind == "Fail":
                    self._stop(execution, "FAILED", error=state.get("Error"), cause=state.get("Cause"))
            except StatesError as exc:
                if not self._handle(execution, state, exc):
                    return

    def _context(self, execution: Execution, token: str | None = None) -> dict[str, Any]:
        context: dict[str, Any] = {
            "Execution": {
                "Id": execution.arn,
                "Name": execution.name,
                "Input": execution.input,
                "StartTime": _iso(execution.started),
            },
            "StateMachine": {"Id": self._arn},
            "State": {
                "Name": execution.state,
                "EnteredTime": _iso(execution.entered or execution.started),
                "RetryCount": sum(execution.attempts.values()),
            },
        }
        if token is not None:
            context["Task"] = {"Token": token}
        return context

    def _run_task(self, execution: Execution, state: Mapping[str, Any]) -> bool:
        """Invoke the task's function; True when the task finished (moved on), False when it waits."""
        callback = state["Resource"] in LAMBDA_CALLBACK
        token = f"{execution.name}:{uuid.uuid4().hex}" if callback else None
        params = render(state.get("Parameters", {}), execution.document, self._context(execution, token))
        function = str(params.get("FunctionName"))
        self._event(execution, "TaskScheduled")
        if token is not None:
            execution.token = token
            self._tokens[token] = execution
        execution.invoking = True
        try:
            result = self._invoke(function, params.get("Payload", {}))
        except Exception as exc:
            if token is not None:
                self._tokens.pop(token, None)
                self._void[token] = "TaskDoesNotExist"
                execution.token = None
                execution.answer = None
            raise StatesError(type(exc).__name__, json.dumps({"errorMessage": str(exc)})) from exc
        finally:
            execution.invoking = False
        if token is None:
            self._event(execution, "TaskSucceeded")
            payload = json.loads(json.dumps(result, default=str))
            self._finish_task(execution, state, {"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": 200})
            return True
        if execution.answer is not None:
            return True  # answered during the invocation: the loop takes the answer
        timeout = state.get("TimeoutSeconds")
        if timeout is not None:
            when = (execution.entered or self._now()) + timedelta(seconds=int(timeout))
            heapq.heappush(self._timers, (when, next(self._sequence), execution.name, "timeout", token))
        return False

    def _finish_task(self, execution: Execution, state: Mapping[str, Any], result: Any) -> None:
        context = self._context(execution)
        if "ResultSelector" in state:
            result = render(state["ResultSelector"], result, context)
        document = write_path(execution.document, state.get("ResultPath", "$"), result)
        self._exit(execution)
        self._next(execution, state, document)

    def _choose(self, execution: Execution, state: Mapping[str, Any]) -> None:
        context = self._context(execution)
        for rule in state.get("Choices", []):
            if _matches(rule, execution.document, context):
                self._exit(execution)
                self._enter(execution, rule["Next"], execution.document)
                return
        if "Default" not in state:
            raise StatesError("States.NoChoiceMatched", f"no choice rule matched in state '{execution.state}'")
        self._exit(execution)
        self._enter(execution, state["Default"], execution.document)

    def _handle(self, execution: Execution, state: Mapping[str, Any], error: StatesError) -> bool:
        """Retry, catch or fail; True when the execution moves on at once."""
        if state["Type"] == "Task" and error.error not in ("States.Timeout", "States.Runtime"):
            self._event(execution, "TaskFailed", error.error)
        for index, retrier in enumerate(state.get("Retry", [])):
            if _error_matches(retrier["ErrorEquals"], error.error):
                done = execution.attempts.get(index, 0)
                if done >= retrier.get("MaxAttempts", 3):
                    break
                execution.attempts[index] = done + 1
                delay = retrier.get("IntervalSeconds", 1) * retrier.get("BackoffRate", 2.0) ** done
                if retrier.get("JitterStrategy") == "FULL":
                    delay = self._random.uniform(0, delay)
                when = self._now() + timedelta(seconds=delay)
                heapq.heappush(
                    self._timers, (when, next(self._sequence), execution.name, "retry", f"retry:{execution.state}")
                )
                return False
        for catcher in state.get("Catch", []):
            if _error_matches(catcher["ErrorEquals"], error.error):
                output = {"Error": error.error, "Cause": error.cause}
                document = write_path(execution.document, catcher.get("ResultPath", "$"), output)
                self._exit(execution)
                self._enter(execution, catcher["Next"], document)
                return True
        self._stop(execution, "FAILED", error=error.error, cause=error.cause)
        return False

    def _next(self, execution: Execution, state: Mapping[str, Any], document: Any) -> None:
        if state.get("End"):
            self._stop(execution, "SUCCEEDED", output=document)
        else:
            self._enter(execution, state["Next"], document)

    def _enter(self, execution: Execution, name: str, document: Any) -> None:
        now = self._now()
        if execution.entered is not None and now <= execution.entered:
            now = execution.entered + timedelta(milliseconds=1)  # time passes between states
        execution.state = name
        execution.document = document
        execution.entered = now
        execution.attempts = {}
        self.transitions += 1
        kind = self._states[name]["Type"]
        self._event(execution, f"{kind}StateEntered", name)

    def _exit(self, execution: Execution) -> None:
        kind = self._states[execution.state]["Type"]
        self._event(execution, f"{kind}StateExited", execution.state)

    def _stop(
        self, execution: Execution, status: str, output: Any = None, error: Any = None, cause: Any = None
    ) -> None:
        execution.status = status
        execution.output = output
        execution.error = error
        execution.cause = cause
        execution.stopped = self._now()
        if execution.token is not None:
            self._tokens.pop(execution.token, None)
            self._void[execution.token] = "TaskDoesNotExist"
            execution.token = None
        if status != "SUCCEEDED":
            self.ended.append(execution.name)
        if status == "SUCCEEDED":
            self._event(execution, "ExecutionSucceeded")
        elif status == "TIMED_OUT":
            self._event(execution, "ExecutionTimedOut", str(error))
        else:
            self._event(execution, "ExecutionFailed", str(error))

    def _event(self, execution: Execution, kind: str, detail: str = "") -> None:
        execution.history.append((self._now(), kind, detail))  # compact: a run may hold millions

    def history(self, name: str) -> list[dict[str, Any]]:
        """An execution's history as GetExecutionHistory gives it (``id``, ``timestamp``, ``type`` and
        the event's details: the state's name, or the error)."""
        execution = self.executions.get(name)
        if execution is None:
            return []
        events = []
        for number, (when, kind, detail) in enumerate(execution.history, start=1):
            event: dict[str, Any] = {"id": number, "timestamp": when, "type": kind}
            if kind.endswith("StateEntered"):
                event["stateEnteredEventDetails"] = {"name": detail}
            elif kind.endswith("StateExited"):
                event["stateExitedEventDetails"] = {"name": detail}
            elif kind == "TaskFailed":
                event["taskFailedEventDetails"] = {"error": detail}
            elif kind == "TaskTimedOut":
                event["taskTimedOutEventDetails"] = {"error": detail}
            elif kind == "ExecutionFailed":
                event["executionFailedEventDetails"] = {"error": detail, "cause": execution.cause}
            events.append(event)
        return events

    # -- reading -------------------------------------------------------------------------------------
    def parked(self, name: str) -> bool:
        """Is the execution waiting at a callback task (its token stored, not answered)?"""
        execution = self.executions.get(name)
        return bool(execution and execution.status == "RUNNING" and execution.token and not execution.invoking)

    def moving(self) -> list[str]:
        """Running executions that are neither parked at a callback nor merely waiting for a timer."""
        waiting = {timer[2] for timer in self._timers if timer[3] != "execution" and self._live(timer)}
        return [
            e.name
            for e in self.executions.values()
            if e.status == "RUNNING" and not self.parked(e.name) and e.name not in waiting
        ]

    def describe(self, name: str) -> dict[str, Any]:
        """As DescribeExecution answers."""
        e = self.executions[name]
        out: dict[str, Any] = {
            "executionArn": e.arn,
            "stateMachineArn": self._arn,
            "name": e.name,
            "status": e.status,
            "startDate": e.started,
            "input": json.dumps(e.input),
        }
        if e.stopped is not None:
            out["stopDate"] = e.stopped
        if e.status == "SUCCEEDED":
            out["output"] = json.dumps(e.output)
        if e.error is not None:
            out["error"] = e.error
        if e.cause is not None:
            out["cause"] = e.cause
        return out


def _iso(moment: datetime) -> str:
    """As Step Functions writes times in the context object: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
