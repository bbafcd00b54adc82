"""Privacy: after a run with cases, messages, a plan (which reads income) and a payment, no customer's
plaintext name, phone or e-mail is found in what the system leaves behind: DynamoDB items, Step
Functions inputs, outputs and histories, log output, and audit object keys. The audit objects' bodies
hold the rendered message texts, in the KMS-encrypted, Object Lock bucket, by design."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import pytest

from dueflow_local.memory_runtime import MemoryRuntime
from dueflow_local.moto_runtime import ACCOUNT, MotoRuntime
from dueflow_local.runtime import Runtime
from tests.e2e.conftest import accept_shown, borrower

PEOPLE = {
    "P1": {"name": "李秀英", "phone": "+8613911112222", "email": "li.xiuying@example.cn"},
    "P2": {"name": "Grace O'Neill", "phone": "+447700900123", "email": "grace.oneill@example.co.uk"},
}
GUARANTOR = {"name": "赵保国", "phone": "+8613955556666", "email": "zhao.baoguo@example.cn"}  # of P1's loan


def _forms(value: str) -> set[str]:
    """The ways a value can appear in stored text: as is, JSON-escaped, and a phone without its +."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    if value.startswith("+"):
        forms.add(value[1:])
    return forms


def _everything(rt: Runtime) -> dict[str, str]:
    """Every place a run leaves data, as text, by place."""
    if isinstance(rt, MemoryRuntime):
        return _everything_in_memory(rt)
    assert isinstance(rt, MotoRuntime)
    places: dict[str, str] = {}
    ddb = rt.client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        items = [item for page in ddb.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]
        places[f"dynamodb:{table}"] = json.dumps(items, default=str)
    sfn = rt.client("stepfunctions")
    for execution in sfn.list_executions(stateMachineArn=rt.resources.state_machine_arn)["executions"]:
        arn = execution["executionArn"]
        described = sfn.describe_execution(executionArn=arn)
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        places[f"stepfunctions:{execution['name']}"] = json.dumps([described, history], default=str)
    s3 = rt.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=rt.resources.audit_bucket).get("Contents", [])]
    places["s3:audit keys"] = json.dumps(keys)
    places["lambda:invocation events"] = json.dumps(rt.dispatcher.calls, default=str)
    return places


def _everything_in_memory(rt: MemoryRuntime) -> dict[str, str]:
    services = rt.services
    stored = [services.loans.get_stored(loan.loan_id) for loan in services.loans.all()]
    places = {
        "dynamodb:loans": json.dumps([(s.loan.model_dump(mode="json"), dict(s.sealed)) for s in stored if s]),
        "dynamodb:cases": json.dumps(list(services.cases.all()), default=str),
        "dynamodb:outbox": json.dumps(list(services.outbox.all()), default=str),
        "s3:audit keys": json.dumps([key for loan, case in services.audit_store.cases() for key, _ in
                                     services.audit_store.read_case(loan, case)]),
        "lambda:invocation events": json.dumps(rt.dispatcher.calls, default=str),
    }  # fmt: skip
    for name, execution in rt.executor.executions.items():
        places[f"stepfunctions:{name}"] = json.dumps(
            [rt.execution(name), rt.history(name), execution.input, execution.document], default=str
        )
    return places


def _provider_log(rt: Runtime) -> str:
    """What the SMS provider received."""
    if isinstance(rt, MemoryRuntime):
        return json.dumps(rt.services.notifier.sent)  # type: ignore[attr-defined]
    from moto.sns.models import sns_backends

    return json.dumps(list(sns_backends[ACCOUNT][rt.settings.region].sms_messages.values()))


def test_no_plaintext_pii_is_left_outside_the_encrypted_message_records(
    runtime: Runtime, capfd: pytest.CaptureFixture[str], handler_logs: io.StringIO
) -> None:
    rt = runtime
    loans = [
        borrower(loan_id, customer={**person, "timezone": "Asia/Shanghai", "language": "zh-CN",
                                    "monthly_income": "20000.00", "monthly_expenses": "8000.00"},
                 **({"guarantor": {"liability": "joint_several", **GUARANTOR}} if loan_id == "P1" else {}))
        for loan_id, person in PEOPLE.items()
    ]  # fmt: skip
    rt.load_book(loans, date(2026, 6, 16))
    rt.run_day(date(2026, 6, 17))  # both cases open; first reminders by SMS, e-mail and call task
    case_1 = rt.services.cases.open_case_for_loan("P1")
    assert case_1 is not None

    def negotiate() -> None:  # a plan sized to the (sealed) income, proposed and accepted
        status, body = rt.api("POST", f"/cases/{case_1.case_id}/plan-proposals", {}, user="sup", groups=("supervisor",))
        assert status == 200, body
        assert accept_shown(rt, case_1.case_id)[0] == 200

    def pay() -> None:
        status, _ = rt.api(
            "POST",
            "/loans/P2/payments",
            {"date": "2026-06-18", "amount": "2000.00", "reference": "bank-p2"},
            system=True,
        )
        assert status == 200

    rt.run_day(date(2026, 6, 18), [("11:00", negotiate), ("15:00", pay)])
    for offset in range(1, 4):
        rt.run_day(date(2026, 6, 18) + timedelta(days=offset))
    captured = capfd.readouterr()
    places = _everything(rt)
    places["logs:handlers"] = handler_logs.getvalue()
    assert places["logs:handlers"].count("stage done") >= 4  # the logs were captured
    places["logs:stdout"] = captured.out
    places["logs:stderr"] = captured.err
    assert any(place.startswith("stepfunctions:") for place in places)
    found: list[tuple[str, str, str]] = []
    for loan_id, person in {**PEOPLE, "P1 guarantor": GUARANTOR}.items():
        for field_name, value in person.items():
            for place, text in places.items():
                if any(form in text for form in _forms(value)):
                    found.append((loan_id, field_name, place))
    assert found == []
    # the search does find a value where it is: the SMS provider received the customers' real numbers
    provider = _provider_log(rt)
    assert all(any(form in provider for form in _forms(p["phone"])) for p in PEOPLE.values())
    # and the places that must hold them do: the sealed fields on the loan item open to the right values
    contact: dict[str, Any] = rt.services.loans.contact("P2")
    assert (contact["name"], contact["phone"], contact["email"]) == tuple(PEOPLE["P2"].values())
    sealed: dict[str, Any] = rt.services.loans.contact("P1")
    assert (sealed["guarantor_name"], sealed["guarantor_phone"], sealed["guarantor_email"]) == tuple(GUARANTOR.values())


def test_the_files_a_simulation_writes_hold_no_contact_details(tmp_path: Any) -> None:
    """Everything ``dueflow simulate`` leaves in its folder (summary, cases, daily figures, the report,
    the copy of every audit record) but the input book itself carries no customer's phone, e-mail or
    name."""
    from pathlib import Path

    from typer.testing import CliRunner

    from dueflow_local.cli import app

    out = Path(tmp_path) / "sim"
    args = ["simulate", "--generate", "30", "--seed", "5", "--start", "2026-03-01", "--days", "20", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    book = [json.loads(line) for line in (out / "book.jsonl").read_text(encoding="utf-8").splitlines()]
    secrets = set()
    for loan in book:
        customer = loan.get("customer") or {}
        secrets |= {customer[k] for k in ("phone", "email") if customer.get(k)}
        if len(customer.get("name") or "") >= 3:  # shorter names could be any two characters of a text
            secrets.add(customer["name"])
    assert len(secrets) > 40
    written = [p for p in out.rglob("*") if p.is_file() and p.name != "book.jsonl"]
    assert len([p for p in written if "audit" in p.parts]) > 50  # the audit copy is there to be searched
    leaks = [
        (str(path.relative_to(out)), secret)
        for path in written
        for text in [path.read_bytes().decode("utf-8", errors="replace")]  # signatures are binary
        for secret in secrets
        if any(form in text for form in _forms(secret))
    ]
    assert leaks == []
