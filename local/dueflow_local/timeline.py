"""A case's whole story from a finished run: one timeline of every event, read from its audit records.

Every record of the case's hash chain becomes one line (the stages entered, each message sent, held
back or in doubt, the customer's replies and opt-outs, plan proposals, acceptances and breaks, waiver
decisions, promises, payments, complaints and their escalation, the legal assessment, the litigation
package, the close), in record order, which is the order they happened. Each line carries its time in
the bank's zone and in the customer's own, and a plain-language detail; messages show their text (no
PII is ever in it: a loan reference and amounts) and call tasks the agent's script. The header is the
loan's position as of the case's last day (its close, or the run's end), from the run's ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from dueflow.workflow.definition import STAGE_LABELS
from dueflow_local.audit_files import read_case_records

Describe = Callable[[dict[str, Any]], str]


def _plan(body: dict[str, Any]) -> str:
    items = body.get("installments") or []
    waived = [f"{name} {body[key]}" for key, name in (("waived_penalty", "penalty"), ("waived_interest", "interest"))]
    waived = [w for w in waived if not w.endswith(" 0.00")]
    first = items[0] if items else {}
    return (
        f"plan v{body.get('version')} by {body.get('proposed_by')}: {len(items)} installment(s) of "
        f"{first.get('amount', '?')}, first due {first.get('due_date', '?')}"
        + (f"; waived {', '.join(waived)}" if waived else "")
    )


def _waiver(body: dict[str, Any]) -> str:
    asked = f"penalty {body.get('penalty_requested')}, interest {body.get('interest_requested')}"
    if body.get("approved"):
        return f"waiver approved ({asked}) for {body.get('by')} ({body.get('role')})"
    return f"waiver refused ({asked}): needs {body.get('required_role')}; {body.get('reason') or ''}".rstrip("; ")


def _legal(body: dict[str, Any]) -> str:
    return (
        f"legal assessment: claim {body.get('claim')}, recoverable {body.get('recoverable')} "
        f"(collateral {body.get('collateral_type') or 'none'}, haircut {body.get('haircut')}), expected gross "
        f"{body.get('expected_gross')}, court fee {body.get('court_fee')}, preservation fee "
        f"{body.get('preservation_fee')}, lawyer {body.get('lawyer_fee')}, expected net {body.get('expected_net')}: "
        f"{body.get('recommendation')}; limitation ends {body.get('limitation_expires_on')}"
    )


def _package(body: dict[str, Any]) -> str:
    facts = body.get("facts") or {}
    default = facts.get("default") or {}
    claims = body.get("claims") or {}
    return (
        f"litigation package ready: claim {claims.get('total')}, {default.get('days_past_due')} days past due, "
        f"{facts.get('notices_sent')} notices sent, {len(body.get('evidence') or [])} items of evidence, "
        f"{facts.get('plans_broken')} plans broken; asset preservation "
        + ("requested" if body.get("asset_preservation_requested") else "not requested")
    )


def _reply(body: dict[str, Any]) -> str:
    if "opt_out" in body:
        return f"customer opted out of {body['opt_out']}"
    return "customer replied: " + ", ".join(f"{k} {v}" for k, v in body.items())


class _Fill(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _text(template: str) -> Describe:
    return lambda body: template.format_map(_Fill(body))


def _statement(body: dict[str, Any]) -> str:
    count = len(body.get("installments") or [])
    return f"as of {body.get('as_of')}: {count} installment(s) overdue, {body.get('bucket')}"


PROMISE = "{paid} paid of {amount} promised by {promised_date}"
DESCRIBE: dict[str, tuple[str, Describe]] = {
    "case_opened": ("case opened", _text("{dpd} days past due ({bucket}), owed {total_overdue}")),
    "statement": ("statement", _statement),
    "stage_entered": ("stage", lambda b: STAGE_LABELS.get(str(b.get("stage")), str(b.get("stage")))),
    "message_sent": ("", _text("{text}")),
    "message_unconfirmed": ("", _text("in doubt, not sent again: {text}")),
    "message_dropped": ("", _text("held back ({template}): {reason}")),
    "customer_reply": ("reply", _reply),
    "plan_proposed": ("plan proposed", _plan),
    "plan_accepted": ("plan accepted", _text("plan v{version} accepted by the customer")),
    "waiver_decision": ("waiver", _waiver),
    "waiver_reinstated": (
        "waiver",
        _text("plan v{plan_version} broken on {broken_on}: the {reinstated} waived for it is owed again"),
    ),
    "promise_to_pay": ("promise", _text("{amount} by {promised_date} (taken by {by})")),
    "promise_kept": ("promise kept", _text(PROMISE)),
    "promise_broken": ("promise broken", _text(PROMISE)),
    "payment_received": ("payment", _text("{amount} paid on {date} (reference {reference})")),
    "execution_continued": ("continued", _text("the case continues in a new execution")),
    "execution_restarted": (
        "restarted",
        _text("its execution ended {status} in {resume_at}: continued in a new one (found by the {found_by})"),
    ),
    "complaint_opened": ("complaint", _text("opened by {by}; contact paused; resolve by {deadline}")),
    "complaint_resolved": ("complaint", _text("resolved by {by}; contact resumes")),
    "complaint_escalated": ("complaint", _text("past its deadline {deadline}: escalated to the {escalated_to}")),
    "legal_assessment": ("legal", _legal),
    "litigation_package": ("legal", _package),
    "case_closed": ("case closed", _text("{outcome}: {dpd} days past due, owed {total_overdue}")),
}


def _kind(record: dict[str, Any]) -> str:
    kind, _ = DESCRIBE.get(record["type"], (record["type"], None))
    if record["type"] in ("message_sent", "message_unconfirmed", "message_dropped"):
        channel = str(record["body"].get("channel", ""))
        return "call task" if channel == "call" else channel
    return kind


def case_timeline(run_dir: Path, case: dict[str, Any], bank_zone: str) -> dict[str, Any]:
    """The case's header (its position as of its last day) and every event of its record, in order."""
    bank = ZoneInfo(bank_zone)
    customer_zone = str(case.get("customer_timezone") or bank_zone)
    customer = ZoneInfo(customer_zone)
    events: list[dict[str, Any]] = []
    last_stage = None
    for record in read_case_records(run_dir, str(case["loan_id"]), str(case["case_id"])):
        stage = record.get("body", {}).get("stage") if record["type"] == "stage_entered" else None
        if stage in ("reevaluate", "close"):
            continue  # the re-evaluation is bookkeeping; the close has its own line
        at = datetime.fromisoformat(record["at"]) if record.get("at") else None
        times = {
            "at": record.get("at"),
            "bank_time": at.astimezone(bank).strftime("%Y-%m-%d %H:%M") if at else "",
            "customer_time": at.astimezone(customer).strftime("%Y-%m-%d %H:%M") if at else "",
        }
        if stage == "negotiate" and last_stage == "follow_up":
            # the plan's follow-up handed the case back to negotiation: an installment was missed
            events.append(
                {
                    "seq": "",
                    **times,
                    "kind": "plan broken",
                    "record": "(stage change)",
                    "detail": "a plan installment was missed: back to negotiation",
                }
            )
        if stage in STAGE_LABELS:
            last_stage = stage
        describe = DESCRIBE.get(record["type"], (record["type"], lambda b: ""))[1]
        events.append(
            {
                "seq": record.get("seq"),
                **times,
                "kind": _kind(record),
                "record": record["type"],
                "detail": describe(record.get("body") or {}),
            }
        )
    return {
        "loan_id": case["loan_id"],
        "case_id": case["case_id"],
        "outcome": case["outcome"],
        "stage": case["stage"],
        "opened": case["opened"],
        "closed": case.get("closed"),
        "first_overdue_due_date": str(case["case_id"]).rsplit("-e", 1)[0][len(str(case["loan_id"])) + 1 :],
        "dpd_at_open": case.get("dpd_at_open"),
        "as_of": case.get("as_of_end"),
        "dpd": case.get("dpd_at_end"),
        "bucket": case.get("bucket_at_end"),
        "owed": case.get("owed_at_end"),
        "currency": case.get("currency"),
        "recovered": case.get("recovered"),
        "waived": case.get("waived"),
        "next_action": case.get("next_action"),
        "bank_zone": bank_zone,
        "customer_zone": customer_zone,
        "events": events,
    }


def render_timeline(out: Console, timeline: dict[str, Any]) -> None:
    t = timeline
    out.print(
        f"[bold]{t['case_id']}[/bold]  {t['outcome']}, {t['stage']}; opened {t['opened']} "
        f"({t['dpd_at_open']} day(s) after the installment due {t['first_overdue_due_date']}, whose date the case "
        f"id carries), closed {t['closed'] or '-'}",
        highlight=False,
    )
    out.print(
        f"as of {t['as_of']}: {t['dpd']} days past due ({t['bucket']}), owed {t['owed']} {t['currency']}; "
        f"recovered {t['recovered']}, waived {t['waived']}",
        highlight=False,
    )
    if t.get("next_action"):
        out.print(f"next: {t['next_action']}", highlight=False)
    table = Table(
        "#",
        f"bank time ({t['bank_zone']})",
        f"customer's time ({t['customer_zone']})",
        "what",
        "detail",
        title="timeline",
        title_justify="left",
    )
    for event in t["events"]:
        table.add_row(str(event["seq"]), event["bank_time"], event["customer_time"], event["kind"], event["detail"])
    out.print(table)
