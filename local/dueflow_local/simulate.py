"""``dueflow simulate``: a loan book played day by day through the real workflow on the local runtime.

Each simulated day runs the daily scan at its local time, the outbox dispatcher at its ticks, and that
day's events (payments, plans, promises, complaints, opt-outs) at their times through the same entry
point production uses: the REST API handler. Outputs go to ``summary.json`` and ``cases.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from dueflow import clock
from dueflow.domain.audit_chain import verify_chain
from dueflow.domain.book import validation_errors
from dueflow.domain.case import execution_name, loan_of_case
from dueflow.domain.classification import bucket
from dueflow.domain.loan import FieldError, Loan, known_time_zone
from dueflow.domain.money import fmt
from dueflow.domain.portfolio import assess_portfolio
from dueflow.domain.position import assess
from dueflow.domain.strict import iso_date, plain_decimal, strict_json
from dueflow.services.case_actions import CALL_OUTCOMES
from dueflow.services.context import loan_date, loan_zone, scan_moment
from dueflow.services.digests import seal_day
from dueflow.services.workbench import DISPOSITIONS
from dueflow.settings import Settings
from dueflow.workflow import definition
from dueflow.workflow.definition import CLOSED, STAGE_LABELS
from dueflow_local import invariants
from dueflow_local.cost import PRICES, measured_monthly_cost, naive_design
from dueflow_local.faults import FaultPlan, injecting, injecting_memory
from dueflow_local.memory_runtime import MemoryRuntime
from dueflow_local.meter import CallMeter, metering
from dueflow_local.report import render_report
from dueflow_local.runtime import Backend, Runtime, open_runtime

API_ATTEMPTS = 5  # the bank's systems and the agents' desktop call again after a 5xx, as any client would


Plain = BeforeValidator(plain_decimal)  # one strict policy for amounts and dates (dueflow.domain.strict)
Day = Annotated[dt.date, BeforeValidator(iso_date)]


EVENT_TYPES = (
    "payment",
    "plan_proposed",
    "plan_accepted",
    "promise_to_pay",
    "complaint_opened",
    "complaint_resolved",
    "opt_out",
    "do_not_contact",
    "do_not_contact_cleared",
    "call_attempt",
    "conversation",
    "call_outcome",
    "waiver_approved",
    "waiver_refused",
    "acceleration_notice",
    "assigned",
    "note",
)
# the fields each type needs (a line without one is reported naming the field)
REQUIRED: dict[str, tuple[str, ...]] = {
    "payment": ("amount",),
    "do_not_contact": ("reason",),
    "do_not_contact_cleared": ("reason",),
    "call_attempt": ("outcome",),
    "conversation": ("outcome",),
    "call_outcome": ("disposition",),
    "waiver_refused": ("reason",),
    "acceleration_notice": ("reference",),
    "note": ("text",),
}
# who acts, by role: each a separate person (a waiver above an agent's authority needs someone else)
STAFF = {
    "agent": ("sim-agent", ("agent",)),
    "supervisor": ("sim-supervisor", ("supervisor",)),
    "collections_manager": ("sim-manager", ("collections_manager",)),
    "legal": ("sim-legal", ("legal",)),
}
Short = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00-\x1f\x7f]+$")]


class SimEvent(BaseModel):
    """One line of an event log (JSON Lines): every action the API offers, at a time in the bank's zone
    or, with ``zone``, in the customer's (``"customer"``) or any IANA zone (the
    event log table in the README)."""

    model_config = ConfigDict(extra="forbid")

    date: Day
    time: str = Field(default="12:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    zone: str | None = Field(default=None, max_length=64)
    type: Literal[EVENT_TYPES]  # type: ignore[valid-type]
    loan_id: str = Field(min_length=1, max_length=64)
    amount: Annotated[Decimal, Plain] | None = Field(default=None, gt=0, max_digits=15, decimal_places=2)
    role: Literal["agent", "supervisor", "collections_manager", "legal"] | None = None
    waive_penalty: Annotated[Decimal, Plain] = Field(default=Decimal("0"), ge=0, max_digits=15, decimal_places=2)
    waive_interest: Annotated[Decimal, Plain] = Field(default=Decimal("0"), ge=0, max_digits=15, decimal_places=2)
    months: int | None = Field(default=None, ge=1, le=120, strict=True)
    request_approval: bool = Field(default=False, strict=True)
    promised_date: Day | None = None
    channel: Literal["sms", "email", "call"] | None = None
    # a dial attempt's outcome, or the words of a conversation's
    outcome: Short | None = None
    disposition: str | None = Field(default=None, max_length=64)  # one of the API's (workbench.DISPOSITIONS)
    reason: Short | None = None  # do-not-contact, a refused waiver
    reason_code: str | None = Field(default=None, max_length=64)  # hardship
    text: Short | None = None  # a note; a call outcome's note
    agent: str | None = Field(default=None, min_length=1, max_length=128)  # assigned to
    reference: str | None = Field(default=None, min_length=3, max_length=100)  # an acceleration notice's
    sent_on: Day | None = None  # an acceleration notice's (default: the event's date)

    @model_validator(mode="after")
    def _complete(self) -> SimEvent:
        for name in REQUIRED.get(self.type, ()):
            if getattr(self, name) is None:
                raise FieldError(name, f"a {self.type} event needs {name}")
        if self.zone is not None and self.zone != "customer" and not known_time_zone(self.zone):
            raise FieldError("zone", f"{self.zone[:40]!r} is neither 'customer' nor an IANA time zone")
        if self.type == "call_attempt" and self.outcome not in CALL_ATTEMPT_OUTCOMES:
            raise FieldError("outcome", f"must be one of {', '.join(CALL_ATTEMPT_OUTCOMES)}")
        if self.disposition is not None and self.disposition not in DISPOSITIONS:
            raise FieldError("disposition", f"must be one of {', '.join(DISPOSITIONS)}")
        if self.disposition == "promise_to_pay" and (self.promised_date is None or self.amount is None):
            raise FieldError("promised_date", "a promise_to_pay call outcome needs promised_date and amount")
        return self


CALL_ATTEMPT_OUTCOMES = CALL_OUTCOMES  # what the API accepts (dueflow.services.case_actions)
# what an agent does unless the line names another role (the rest: a supervisor, an acceleration: legal)
AGENT_ACTIONS = ("plan_proposed", "promise_to_pay", "call_attempt", "conversation", "call_outcome", "note")


@dataclass
class EventProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"event line {self.line}: {self.reason}"


def read_events(path: Path, loan_ids: set[str]) -> tuple[list[tuple[int, SimEvent]], list[EventProblem]]:
    """Valid events with their line numbers, and every bad line with its reason (skipped, not fatal)."""
    events: list[tuple[int, SimEvent]] = []
    problems: list[EventProblem] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            raw = strict_json(text)
            event = SimEvent.model_validate(raw)
        except json.JSONDecodeError as exc:
            problems.append(EventProblem(number, f"bad JSON: {exc.msg}"))
            continue
        except ValidationError as exc:  # every field's error of the line, not only the first
            reasons = "; ".join(f"field {name}: {reason}" for name, reason in validation_errors(exc))
            problems.append(EventProblem(number, reasons))
            continue
        if event.loan_id not in loan_ids:
            problems.append(EventProblem(number, f"unknown loan {event.loan_id!r}"))
            continue
        if event.type == "payment" and event.amount is None:
            problems.append(EventProblem(number, "field amount: a payment needs an amount"))
            continue
        events.append((number, event))
    return events, problems


FUNNEL = (  # the stages a case can pass through, in the order of the definition
    definition.CONFIRM,
    definition.FIRST_CONTACT,
    definition.AWAIT_RESPONSE,
    definition.SECOND_REMINDER,
    definition.AWAIT_SECOND,
    definition.NEGOTIATE,
    definition.AWAIT_AGREEMENT,
    definition.FOLLOW_UP,
    definition.AWAIT_PLAN,
    definition.LEGAL_REVIEW,
)


@dataclass
class Simulation:
    book: list[Loan]
    events: list[tuple[int, SimEvent]]
    start: date
    days: int
    settings: Settings = field(default_factory=lambda: Settings(environment="sim", index_shards=4))
    problems: list[EventProblem] = field(default_factory=list)
    applied: int = 0
    faults: FaultPlan = field(default_factory=FaultPlan)
    fault_seed: int = 0
    baseline: Mapping[str, str] | None = None  # case id -> outcome of a run to compare with
    api_retries: int = 0
    backend: Backend = "memory"
    workers: int = 1  # processes, each playing the loans of a share of the customers
    stream: str = "0"  # this process's digest stream (a worker seals the cases it holds)
    emit_metrics: bool = False  # handlers print their EMF metrics (the in-memory world, one process)
    language: str | None = None  # the report's (None: settings.report_language)
    log_level: str = "INFO"  # the handlers' log lines kept in the run folder (logs.jsonl)
    _audit_stages: dict[str, set[str]] = field(default_factory=dict)
    _audit_messages: dict[str, set[str]] = field(default_factory=dict)
    _audit_opt_outs: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)

    def run(self, out: Path, progress: Callable[[int, dict[str, int]], None] | None = None) -> dict[str, Any]:
        """Play the run (in ``workers`` processes when more than one) and write its outputs (a previous
        run's audit copy in ``out`` is removed first: records of two runs must never mix)."""
        out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(out / "audit", ignore_errors=True)
        for old in out.glob("logs*.jsonl"):
            old.unlink()
        if self.workers > 1 and len(self.book) > 1:
            played = merge(play_in_workers(self, out, progress))
        else:
            played = self.play(out, progress)
        _gather_logs(out)
        return self.report(out, played)

    def play(self, out: Path, progress: Callable[[int, dict[str, int]], None] | None = None) -> Played:
        """Play every day of the book through the workflow; what the run left behind, read back."""
        by_day: dict[date, list[tuple[str, int, SimEvent]]] = {}
        last = self.start + timedelta(days=self.days - 1)
        for number, event in self.events:
            day, hhmm = self._bank_time(event)
            if not self.start <= day <= last:  # reported, never silently left out
                self.problems.append(
                    EventProblem(number, f"dated {day} in the bank's zone, outside the run ({self.start} to {last})")
                )
                continue
            by_day.setdefault(day, []).append((hhmm, number, event))
        begin = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC) - timedelta(days=1)
        meter = CallMeter()
        daily: list[dict[str, Any]] = []
        fault_report: dict[str, Any] | None = None
        runtime = open_runtime(
            self.backend,
            self.settings,
            start=begin,
            tolerate_failures=bool(self.faults),
            keep_events=False,
            emit_metrics=self.emit_metrics,
        )
        with handler_logs(out / f"logs-{self.stream}.jsonl", self.log_level), runtime as rt, self._metered(rt, meter):
            with meter.pause():
                rt.load_book(self.book, self.start - timedelta(days=1))
                snapshots = [self._buckets(rt, self.start - timedelta(days=1))]
            with ExitStack() as stack:
                injector = stack.enter_context(self._faulty(rt)) if self.faults else None
                for offset in range(self.days):
                    day = self.start + timedelta(days=offset)
                    actions = [
                        (hhmm, self._action(rt, number, event))
                        for hhmm, number, event in sorted(by_day.get(day, []), key=lambda item: item[0])
                    ]
                    rt.run_day(day, actions)
                    open_now = rt.running_executions()
                    daily.append({"date": day.isoformat(), "open": open_now})
                    if (offset + 1) % 30 == 0:
                        with meter.pause():
                            snapshots.append(self._buckets(rt, day))
                    if progress is not None:
                        progress(offset + 1, {"open": open_now, "sent": meter.messages_sent()})
                if injector is not None:
                    fault_report = {
                        **injector.summary(),
                        "failed_invocations": dict(sorted(Counter(n for n, _ in rt.dispatcher.failures).items())),
                        "api_calls_repeated": self.api_retries,
                        "stream_records_dead_lettered": len(rt.dead_letters),
                    }
            with meter.pause():
                # the next morning's scan would seal the last day: seal it now, and export the digests
                seal_day(rt.services, (self.start + timedelta(days=self.days - 1)).isoformat())
                export_digests(out, self.stream, rt.services.audit_store.seals(), rt.services.signer.public_key_pem())
                items = self._cases(rt)
                cases = [self._case_line(rt, case, out) for case in items]
                final_book = [loan for loan in (rt.services.loans.get(loan.loan_id) for loan in self.book) if loan]
                facts = self._facts(rt, items, cases, final_book, meter)
                return Played(
                    cases=cases,
                    sent=self._sent_messages(rt),
                    final_book=final_book,
                    snapshots=snapshots,
                    daily=daily,
                    calls=Counter(meter.calls),
                    invocations=Counter(rt.dispatcher.invocations),
                    transitions=rt.state_transitions(),
                    footprint=rt.loans_table_footprint(),
                    checked=invariants.check(facts),
                    unconfirmed=sum(1 for m in facts.outbox if m.get("status") == "UNCONFIRMED"),
                    faults=fault_report,
                    problems=list(self.problems),
                    applied=self.applied,
                    api_retries=self.api_retries,
                )

    def report(self, out: Path, played: Played) -> dict[str, Any]:
        """summary.json, cases.jsonl, daily.json and report.html from what the run left behind."""
        self.problems, self.applied, self.api_retries = played.problems, played.applied, played.api_retries
        end = self.start + timedelta(days=self.days - 1)
        meter = CallMeter()
        meter.calls = played.calls
        cases, sent, daily = played.cases, played.sent, played.daily
        aws = self._aws(meter, played.invocations, played.transitions)
        summary = self._summary(cases, sent, played.final_book, end, played.snapshots, aws)
        aws["naive_design"] = self._naive(
            aws, played.invocations, played.transitions, summary["case_days"], played.footprint
        )
        summary["workers"] = max(self.workers, 1)
        summary["messages_unconfirmed"] = played.unconfirmed
        summary["faults"] = played.faults
        summary["invariants"] = played.checked
        self._fill_daily(daily, cases, sent)
        with (out / "cases.jsonl").open("w", encoding="utf-8") as handle:
            for line in cases:
                handle.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
        (out / "daily.json").write_text(json.dumps(daily, indent=1, ensure_ascii=False) + "\n")
        language = self.language or self.settings.report_language
        (out / "report.html").write_text(render_report(summary, daily, cases, language), encoding="utf-8")
        return summary

    @staticmethod
    def _metered(rt: Runtime, meter: CallMeter) -> Any:
        """Count the run's AWS calls: botocore's in the moto world, the wire's in the in-memory world."""
        if isinstance(rt, MemoryRuntime):
            rt.wire.before.append(meter.record)
            rt.wire.after.append(meter.delivered)
            return nullcontext(meter)
        return metering(meter)

    def _faulty(self, rt: Runtime) -> Any:
        if isinstance(rt, MemoryRuntime):
            return injecting_memory(self.faults, rt.wire, self.fault_seed, rt.dispatcher.in_handler)
        return injecting(self.faults, self.fault_seed, rt.dispatcher.in_handler)

    # -- events ---------------------------------------------------------------------------------------
    def _bank_time(self, event: SimEvent) -> tuple[date, str]:
        """The bank's day and time (``HH:MM``) of an event: its own when it names no zone, else its time in
        that zone (``customer``: its loan's customer's) turned into the bank's."""
        if event.zone is None:
            return event.date, event.time
        if event.zone == "customer":
            loan = next((loan for loan in self.book if loan.loan_id == event.loan_id), None)
            zone = loan_zone(loan, self.settings) if loan is not None else self.settings.time_zone
        else:
            zone = event.zone
        hour, minute = map(int, event.time.split(":"))
        local = datetime(event.date.year, event.date.month, event.date.day, hour, minute, tzinfo=ZoneInfo(zone))
        bank = local.astimezone(ZoneInfo(self.settings.time_zone))
        return bank.date(), bank.strftime("%H:%M")

    def _action(self, rt: Runtime, number: int, event: SimEvent) -> Callable[[], None]:
        def apply() -> None:
            status, body = self._apply(rt, event, number)
            for _ in range(API_ATTEMPTS - 1):
                if status < 500:
                    break
                self.api_retries += 1
                status, body = self._apply(rt, event, number)
            if status == 200:
                self.applied += 1
            else:
                reason = (body or {}).get("message") if isinstance(body, dict) else body
                self.problems.append(EventProblem(number, f"{event.type} refused ({status}): {reason}"))

        return apply

    def _apply(self, rt: Runtime, event: SimEvent, number: int = 0) -> tuple[int, Any]:
        """The event as the API call it stands for, by the person of its role."""
        if event.type == "payment":
            # the event's line is the bank's payment reference: calling again after a 5xx posts it once
            payment = {"date": event.date.isoformat(), "amount": str(event.amount), "reference": f"event-{number}"}
            return rt.api("POST", f"/loans/{event.loan_id}/payments", payment, system=True)
        case = rt.services.cases.open_case_for_loan(event.loan_id)
        if case is None:
            return 409, {"message": f"loan {event.loan_id} has no open case"}
        case_id = case.case_id
        path = f"/cases/{case_id}"
        if event.type == "plan_accepted":
            # the customer accepts the proposal they were shown: the one on the case now, if any
            shown = case.plan
            named = {"version": shown.version, "plan_hash": shown.content_hash} if shown else NO_PLAN
            return rt.api("POST", f"{path}/plan-acceptance", named, system=True)
        default = "agent" if event.type in AGENT_ACTIONS else "supervisor"
        if event.type == "acceleration_notice":
            default = "legal"
        staff = self._staff(rt, case_id, event.role or default, case.assigned_to)
        if event.type == "plan_proposed":
            body: dict[str, Any] = {
                "waive_penalty": str(event.waive_penalty),
                "waive_interest": str(event.waive_interest),
                "request_approval": event.request_approval,
            }
            if event.months:
                body["months"] = event.months
            return rt.api("POST", f"{path}/plan-proposals", body, **staff)
        if event.type == "promise_to_pay":
            promised = event.promised_date or event.date + dt.timedelta(days=7)  # a week unless the line says
            promise = {"promised_date": str(promised), "amount": str(event.amount or "0.00")}
            return rt.api("POST", f"{path}/promises", promise, **staff)
        now = clock.now().isoformat()
        calls: dict[str, tuple[str, dict[str, Any] | None]] = {
            "complaint_opened": ("complaints", None),
            "complaint_resolved": ("complaints/resolve", None),
            "opt_out": ("opt-outs", {"channel": event.channel or "sms"}),
            "do_not_contact": ("do-not-contact", {"reason": event.reason}),
            "do_not_contact_cleared": ("do-not-contact/clear", {"reason": event.reason}),
            "call_attempt": ("call-attempts", {"outcome": event.outcome, "at": now}),
            "conversation": ("conversations", {"outcome": event.outcome}),
            "call_outcome": ("call-outcomes", self._outcome(event, now)),
            "acceleration_notice": (
                "acceleration-notice",
                {"sent_on": (event.sent_on or event.date).isoformat(), "reference": event.reference},
            ),
            "assigned": ("assignment", {"agent": event.agent or STAFF["agent"][0]}),
            "note": ("notes", {"text": event.text}),
        }
        if event.type in ("waiver_approved", "waiver_refused"):
            request = case.waiver_request
            if not request:
                return 409, {"message": f"case {case_id} has no waiver request awaiting a decision"}
            decided = {"version": request["version"], "request_hash": request["request_hash"]}
            if event.type == "waiver_refused":
                return rt.api("POST", f"{path}/waiver-approvals/refuse", {**decided, "reason": event.reason}, **staff)
            return rt.api("POST", f"{path}/waiver-approvals", decided, **staff)
        route, payload = calls[event.type]
        return rt.api("POST", f"{path}/{route}", payload, **staff)

    @staticmethod
    def _outcome(event: SimEvent, now: str) -> dict[str, Any]:
        body: dict[str, Any] = {"disposition": event.disposition, "at": now}
        if event.text:
            body["note"] = event.text
        if event.disposition == "promise_to_pay":
            body |= {"promise_date": str(event.promised_date), "promise_amount": str(event.amount)}
        if event.disposition == "hardship":
            body |= {"reason_code": event.reason_code or "other", "reason_text": event.reason or "hardship"}
        return body

    @staticmethod
    def _staff(rt: Runtime, case_id: str, role: str, assigned_to: str | None) -> dict[str, Any]:
        """The person of ``role``; an agent acts only on their own cases: a supervisor assigns it first."""
        user, groups = STAFF[role]
        if role == "agent" and assigned_to != user:
            supervisor, boss = STAFF["supervisor"]
            rt.api("POST", f"/cases/{case_id}/assignment", {"agent": user}, user=supervisor, groups=boss)
        return {"user": user, "groups": groups}

    # -- results --------------------------------------------------------------------------------------
    def _facts(
        self,
        rt: Runtime,
        items: list[dict[str, Any]],
        cases: list[dict[str, Any]],
        final_book: list[Loan],
        meter: CallMeter,
    ) -> invariants.Facts:
        moving = set(rt.moving())
        outbox = list(rt.services.outbox.all())
        executions = rt.execution_statuses()
        return invariants.Facts(
            settings=self.settings,
            days=[self.start + timedelta(days=i) for i in range(self.days)],
            book=self.book,
            final={loan.loan_id: loan for loan in final_book},
            cases=items,
            executions=executions,
            parked={name for name, status in executions.items() if status == "RUNNING" and name not in moving},
            entered={c["case_id"]: rt.stages_entered(c["case_id"]) for c in items if c["case_id"] in executions},
            audit_ok={c["case_id"]: c["audit_chain_ok"] for c in cases},
            audit_stages=self._audit_stages,
            deliveries=list(meter.deliveries),
            outbox=outbox,
            audit_messages=self._audit_messages,
            opt_outs=self._audit_opt_outs,
            ended=rt.now,
            baseline=self.baseline,
            audited_states=invariants.audited_states(
                rt.definition, rt.function_arns["case_stage"], rt.function_arns["case_wait"]
            ),
        )

    @staticmethod
    def _cases(rt: Runtime) -> list[dict[str, Any]]:
        return sorted((case.to_item() for case in rt.services.cases.all()), key=lambda c: c["case_id"])

    @staticmethod
    def _buckets(rt: Runtime, day: date) -> dict[str, str]:
        """Every loan's delinquency bucket at the end of ``day``, read back from the loans table."""
        return {loan.loan_id: bucket(assess(loan, day).dpd) for loan in rt.services.loans.all()}

    def _sent_messages(self, rt: Runtime) -> list[dict[str, str]]:
        """Every message that went out (pre-due reminders too), from the outbox table."""
        zone = ZoneInfo(self.settings.time_zone)
        sent = []
        for message in rt.services.outbox.all():
            if message.get("status") == "SENT" and message.get("sent_at"):
                at = datetime.fromisoformat(message["sent_at"]).astimezone(zone)
                sent.append({"date": at.date().isoformat(), "channel": message["channel"]})
        return sent

    def _case_line(self, rt: Runtime, case: dict[str, Any], out: Path) -> dict[str, Any]:
        objects = rt.services.audit_store.read_case(case["loan_id"], case["case_id"])
        export_audit(out, objects)
        records = [json.loads(data) for _, data in objects]
        self._audit_stages[case["case_id"]] = {
            str(r["body"]["stage"]) for r in records if r["type"] == "stage_entered" and "stage" in r["body"]
        }
        self._audit_messages[case["case_id"]] = {
            str(r["body"]["message_id"]) for r in records if r["type"] in ("message_sent", "message_unconfirmed")
        }
        self._audit_opt_outs[case["case_id"]] = [
            (str(r["body"]["opt_out"]), datetime.fromisoformat(r["at"]))
            for r in records
            if r["type"] == "customer_reply" and "opt_out" in r["body"]
        ]
        zone = ZoneInfo(self.settings.time_zone)
        outcome = case.get("outcome", "OPEN")
        stages = [
            {"stage": stage_name(r["body"]["stage"], outcome), "entered": r["at"]}
            for r in records
            if r["type"] == "stage_entered" and "stage" in r["body"] and r["body"]["stage"] != "reevaluate"
        ]
        customer_zone = self._customer_zone(rt, case)
        # each time with its zone: the bank's business date, and the customer's own date and time
        messages = [
            {
                "at": datetime.fromisoformat(r["at"]).astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "bank_date": datetime.fromisoformat(r["at"]).astimezone(zone).date().isoformat(),
                "bank_zone": self.settings.time_zone,
                "local_date": datetime.fromisoformat(r["at"]).astimezone(ZoneInfo(customer_zone)).date().isoformat(),
                "local_time": r["body"].get("local_time"),
                "zone": customer_zone,
                "channel": r["body"]["channel"],
                "template": r["body"]["template"],
                "language": r["body"]["language"],
            }
            for r in records
            if r["type"] == "message_sent"
        ]
        payments = self._payments_while_open(rt, case)
        recovered = sum((Decimal(p["amount"]) for p in payments), Decimal("0.00"))
        complaint_days = [
            (
                datetime.fromisoformat(closed["at"]).astimezone(zone).date()
                - datetime.fromisoformat(opened["at"]).astimezone(zone).date()
            ).days
            for opened, closed in zip(
                [r for r in records if r["type"] == "complaint_opened"],
                [r for r in records if r["type"] == "complaint_resolved"],
                strict=False,
            )
        ]
        report = verify_chain(case["case_id"], objects, case.get("audit_head"))
        # the loan's position as of the case's last day (its close, or the run's last day), from the ledger
        last_day = (
            date.fromisoformat(case["closed_on"])
            if case.get("closed_on")
            else self.start + timedelta(days=self.days - 1)
        )
        loan = rt.services.loans.get(case["loan_id"])
        end = assess(loan, last_day) if loan is not None else None
        balance_at_open = Decimal("0.00")
        if loan is not None and case.get("opened_on"):
            # the whole balance placed in collection: outstanding principal, overdue interest and penalty on
            # the day the case opened (payments of that day came after the 02:00 scan)
            opened = date.fromisoformat(case["opened_on"])
            before = loan.model_copy(update={"payments": tuple(p for p in loan.payments if p.date < opened)})
            # on the loan's own calendar at the scan that opened it (as the case was opened)
            at_open = assess(before, loan_date(loan, rt.settings, scan_moment(opened, rt.settings)))
            balance_at_open = at_open.outstanding_principal + at_open.overdue_interest + at_open.penalty
        return {
            "loan_id": case["loan_id"],
            "case_id": case["case_id"],
            "execution_name": execution_name(case["case_id"]),
            "outcome": outcome,
            "stage": stage_name(case.get("stage") or "", outcome),
            "opened": case.get("opened_on"),
            "closed": case.get("closed_on"),
            "stages": stages,
            "messages": messages,
            "plan": case.get("plan"),
            "waived": case.get("waived", "0.00"),
            "waiver_reinstated": case.get("waiver_reinstated", "0.00"),
            "recovered": str(recovered),
            "payments": payments,
            "next_action": next_action(case) if outcome == "OPEN" else None,
            "audit_records": len(objects),
            "audit_head": case.get("audit_head"),
            "audit_chain_ok": report.ok,
            "complaints": int(case.get("complaints", 0)),
            "broken_promises": int(case.get("renegotiations_used", 0)),
            "litigation_package": case.get("litigation_package_seq") is not None,
            "promises": {
                kind: sum(1 for r in records if r["type"] == f"promise_{kind}") for kind in ("to_pay", "kept", "broken")
            },
            "execution": execution_lines(rt.history(case["case_id"])),
            "as_of_end": last_day.isoformat(),
            "dpd_at_end": end.dpd if end else None,
            "bucket_at_end": end.bucket if end else None,
            "owed_at_end": fmt(end.total_overdue) if end else None,
            "currency": end.currency if end else None,
            "dpd_at_open": int(case.get("dpd_at_open", 0)),
            "owed_at_open": str(case.get("total_overdue_at_open", "0")),
            "balance_at_open": fmt(balance_at_open),
            "product": loan.product if loan is not None else None,
            "vintage": vintage(loan.start_date) if loan is not None else None,
            "complaint_days": complaint_days,
            "customer_timezone": loan.customer.timezone if loan is not None and loan.customer else None,
        }

    def _customer_zone(self, rt: Any, case: Mapping[str, Any]) -> str:
        loan = rt.services.loans.get(case["loan_id"])
        return loan_zone(loan, self.settings) if loan is not None else self.settings.time_zone

    @staticmethod
    def _payments_while_open(rt: Runtime, case: dict[str, Any]) -> list[dict[str, str]]:
        """What the customer paid while the case was open, from the loan's ledger (not from the audit
        text): the payments dated from the day it opened to the day it closed (the run's end if open).
        The report's recovered figures and recovery curve are these, and nothing else."""
        loan = rt.services.loans.get(case["loan_id"])
        if loan is None or not case.get("opened_on"):
            return []
        since = date.fromisoformat(case["opened_on"])
        until = date.fromisoformat(case["closed_on"]) if case.get("closed_on") else date.max
        return [
            {"date": p.date.isoformat(), "amount": fmt(p.amount)} for p in loan.payments if since <= p.date <= until
        ]

    def _naive(
        self,
        aws: dict[str, Any],
        invocations: Counter[str],
        transitions: int,
        case_days_total: int,
        footprint: tuple[int, int],
    ) -> dict[str, Any]:
        calls, lambdas, naive_transitions, extra_units = naive_design(
            aws["calls"], dict(invocations), transitions, case_days_total, self.days, *footprint
        )
        cost = measured_monthly_cost(
            calls, lambdas, naive_transitions, invocations["api"], self.days, extra_read_units=extra_units
        )
        return {
            "calls_total": sum(sum(ops.values()) for ops in calls.values()),
            "calls_by_service": {service: sum(ops.values()) for service, ops in sorted(calls.items())},
            "lambda_invocations": lambdas,
            "state_transitions": naive_transitions,
            "daily_scan": {"pages": footprint[0], "read_units": footprint[1]},
            "monthly_cost_usd": {**{k: str(v) for k, v in cost.items()}, "total": str(sum(cost.values(), Decimal(0)))},
            "basis": (
                "the same run's calls, with a daily full-table Scan of the loans (pages and read units measured "
                "on the run's table) instead of the due-index, and every open case polled daily (a Lambda "
                "reading the case and the loan, three state transitions) instead of waiting on a callback"
            ),
        }

    def _aws(self, meter: CallMeter, invocations: Counter[str], transitions: int) -> dict[str, Any]:
        calls = meter.by_service()
        cost = measured_monthly_cost(calls, sum(invocations.values()), transitions, invocations["api"], self.days)
        return {
            "calls": calls,
            "calls_by_service": {service: sum(ops.values()) for service, ops in calls.items()},
            "calls_total": meter.total(),
            "lambda_invocations": dict(sorted(invocations.items())),
            "state_transitions": transitions,
            "monthly_cost_usd": {**{k: str(v) for k, v in cost.items()}, "total": str(sum(cost.values(), Decimal(0)))},
            "prices_usd": {key: {"price": str(price), "source": source} for key, (price, source) in PRICES.items()},
            "cost_basis": (
                f"calls counted over {self.days} simulated days for {len(self.book)} loans, scaled to 30 days; "
                "AWS list prices, us-east-1, on-demand, USD (dueflow_local/cost.py PRICES, each with its page); "
                "SMS at an assumed average of 0.02 per message; storage not included"
            ),
        }

    def _summary(
        self,
        cases: list[dict[str, Any]],
        sent: list[dict[str, str]],
        final_book: list[Loan],
        end: date,
        snapshots: list[dict[str, str]],
        aws: dict[str, Any],
    ) -> dict[str, Any]:
        at_start = assess_portfolio(self.book, self.start - timedelta(days=1))
        at_end = assess_portfolio(final_book, end)
        outcomes = Counter(c["outcome"] for c in cases)
        plans = [c["plan"] for c in cases if c["plan"]]
        entered = Counter(stage for c in cases for stage in {s["stage"] for s in c["stages"]})
        return {
            "backend": self.backend,
            "loans": len(self.book),
            "start": self.start.isoformat(),
            "days": self.days,
            "cases_opened": len(cases),
            "case_days": case_days(cases, end),
            "cases_by_outcome": dict(sorted(outcomes.items())),
            "cases_by_stage": dict(sorted(Counter(c["stage"] for c in cases if c["outcome"] == "OPEN").items())),
            "stage_funnel": {stage: entered.get(stage, 0) for stage in FUNNEL},
            "messages_by_channel": dict(sorted(Counter(m["channel"] for m in sent).items())),
            "case_messages_by_channel": dict(
                sorted(Counter(m["channel"] for c in cases for m in c["messages"]).items())
            ),
            "plans": {
                "proposed": len(plans),
                "accepted": sum(1 for p in plans if p.get("accepted_on")),
                "completed": outcomes.get("SETTLED", 0),
                "broken": sum(c["broken_promises"] for c in cases),
            },
            "promises": promise_figures(cases),
            "waivers_granted": str(sum((Decimal(str(c["waived"])) for c in cases), Decimal("0"))),
            # granted for plans since broken: owed again (clawback)
            "waivers_reinstated": str(sum((Decimal(str(c["waiver_reinstated"])) for c in cases), Decimal("0"))),
            "complaints": sum(c["complaints"] for c in cases),
            "litigation_packages": sum(1 for c in cases if c["litigation_package"]),
            "overdue_at_start": at_start.as_dict()["total_overdue"],
            "overdue_at_end": at_end.as_dict()["total_overdue"],
            # the overdue amount (and loans) in each days-past-due bucket the day before and on the last day
            "aging": {
                "start": {b: t for b, t in at_start.as_dict()["by_bucket"].items()},
                "end": {b: t for b, t in at_end.as_dict()["by_bucket"].items()},
            },
            "recovered": fmt(sum((Decimal(c["recovered"]) for c in cases), Decimal("0.00"))),
            "roll_rates": roll_rates(snapshots),
            "kpis": kpis(cases, aws, self.days),
            "audit_records": sum(c["audit_records"] for c in cases),
            "audit_chains_verified": all(c["audit_chain_ok"] for c in cases),
            "events_applied": self.applied,
            "event_problems": [str(p) for p in self.problems],
            "aws": aws,
        }

    @staticmethod
    def _fill_daily(daily: list[dict[str, Any]], cases: list[dict[str, Any]], sent: list[dict[str, str]]) -> None:
        opened = Counter(c["opened"] for c in cases)
        cured = Counter(c["closed"] for c in cases if c["outcome"] == "CURED")
        other = Counter(c["closed"] for c in cases if c["outcome"] not in ("CURED", "OPEN"))
        paid: Counter[str] = Counter()
        for c in cases:
            for p in c["payments"]:
                paid[p["date"]] += Decimal(p["amount"])  # type: ignore[assignment]
        messages: dict[str, Counter[str]] = {}
        for m in sent:
            messages.setdefault(m["date"], Counter())[m["channel"]] += 1
        total = Decimal(0)
        for entry in daily:
            day = entry["date"]
            total += Decimal(paid.get(day, 0))
            entry.update(
                opened=opened.get(day, 0),
                cured=cured.get(day, 0),
                closed_other=other.get(day, 0),
                messages=dict(sorted(messages.get(day, Counter()).items())),
                recovered_to_date=str(total),
            )


@dataclass
class Played:
    """What a run (or one worker's share of it) left behind, read back for the report."""

    cases: list[dict[str, Any]]
    sent: list[dict[str, str]]
    final_book: list[Loan]
    snapshots: list[dict[str, str]]
    daily: list[dict[str, Any]]
    calls: Counter[tuple[str, str]]
    invocations: Counter[str]
    transitions: int
    footprint: tuple[int, int]
    checked: dict[str, Any]
    unconfirmed: int
    faults: dict[str, Any] | None
    problems: list[EventProblem]
    applied: int
    api_retries: int


SCHEDULED = ("scan", "outbox_dispatcher")


def vintage(granted: date) -> str:
    """A loan's vintage: the half-year it was granted in (2025-H2)."""
    return f"{granted.year}-H{1 if granted.month <= 6 else 2}"


def _ratio(numerator: Decimal | int, denominator: Decimal | int, places: int = 4) -> str | None:
    """A rate as a decimal string (None when there is nothing to divide by)."""
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1).scaleb(-places)))


def kpis(cases: list[dict[str, Any]], aws: dict[str, Any], days: int) -> dict[str, Any]:
    """What a collections manager is judged on, each from cases.jsonl alone (the report's first cards).

    - cure_rate: cases closed CURED / cases closed; settle_rate: SETTLED / cases closed
    - amount_in_collection: what the cases owed when they opened (total overdue at open)
    - recovered: payments on a case's loan from the day it opened to the day it closed (or the run's end)
    - recovery_rate: the part of each case's amount at open that was paid while it was open (each case's
      recovered, capped at its amount at open), over the amount in collection
    - liquidation_rate: recovered / the balance placed in collection (each case's outstanding principal,
      overdue interest and penalty on the day it opened)
    - promise_kept_rate: promises kept / promises settled (kept + broken)
    - contacts_per_case: messages and call tasks that went out for cases / cases opened
    - cost_per_10k_recovered_usd: the run's estimated AWS cost (messages included, USD) per 10,000 recovered
    - complaint_resolution_days: mean days from a complaint's opening to its resolution (resolved ones)
    """
    outcomes = Counter(c["outcome"] for c in cases)
    closed = sum(n for outcome, n in outcomes.items() if outcome != "OPEN")
    at_open = sum((Decimal(c["owed_at_open"]) for c in cases), Decimal("0.00"))
    recovered = sum((Decimal(c["recovered"]) for c in cases), Decimal("0.00"))
    capped = sum((min(Decimal(c["recovered"]), Decimal(c["owed_at_open"])) for c in cases), Decimal("0.00"))
    balance = sum((Decimal(c["balance_at_open"]) for c in cases), Decimal("0.00"))
    promises = promise_figures(cases)
    contacts = sum(len(c["messages"]) for c in cases)
    run_cost = Decimal(aws["monthly_cost_usd"]["total"]) * days / 30
    resolution = [d for c in cases for d in c["complaint_days"]]
    by_product: dict[str, dict[str, Any]] = {}
    by_vintage: dict[str, dict[str, Any]] = {}
    for c in cases:
        for table, key in ((by_product, "product"), (by_vintage, "vintage")):
            row = table.setdefault(str(c.get(key) or "-"), {"cases": 0, "recovered": Decimal("0.00")})
            row["cases"] += 1
            row[c["outcome"]] = row.get(c["outcome"], 0) + 1
            row["recovered"] += Decimal(c["recovered"])
    return {
        "cases_opened": len(cases),
        "cases_closed": closed,
        "cure_rate": _ratio(outcomes.get("CURED", 0), closed),
        "settle_rate": _ratio(outcomes.get("SETTLED", 0), closed),
        "amount_in_collection": fmt(at_open),
        "recovered": fmt(recovered),
        "recovery_rate": _ratio(capped, at_open),
        "balance_in_collection": fmt(balance),
        "liquidation_rate": _ratio(recovered, balance),
        "promise_kept_rate": _ratio(promises["kept"], promises["kept"] + promises["broken"]),
        "contacts_per_case": _ratio(contacts, len(cases), 2),
        "cost_per_10k_recovered_usd": _ratio(run_cost * 10_000, recovered, 2),
        "complaint_resolution_days": _ratio(sum(resolution), len(resolution), 1),
        "complaints_resolved": len(resolution),
        "by_product": {name: {**row, "recovered": fmt(row["recovered"])} for name, row in sorted(by_product.items())},
        # the half-year the loans were granted in (their vintage)
        "by_vintage": {name: {**row, "recovered": fmt(row["recovered"])} for name, row in sorted(by_vintage.items())},
    }


NO_PLAN = {"version": 1, "plan_hash": "0" * 16}  # an acceptance when nothing was proposed: refused (409)


def shard_of_customer(customer_id: str, workers: int) -> int:
    """The worker that plays a customer's loans (all of them: contact caps span a customer's loans)."""
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:8], 16) % workers


def play_in_workers(
    simulation: Simulation, out: Path, progress: Callable[[int, dict[str, int]], None] | None
) -> list[Played]:
    """Split the book by customer across ``simulation.workers`` processes; each plays its share and sends
    back what it left behind (audit records are written by each to ``out/audit``: keys do not collide)."""
    import multiprocessing

    workers = min(simulation.workers, len(simulation.book))
    shares: list[list[Loan]] = [[] for _ in range(workers)]
    owner: dict[str, int] = {}
    for loan in simulation.book:
        owner[loan.loan_id] = shard_of_customer(loan.customer_id, workers)
        shares[owner[loan.loan_id]].append(loan)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = []
    for number, share in enumerate(shares):
        part = replace(
            simulation,
            book=share,
            events=[(n, e) for n, e in simulation.events if owner.get(e.loan_id) == number],
            problems=[],
            applied=0,
            api_retries=0,
            fault_seed=simulation.fault_seed + number,
            baseline=None
            if simulation.baseline is None
            else {c: o for c, o in simulation.baseline.items() if owner.get(loan_of_case(c)) == number},
            workers=1,
            stream=str(number),
            _audit_stages={},
            _audit_messages={},
            _audit_opt_outs={},
        )
        process = context.Process(target=_worker, args=(part, out, number, queue), daemon=True)
        process.start()
        processes.append(process)
    results: dict[int, Played] = {}
    days: dict[int, tuple[int, dict[str, int]]] = {}
    reported = 0
    while len(results) < len(processes):
        kind, number, payload = queue.get()
        if kind == "failed":
            for process in processes:
                process.kill()
            raise RuntimeError(f"simulation worker {number} failed: {payload}")
        if kind == "day":
            days[number] = payload
            if progress is not None and len(days) == len(processes):
                done = min(d for d, _ in days.values())
                if done > reported:  # once a day: when the slowest worker has finished it
                    reported = done
                    totals = {k: sum(state[k] for _, state in days.values()) for k in ("open", "sent")}
                    progress(done, totals)
        else:
            results[number] = payload
    for process in processes:
        process.join()
    played = [results[n] for n in sorted(results)]
    played[0].problems = simulation.problems + played[0].problems  # the event log's own problems, once
    return played


def _worker(simulation: Simulation, out: Path, number: int, queue: Any) -> None:
    try:
        played = simulation.play(out, lambda done, state: queue.put(("day", number, (done, state))))
        queue.put(("done", number, played))
    except BaseException as exc:  # reported to the parent, which stops the run
        queue.put(("failed", number, f"{type(exc).__name__}: {exc}"))


@contextmanager
def handler_logs(path: Path, level: str) -> Iterator[None]:
    """The handlers' JSON log lines (Powertools Logger, as CloudWatch Logs would keep them) go to ``path``
    at ``level`` instead of the console, which keeps the progress and the summary."""
    from dueflow.observability import logger

    handler = logger.registered_handler
    saved_level = logger.log_level
    with path.open("a", encoding="utf-8") as sink:
        saved = handler.setStream(sink)  # type: ignore[attr-defined]
        logger.setLevel(level)
        try:
            yield
        finally:
            handler.setStream(saved)  # type: ignore[attr-defined]
            logger.setLevel(saved_level)


def _gather_logs(out: Path) -> None:
    """The workers' log files as one ``logs.jsonl`` (worker by worker; each line names its case)."""
    parts = sorted(out.glob("logs-*.jsonl"))
    with (out / "logs.jsonl").open("w", encoding="utf-8") as whole:
        for part in parts:
            with part.open(encoding="utf-8") as lines:
                shutil.copyfileobj(lines, whole)
            part.unlink()


def merge(parts: list[Played]) -> Played:
    """One run's worth of results from its workers' shares."""
    calls: Counter[tuple[str, str]] = Counter()
    invocations: Counter[str] = Counter()
    for part in parts:
        calls.update(part.calls)
        invocations.update(part.invocations)
    # each worker runs the schedules over its share; deployed, they run once a tick for the whole book
    # (the scan fans out by index shard, not by worker): counted once, as the most any worker ran
    for scheduled in SCHEDULED:
        invocations[scheduled] = max(part.invocations[scheduled] for part in parts)
    daily = [
        {"date": day["date"], "open": sum(part.daily[i]["open"] for part in parts)}
        for i, day in enumerate(parts[0].daily)
    ]
    snapshots = [
        {loan: bucket for part in parts for loan, bucket in part.snapshots[i].items()}
        for i in range(len(parts[0].snapshots))
    ]
    checked: dict[str, Any] = {}
    for part in parts:
        for name, result in part.checked.items():
            if name == "violations_total":
                checked[name] = checked.get(name, 0) + result
                continue
            merged = checked.setdefault(name, {"violations": 0, "examples": []})
            merged["violations"] += result["violations"]
            merged["examples"] = (merged["examples"] + result["examples"])[: invariants.EXAMPLES]
    faults: dict[str, Any] | None = None
    if any(part.faults for part in parts):
        faults = {}
        for part in parts:
            for key, value in (part.faults or {}).items():
                if isinstance(value, (int, float)) and key != "seed":
                    faults[key] = faults.get(key, 0) + value
                elif isinstance(value, dict):
                    counts = Counter(faults.get(key, {}))
                    counts.update(value)
                    faults[key] = dict(sorted(counts.items()))
                else:
                    faults.setdefault(key, value)
    return Played(
        cases=sorted((c for part in parts for c in part.cases), key=lambda c: c["case_id"]),
        sent=[m for part in parts for m in part.sent],
        final_book=[loan for part in parts for loan in part.final_book],
        snapshots=snapshots,
        daily=daily,
        calls=calls,
        invocations=invocations,
        transitions=sum(part.transitions for part in parts),
        footprint=(sum(p.footprint[0] for p in parts), sum(p.footprint[1] for p in parts)),
        checked=checked,
        unconfirmed=sum(part.unconfirmed for part in parts),
        faults=faults,
        problems=sorted((p for part in parts for p in part.problems), key=lambda p: p.line),
        applied=sum(part.applied for part in parts),
        api_retries=sum(part.api_retries for part in parts),
    )


KEPT_EVENTS = (
    "StateEntered",
    "TaskFailed",
    "TaskTimedOut",
    "ExecutionStarted",
    "ExecutionSucceeded",
    "ExecutionFailed",
)


def execution_lines(history: list[dict[str, Any]]) -> list[list[str]]:
    """A case's execution history in the console's terms, compact: ``[time, event type, detail]`` for
    each state entered, task failed or timed out, and the execution's start and end (the detail is the
    state's name or the error)."""
    lines = []
    for event in history:
        if not str(event["type"]).endswith(KEPT_EVENTS):
            continue
        detail = ""
        for key, value in event.items():
            if key.endswith("EventDetails") and isinstance(value, dict):
                detail = str(value.get("name") or value.get("error") or "")
        when = event["timestamp"]
        lines.append([when.isoformat() if isinstance(when, datetime) else str(when), str(event["type"]), detail])
    return lines


def promise_figures(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Promises to pay made, kept and broken (decided on the record), and the kept rate of those decided."""
    made = sum(c["promises"]["to_pay"] for c in cases)
    kept = sum(c["promises"]["kept"] for c in cases)
    broken = sum(c["promises"]["broken"] for c in cases)
    return {
        "made": made,
        "kept": kept,
        "broken": broken,
        "kept_rate": round(kept / (kept + broken), 3) if kept + broken else None,
    }


def case_days(cases: list[dict[str, Any]], end: date) -> int:
    """Days cases spent open within the run, summed (a case open on its first and last day counts both)."""
    total = 0
    for case in cases:
        if not case["opened"]:
            continue
        opened = date.fromisoformat(str(case["opened"]))
        closed = date.fromisoformat(str(case["closed"])) if case["closed"] else end
        total += max((min(closed, end) - opened).days + 1, 1)
    return total


def stage_name(stage: str, outcome: str) -> str:
    """The state's name as the Step Functions console shows it."""
    if stage == "close" or stage.startswith("Closed"):
        return CLOSED.get(outcome, stage)
    return STAGE_LABELS.get(stage, stage)


def next_action(case: dict[str, Any]) -> str:
    """What happens next to an open case, in a collections manager's words."""
    stage, wake = case.get("stage") or "", case.get("wake_on")
    when = f" on {wake}" if wake else ""
    if case.get("complaint_open"):
        return "complaint open: collection paused until it is resolved"
    if stage == "Await plan event":
        return f"plan in force: next instalment check{when}"
    if stage == "Await agreement":
        return f"agent to agree a repayment plan; escalates{when}"
    if stage.startswith("Await response"):
        return f"waiting for payment or a reply; next step{when}"
    if stage in ("Legal review", "Litigate?"):
        return "legal team: cost-benefit review and litigation package"
    return f"{stage}{when}" if stage else "starting"


def roll_rates(snapshots: list[dict[str, str]]) -> dict[str, dict[str, int]]:
    """Bucket-to-bucket counts between consecutive month-end snapshots, summed over the months."""
    matrix: dict[str, Counter[str]] = {}
    for before, after in pairwise(snapshots):
        for loan_id, source in before.items():
            if loan_id in after:
                matrix.setdefault(source, Counter())[after[loan_id]] += 1
    return {source: dict(sorted(targets.items())) for source, targets in sorted(matrix.items())}


def export_digests(out: Path, stream: str, seals: list[tuple[str, bytes, bytes]], public_key: bytes) -> None:
    """Copy the signed daily digests to ``out/audit/digests/<stream>/`` and the signing key's public half
    to ``out/signing-key.pem`` (a verifier should hold its own copy: see docs/security.md)."""
    folder = out / "audit" / "digests" / stream
    folder.mkdir(parents=True, exist_ok=True)
    for day, body, signature in seals:
        (folder / f"{day}.json").write_bytes(body)
        (folder / f"{day}.sig").write_bytes(signature)
    (out / "signing-key.pem").write_bytes(public_key)


def export_audit(out: Path, objects: list[tuple[str, bytes]]) -> None:
    """Copy a case's audit objects to ``out/audit/<key>``, byte for byte, for ``dueflow audit verify``."""
    for key, data in objects:
        path = out / "audit" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
