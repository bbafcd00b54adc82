"""Write events/: a small sample book and one realistic event per function.

Run ``.venv/bin/python -m dueflow_local.sample_events`` after changing event shapes; the tests run every
file through ``dueflow invoke``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from dueflow.adapters.loan_repository import LoanRepository
from dueflow.domain.book import iter_jsonl
from dueflow.domain.loan import Loan
from dueflow_local.api_events import api_gateway_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
AS_OF = date(2026, 6, 18)
CASE = "E0001-2026-06-15"
STREAM_ARN = "arn:aws:dynamodb:ap-southeast-1:123456789012:table/dueflow-dev-loans/stream/2026"


def sample_book() -> list[Loan]:
    def loan(loan_id: str, start: str, payments: list[dict[str, str]], language: str = "zh-CN") -> Loan:
        return Loan.model_validate(
            {
                "loan_id": loan_id,
                "customer_id": f"C{loan_id}",
                "principal": "12000.00",
                "annual_rate": "0.12",
                "term_months": 12,
                "start_date": start,
                "product": "consumer",
                "payments": payments,
                "customer": {
                    "name": "样例客户",
                    "phone": "+8613800000000",
                    "email": f"{loan_id.lower()}@example.com",
                    "timezone": "Asia/Shanghai",
                    "language": language,
                    "monthly_income": "20000.00",
                    "monthly_expenses": "8000.00",
                },
                "collateral": {"type": "unsecured", "value": "0"},
            }
        )

    return [
        loan("E0001", "2026-05-15", []),  # first installment due 2026-06-15, unpaid: overdue
        loan("E0002", "2026-05-20", [], "en"),  # first installment due 2026-06-20: due soon
        loan(
            "E0003",
            "2026-04-10",
            [{"date": "2026-05-10", "amount": "1066.19"}, {"date": "2026-06-10", "amount": "1066.19"}],
        ),
    ]


def api_event(method: str, path: str, body: dict[str, Any] | None, *, groups: str | None = None) -> dict[str, Any]:
    if groups:
        return api_gateway_event(
            method,
            path,
            body,
            user="sample-user",
            groups=(groups,),
            stage="dev",
            request_id="sample",
            source_ip="203.0.113.10",
        )
    return api_gateway_event(
        method, path, body, system=True, stage="dev", request_id="sample", source_ip="203.0.113.10"
    )


def main() -> None:
    EVENTS.mkdir(exist_ok=True)
    book = sample_book()
    (EVENTS / "book.jsonl").write_text("".join(iter_jsonl(book)), encoding="utf-8")
    paid = Loan.model_validate(
        {
            **book[0].model_dump(mode="json", exclude_none=True),
            "payments": [{"date": "2026-06-18", "amount": "1100.00", "reference": "bank-20260618-0001"}],
        }
    )
    image = LoanRepository(None, "", 16).to_item(paid.model_copy(update={"customer": None}), AS_OF)
    events: dict[str, Any] = {
        "scan-daily.json": {"time": "2026-06-17T18:00:00Z"},
        "outbox_dispatcher-tick.json": {"time": "2026-06-18T00:15:00Z"},
        "case_stage-confirm_overdue.json": {
            "stage": "confirm_overdue",
            "case_id": CASE,
            "loan_id": "E0001",
            "execution": CASE,
            "entered": "2026-06-17T18:00:05.000Z",
        },
        "case_stage-legal_review.json": {
            "stage": "legal_review",
            "case_id": CASE,
            "loan_id": "E0001",
            "execution": CASE,
            "entered": "2026-07-20T18:00:05.000Z",
        },
        "case_wait-response.json": {
            "wait": "response",
            "days": 7,
            "case_id": CASE,
            "loan_id": "E0001",
            "token": "sample-task-token",
            "state": "Await response",
            "entered": "2026-06-17T18:00:06.000Z",
        },
        "payment_stream-payment.json": {
            "Records": [
                {
                    "eventID": "1",
                    "eventName": "MODIFY",
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "ap-southeast-1",
                    "dynamodb": {
                        "Keys": {"loan_id": {"S": "E0001"}},
                        "NewImage": image,
                        "SequenceNumber": "100",
                        "SizeBytes": 900,
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                    "eventSourceARN": STREAM_ARN,
                }
            ]
        },
        "api-payment.json": api_event(
            "POST",
            "/loans/E0001/payments",
            {"date": "2026-06-18", "amount": "1100.00", "reference": "bank-20260618-0001"},
        ),
        "api-plan-proposal.json": api_event(
            "POST", f"/cases/{CASE}/plan-proposals", {"waive_penalty": "1.00"}, groups="supervisor"
        ),
        "api-case-lookup.json": api_event("GET", f"/cases/{CASE}", None, groups="auditor"),
        "api-complaint.json": api_event("POST", f"/cases/{CASE}/complaints", None, groups="supervisor"),
    }
    for name, event in events.items():
        (EVENTS / name).write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(events)} events and book.jsonl to {EVENTS}")


if __name__ == "__main__":
    main()
