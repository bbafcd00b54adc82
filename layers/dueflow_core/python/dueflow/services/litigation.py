"""The litigation package (诉讼材料) legal receives when the review recommends suing: the parties, the
claims itemised, the facts, the evidence list and, where the pack's conditions hold, the preservation
request. It is one record of the case's audit chain, so it is as immutable and provable as the rest.

The borrower's identity travels sealed (the loan store's PII seal, owned by the loan): the record
holds only ciphertext, and the API opens it for the legal role alone (``open_parties``); an auditor
reading the chain sees the seal. The evidence list names the audit records that prove each notice
given and each acknowledgement: the stage that builds the package lists the chain's keys (it may not read
records back: docs/security.md), and the API, which may, expands each notice for legal with its channel,
template, the provider's message id and what the provider said (accepted, or in doubt); the provider's
delivery receipt is in its own log under that id (SNS SMS delivery logs, SES events).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dueflow.domain.case import Case
from dueflow.domain.legal import LegalFacts, LegalReview, Limitation
from dueflow.domain.loan import Loan
from dueflow.domain.money import fmt
from dueflow.domain.position import Position
from dueflow.domain.statement import statement_dict
from dueflow.services.context import Services
from dueflow.stores import GUARANTOR_PREFIX

IDENTITY_FIELDS = ("name", "phone", "email")  # sealed; income and expenses are not the court's business
SEALED_NOTE = "sealed with the PII key; opened for the legal role only (GET /cases/{id}/litigation-package)"

_NOTICES = {"message_sent": "accepted by the provider", "message_unconfirmed": "in doubt: may have gone out"}
_ACKNOWLEDGEMENTS = ("payment_received", "promise_to_pay", "plan_accepted", "acceleration_notice", "call_attempt")


def build_package(
    services: Services,
    case: Case,
    loan: Loan,
    position: Position,
    facts: LegalFacts,
    review: LegalReview,
    period: Limitation,
    assessment: dict[str, Any],
) -> dict[str, Any]:
    """The package of ``case``, ready to append to the chain (the chain's keys listed, no record read)."""
    keys = services.audit_store.record_keys(loan.loan_id, case.case_id)
    stored = services.loans.get_stored(loan.loan_id)
    sealed = dict(stored.sealed) if stored is not None else {}
    acceleration = (
        {"sent_on": case.acceleration_noticed_on.isoformat(), "reference": case.acceleration_reference}
        if case.acceleration_noticed_on is not None
        else None
    )
    return {
        "parties": {
            "plaintiff": {"name": services.settings.bank_name, "role": "creditor (lender)"},
            "defendant": {
                "role": "borrower",
                "customer_id": loan.customer_id,
                "identity_sealed": {k: sealed[k] for k in IDENTITY_FIELDS if sealed.get(k)},
                "note": SEALED_NOTE,
            },
            **_guarantor_party(loan, sealed),
        },
        "claims": _claims(position, facts, review, loan.currency),
        "facts": {
            "contract": loan.model_dump(
                mode="json", exclude={"customer", "payments", "adjustments"}, exclude_none=True
            ),
            "default": {
                "first_unpaid_due_date": min(
                    (line.due_date for line in position.lines), default=position.as_of
                ).isoformat(),
                "days_past_due": position.dpd,
                "as_of": position.as_of.isoformat(),
            },
            "acceleration_notice": acceleration,
            "notices_sent": sum(1 for key in keys if _type(key) == "message_sent"),
            "promises_broken": sum(1 for key in keys if _type(key) == "promise_broken"),
            "plans_broken": case.renegotiations_used + (1 if case.plan else 0),
            "waivers_reinstated": fmt(position.reinstated),
            "limitation": {
                "started_on": period.started_on.isoformat(),
                "last_interruption": period.last_interruption.isoformat(),
                "expires_on": period.expires_on.isoformat(),
            },
        },
        "statement": statement_dict(position),
        "payments": [p.model_dump(mode="json") for p in loan.payments],
        "evidence": [{"record": key, "kind": _kind(key)} for key in keys if _kind(key) is not None],
        "preservation_request": _preservation(facts, review, loan.currency),
        "assessment": assessment,
        # where an unsecured debtor has known assets to preserve (not: "the loan has collateral")
        "asset_preservation_requested": review.preservation_requested,
    }


def _guarantor_party(loan: Loan, sealed: dict[str, str]) -> dict[str, Any]:
    """A guarantor liable with the borrower is sued with them (a general guarantor only after enforcement
    against the borrower fails: listed, not sued now)."""
    if loan.guarantor is None:
        return {}
    joint = loan.guarantor.liability == "joint_several"
    return {
        "guarantor": {
            "role": "co-defendant (连带责任保证人)" if joint else "general guarantor (一般保证人): not sued now",
            "liability": loan.guarantor.liability,
            "identity_sealed": {k: sealed[k] for k in (GUARANTOR_PREFIX + f for f in IDENTITY_FIELDS) if sealed.get(k)},
            "note": SEALED_NOTE,
        }
    }


def _claims(position: Position, facts: LegalFacts, review: LegalReview, currency: str) -> dict[str, Any]:
    """What is claimed, item by item (they add up to the review's claim), and the costs the loser bears."""
    lines = position.lines
    penalty_on_principal = sum((line.penalty_on_principal_accrued for line in lines), Decimal(0))
    compound = sum((line.compound_interest_accrued for line in lines), Decimal(0))
    items = [
        {"item": "overdue principal (逾期本金)", "amount": fmt(facts.overdue_principal)},
        {"item": "overdue interest (逾期利息)", "amount": fmt(facts.overdue_interest)},
        {
            "item": "penalty interest outstanding (罚息 and 复利)",
            "amount": fmt(facts.penalty),
            "accrued_on_principal": fmt(penalty_on_principal),
            "accrued_on_interest": fmt(compound),
            "paid": fmt(sum((line.penalty_paid for line in lines), Decimal(0))),
            "waived": fmt(sum((line.penalty_waived for line in lines), Decimal(0))),
        },
    ]
    if facts.accelerated:
        items.append({"item": "principal accelerated (加速到期本金)", "amount": fmt(facts.principal_not_due)})
    not_claimed = (
        [{"item": "principal not yet due: no acceleration notice", "amount": fmt(facts.principal_not_due)}]
        if not facts.accelerated and facts.principal_not_due
        else []
    )
    return {
        "currency": currency,
        "items": items,
        "total": fmt(review.claim),
        "not_claimed": not_claimed,
        "costs_borne_by_the_defendant": {  # 诉讼费用交纳办法 第二十九条
            "acceptance_fee": fmt(review.acceptance_fee),
            "preservation_fee": fmt(review.preservation_fee),
        },
    }


def _type(key: str) -> str:
    """The record type a chain key names (``cases/<loan>/<case>/000012-message_sent.json``)."""
    return key.rsplit("/", 1)[-1].split("-", 1)[-1].removesuffix(".json")


def _kind(key: str) -> str | None:
    kind = _type(key)
    return "notice" if kind in _NOTICES else kind if kind in _ACKNOWLEDGEMENTS else None


def expand_evidence(package: dict[str, Any], records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The package's evidence list with each notice's channel, template, time, provider message id and
    status, from the records it names (``records``: the case's chain by key, as the API read it)."""
    evidence = []
    for entry in package.get("evidence") or []:
        record = records.get(entry.get("record", ""))
        if record is None:
            evidence.append({**entry, "status": "record missing"})
            continue
        item = {**entry, "at": record.get("at")}
        if entry.get("kind") == "notice":
            body = record.get("body", {})
            item |= {
                "channel": body.get("channel"),
                "template": body.get("template"),
                "provider_message_id": body.get("provider_id"),
                "status": _NOTICES.get(record.get("type", ""), "unknown"),
            }
        evidence.append(item)
    return {**package, "evidence": evidence}


def _preservation(facts: LegalFacts, review: LegalReview, currency: str) -> dict[str, Any] | None:
    """The asset-preservation application (财产保全) where the pack's conditions hold: an unsecured debtor
    with known assets (the collateral already secures a secured claim)."""
    if not review.preservation_requested:
        return None
    return {
        "currency": currency,
        "assets_known": fmt(facts.known_assets),
        "amount_to_preserve": fmt(min(review.claim, facts.known_assets)),
        "fee": fmt(review.preservation_fee),
        "basis": "民事诉讼法 第一百零三条 (诉讼中财产保全); 诉讼费用交纳办法 第十四条 (申请费)",
    }


def open_parties(services: Services, loan_id: str, package: dict[str, Any]) -> dict[str, Any]:
    """The package with the defendant's identity opened (the caller is legal: checked by the caller)."""
    parties = dict(package.get("parties") or {})
    for role in ("defendant", "guarantor"):
        party = parties.get(role)
        if not party or not party.get("identity_sealed"):
            continue
        opened = services.pii.open(loan_id, party["identity_sealed"])
        identity = {name.removeprefix(GUARANTOR_PREFIX): value for name, value in opened.items()}
        parties[role] = {k: v for k, v in party.items() if k not in ("identity_sealed", "note")} | {
            "identity": identity
        }
    return {**package, "parties": parties}
