"""The case state machine (Amazon States Language, JSONPath), built in one place.

CDK deploys the definition this module builds, and the local runtime runs the very same one: both call
``build_definition`` with the function ARNs of their world.

A case never sleeps in a ``Wait`` state. Each waiting stage is a callback task (``.waitForTaskToken``):
the ``case_wait`` function stores the task token and the wake-up date on the case and returns; the case
resumes when the daily scan finds the date has come, when a payment lands (loans-table stream), or when
an API call (plan proposed / accepted, promise to pay) answers it. Every callback also has a
``TimeoutSeconds`` safety net whose Catch goes to a re-evaluation task, so no case can wait forever.

The events that resume a wait carry ``kind``:
``cured`` (DPD back to 0), ``no_response`` (the wake-up date came), ``plan_proposed``, ``plan_accepted``,
``promise_to_pay``, ``tick`` (a plan reminder or progress notice is due), ``plan_completed``,
``broken_promise`` (with ``renegotiations_left``), ``paused`` (a complaint is open: keep waiting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dueflow.settings import Settings

DAY = 86_400

# Human-readable state names: operators read them in the Step Functions console.
CONFIRM = "Confirm overdue"
FIRST_CONTACT = "First contact"
AWAIT_RESPONSE = "Await response"
SECOND_REMINDER = "Second reminder"
AWAIT_SECOND = "Await response to second reminder"
NEGOTIATE = "Negotiate by phone"
AWAIT_AGREEMENT = "Await agreement"
FOLLOW_UP = "Follow up plan"
AWAIT_PLAN = "Await plan event"
START = "New or continued case?"
CONTINUE_CHOICE = "Follow up plan: continue in a new execution?"
CONTINUE = "Continue in a new execution"
CONTINUED = "Continued in a new execution"
WAITING_STATES = (AWAIT_RESPONSE, AWAIT_SECOND, AWAIT_AGREEMENT, AWAIT_PLAN)
RENEGOTIATE = "Renegotiation allowed?"
LEGAL_REVIEW = "Legal review"
LITIGATE = "Litigate?"
CLOSED = {
    "CURED": "Closed: cured",
    "SETTLED": "Closed: settled",
    "LITIGATION": "Closed: litigation",
    "WRITE_OFF_REVIEW": "Closed: write-off review",
}
OUTCOMES = tuple(CLOSED)
# the working stages an execution may begin at (a continued plan, a restart after a failed execution)
RESUMABLE_STAGES = (CONFIRM, FIRST_CONTACT, SECOND_REMINDER, NEGOTIATE, FOLLOW_UP, LEGAL_REVIEW)

# The Chinese name a collections team uses for each state a case shows (the console keeps the English)
STATE_NAMES_ZH: dict[str, str] = {
    "Opening": "立案中",
    CONFIRM: "确认逾期",
    FIRST_CONTACT: "初次联系",
    AWAIT_RESPONSE: "等待客户回应",
    SECOND_REMINDER: "二次提醒",
    AWAIT_SECOND: "等待二次提醒回应",
    NEGOTIATE: "电话协商",
    AWAIT_AGREEMENT: "等待达成协议",
    FOLLOW_UP: "还款计划跟进",
    AWAIT_PLAN: "等待还款计划事件",
    CONTINUE: "转入新执行",
    LEGAL_REVIEW: "法律审查",
    CLOSED["CURED"]: "结案：已结清逾期",
    CLOSED["SETTLED"]: "结案：按计划还清",
    CLOSED["LITIGATION"]: "结案：移交诉讼",
    CLOSED["WRITE_OFF_REVIEW"]: "结案：核销审查",
}

# The stage task behind each working state: ``case_stage`` gets the key, the console shows the label.
# The one map from stage keys to state names (the case's ``stage``, metrics, reports).
STAGE_LABELS: dict[str, str] = {
    "confirm_overdue": CONFIRM,
    "first_contact": FIRST_CONTACT,
    "second_reminder": SECOND_REMINDER,
    "negotiate": NEGOTIATE,
    "follow_up": FOLLOW_UP,
    "legal_review": LEGAL_REVIEW,
    "continue": CONTINUE,
}


@dataclass(frozen=True, slots=True)
class Functions:
    """The ARNs the definition invokes: ``stage`` runs a stage's work, ``wait`` parks a callback; the
    service integrations are in the stack's ``partition`` (``aws``, ``aws-cn``: CDK passes its token)."""

    stage: str
    wait: str
    partition: str = "aws"

    @property
    def invoke(self) -> str:
        return f"arn:{self.partition}:states:::lambda:invoke"


def _stage_task(functions: Functions, stage: str, next_state: str, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "stage": stage,
        "case_id.$": "$.case_id",
        "loan_id.$": "$.loan_id",
        "execution.$": "$$.Execution.Name",
        "entered.$": "$$.State.EnteredTime",
    }
    payload.update(extra)
    return {
        "Type": "Task",
        "Comment": f"case_stage: {stage}",
        "Resource": functions.invoke,
        "Parameters": {"FunctionName": functions.stage, "Payload": payload},
        "ResultSelector": {"outcome.$": "$.Payload.outcome"},
        "ResultPath": "$.step",
        "Retry": [
            {
                "ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException", "States.Timeout"],
                "IntervalSeconds": 2,
                "MaxAttempts": 6,
                "BackoffRate": 2.0,
                "JitterStrategy": "FULL",
            },
            {
                # a handler that failed part-way (an AWS call that kept failing): stage work is idempotent
                # (deterministic message ids, audit dedupe keys), so running it again is safe
                "ErrorEquals": ["States.TaskFailed"],
                "IntervalSeconds": 5,
                "MaxAttempts": 3,
                "BackoffRate": 3.0,
            },
        ],
        "TimeoutSeconds": 300,
        "Next": next_state,
    }


def _await(functions: Functions, name: str, wait: str, days: int, router: str, reevaluate: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Comment": f"case_wait: {wait} (wakes after {days} days, or on a payment or API event)",
        "Resource": f"{functions.invoke}.waitForTaskToken",
        "Parameters": {
            "FunctionName": functions.wait,
            "Payload": {
                "wait": wait,
                "days": days,
                "case_id.$": "$.case_id",
                "loan_id.$": "$.loan_id",
                "token.$": "$$.Task.Token",
                "state.$": "$$.State.Name",
                "entered.$": "$$.State.EnteredTime",
            },
        },
        "ResultPath": "$.event",
        # safety net: a little beyond the wake-up date, in case no trigger ever answers
        "TimeoutSeconds": (days + 3) * DAY,
        "Retry": [
            {
                "ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
                "IntervalSeconds": 2,
                "MaxAttempts": 6,
                "BackoffRate": 2.0,
            },
            {
                # case_wait failed part-way (an AWS call that kept failing): it only records the token
                # and the wake-up date, so running it again is safe (a new attempt, a new token)
                "ErrorEquals": ["States.TaskFailed"],
                "IntervalSeconds": 5,
                "MaxAttempts": 3,
                "BackoffRate": 3.0,
            },
        ],
        "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": reevaluate}],
        "Next": router,
    }


def _reevaluate(functions: Functions, name: str, router: str) -> dict[str, Any]:
    state = _stage_task(functions, "reevaluate", router, **{"waiting": name})
    state["Comment"] = f"re-evaluate the case after '{name}' timed out"
    state["ResultSelector"] = {
        "kind.$": "$.Payload.kind",
        "renegotiations_left.$": "$.Payload.renegotiations_left",
        "legal_review_due.$": "$.Payload.legal_review_due",
    }
    state["ResultPath"] = "$.event"
    return state


def _choice(routes: dict[str, str], default: str) -> dict[str, Any]:
    return {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.event.kind", "StringEquals": kind, "Next": target} for kind, target in routes.items()
        ],
        "Default": default,
    }


def _close(functions: Functions, outcome: str) -> dict[str, Any]:
    state = _stage_task(functions, "close", f"{CLOSED[outcome]}: done", outcome=outcome)
    state["Comment"] = f"close the case as {outcome}"
    return state


def build_definition(functions: Functions, settings: Settings) -> dict[str, Any]:
    """The state machine definition for ``functions``, with waits sized by ``settings``."""
    states: dict[str, Any] = {}
    # every execution's input says where it begins: "Confirm overdue" for a new case; "Follow up plan"
    # for a long plan continued in a new execution; the re-evaluation of the state a case was waiting in
    # when its execution ended (it reads the case's record and routes on from there); the working stage
    # or the closing a failed execution was in when it ended (dueflow.services.recovery: the stage runs
    # again as the same visit, so it sends and records nothing twice)
    resume_at = {
        **{name: name for name in RESUMABLE_STAGES},
        **{name: f"{name}: re-evaluate" for name in WAITING_STATES},
        **{name: name for name in CLOSED.values()},
    }
    states[START] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.resume_at", "StringEquals": key, "Next": to} for key, to in resume_at.items()],
        "Default": CONFIRM,
    }

    def waiting(name: str, wait: str, days: int, routes: dict[str, str], default: str) -> None:
        router = f"{name}: what happened?"
        reevaluate = f"{name}: re-evaluate"
        states[name] = _await(functions, name, wait, days, router, reevaluate)
        states[reevaluate] = _reevaluate(functions, name, router)
        states[router] = _choice({"cured": CLOSED["CURED"], "paused": name, "promised": name, **routes}, default)

    # a case whose limitation period nears its end goes to legal review from any wait before a plan
    nearing = {"limitation_nearing": LEGAL_REVIEW}

    stage = {label: key for key, label in STAGE_LABELS.items()}
    states[CONFIRM] = _stage_task(functions, stage[CONFIRM], FIRST_CONTACT)
    states[FIRST_CONTACT] = _stage_task(functions, stage[FIRST_CONTACT], AWAIT_RESPONSE)
    waiting(
        AWAIT_RESPONSE,
        "response",
        settings.response_days,
        {"plan_accepted": FOLLOW_UP, "plan_proposed": AWAIT_AGREEMENT, "promise_to_pay": AWAIT_AGREEMENT, **nearing},
        SECOND_REMINDER,
    )
    states[SECOND_REMINDER] = _stage_task(functions, stage[SECOND_REMINDER], AWAIT_SECOND)
    waiting(
        AWAIT_SECOND,
        "response",
        settings.response_days,
        {
            "plan_accepted": FOLLOW_UP,
            "plan_proposed": AWAIT_AGREEMENT,
            "promise_to_pay": AWAIT_AGREEMENT,
            "not_yet": SECOND_REMINDER,  # before the negotiation threshold: another reminder
            **nearing,
        },
        NEGOTIATE,
    )
    states[NEGOTIATE] = _stage_task(functions, stage[NEGOTIATE], AWAIT_AGREEMENT)
    waiting(
        AWAIT_AGREEMENT,
        "agreement",
        settings.negotiation_days,
        {
            "plan_accepted": FOLLOW_UP,
            "plan_proposed": AWAIT_AGREEMENT,
            "promise_to_pay": AWAIT_AGREEMENT,
            "not_yet": NEGOTIATE,  # before the legal-review threshold: another agent call
            **nearing,
        },
        LEGAL_REVIEW,
    )
    # a Standard execution lives at most a year: a long plan goes on in a new execution of the same case
    states[FOLLOW_UP] = _stage_task(
        functions, stage[FOLLOW_UP], CONTINUE_CHOICE, **{"started.$": "$$.Execution.StartTime"}
    )
    states[CONTINUE_CHOICE] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.step.outcome", "StringEquals": "continue_as_new", "Next": CONTINUE}],
        "Default": AWAIT_PLAN,
    }
    states[CONTINUE] = _stage_task(functions, stage[CONTINUE], CONTINUED)
    states[CONTINUED] = {"Type": "Succeed", "Comment": "the case goes on in its next execution"}
    waiting(
        AWAIT_PLAN,
        "plan",
        settings.plan_wait_days,
        {"plan_completed": CLOSED["SETTLED"], "tick": FOLLOW_UP, "broken_promise": RENEGOTIATE},
        FOLLOW_UP,
    )
    states[RENEGOTIATE] = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.event.renegotiations_left", "NumericGreaterThan": 0, "Next": NEGOTIATE},
            # no renegotiation left, but not yet past the legal-review threshold: negotiate on
            {"Variable": "$.event.legal_review_due", "BooleanEquals": False, "Next": NEGOTIATE},
        ],
        "Default": LEGAL_REVIEW,
    }
    states[LEGAL_REVIEW] = _stage_task(functions, stage[LEGAL_REVIEW], LITIGATE)
    states[LITIGATE] = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.step.outcome", "StringEquals": "litigate", "Next": CLOSED["LITIGATION"]},
            # not worth litigating, and not yet at the write-off review threshold: collection goes on
            {"Variable": "$.step.outcome", "StringEquals": "collect_on", "Next": NEGOTIATE},
        ],
        "Default": CLOSED["WRITE_OFF_REVIEW"],
    }
    for outcome in OUTCOMES:
        states[CLOSED[outcome]] = _close(functions, outcome)
        states[f"{CLOSED[outcome]}: done"] = {"Type": "Succeed", "Comment": f"outcome {outcome}"}
    return {
        "Comment": "DueFlow collection case: confirm, contact, negotiate, follow up, legal review, close",
        "StartAt": START,
        "States": states,
    }


def stage_names(definition: dict[str, Any]) -> list[str]:
    """The state names of a definition, in definition order."""
    return list(definition["States"])


def build_definition_names() -> tuple[str, ...]:
    """Every state a case's stage may name, as the console shows it (and ``Opening``, before its first)."""
    return ("Opening", *stage_names(build_definition(Functions(stage="stage", wait="wait"), Settings())))
