"""The litigation package a lawyer can file from (the cn pack): the parties with the borrower's identity
sealed and opened for legal alone, the claims itemised (principal accelerated after the recorded
notice), the evidence list naming each notice's provider message id, and the preservation request for an
unsecured debtor with known assets. Amounts are checked against the domain engine reading the book and
the payments; the evidence against the messages the provider accepted."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from dueflow.domain.legal import preservation_fee
from dueflow.domain.position import assess
from dueflow_local.runtime import Runtime
from tests.e2e.conftest import borrower
from tests.e2e.test_paths import audit_ok

CASE = "L1-2026-06-15"
LEGAL = {"user": "law1", "groups": ("legal",)}
AUDITOR = {"user": "aud1", "groups": ("auditor",)}


def test_the_package_has_sealed_parties_itemised_claims_evidence_and_a_preservation_request(runtime: Runtime) -> None:
    rt = runtime
    loan = borrower("L1", principal="300000.00", known_assets="200000.00")
    rt.load_book([loan], date(2026, 6, 16))
    accelerated = {"sent_on": "2026-08-01", "reference": "EMS-1234567890"}
    paid = {"date": "2026-07-10", "amount": "100.00", "reference": "bank-0710"}
    day = date(2026, 6, 17)
    while (opened := rt.services.cases.get(CASE)) is None or opened.status == "OPEN":
        actions = []
        if day == date(2026, 7, 10):
            actions = [("10:00", lambda: rt.api("POST", "/loans/L1/payments", paid, system=True))]
        if day == date(2026, 8, 1):
            actions = [("10:00", lambda: rt.api("POST", f"/cases/{CASE}/acceleration-notice", accelerated, **LEGAL))]
        rt.run_day(day, actions)
        day += timedelta(days=1)
        assert day < date(2026, 11, 30), "the case never reached legal action"
    case = rt.services.cases.require(CASE)
    assert case.outcome == "LITIGATION" and case.closed_on is not None
    audit_ok(rt, CASE)

    # legal's list of cases handed over (the workbench's closed-case queue)
    status, handed = rt.api("GET", "/cases?outcome=LITIGATION", **LEGAL)
    assert status == 200 and [c["case_id"] for c in handed["cases"]] == [CASE]
    assert rt.api("GET", "/cases?outcome=LITIGATION", user="ag1", groups=("agent",))[0] == 403
    status, packages = rt.api("GET", f"/cases/{CASE}/litigation-package", **LEGAL)
    assert status == 200
    (package,) = [p["record"]["body"] for p in packages]
    defendant = package["parties"]["defendant"]
    assert defendant["identity"] == {"name": "王芳", "phone": "+8613800138000", "email": "l1@example.com"}
    assert "identity_sealed" not in defendant
    assert package["parties"]["plaintiff"]["name"] == rt.settings.bank_name
    # what the auditor (and the chain) holds is the seal, never the identity
    status, records = rt.api("GET", f"/cases/{CASE}/audit", **AUDITOR)
    raw = json.dumps([r for r in records if r["record"]["type"] == "litigation_package"], ensure_ascii=False)
    assert "王芳" not in raw and "+8613800138000" not in raw and "l1@example.com" not in raw
    assert '"identity_sealed"' in raw

    # the claims, item by item, from the engine's position on the day of the review
    stored = rt.services.loans.get("L1")
    assert stored is not None
    reviewed_on = date.fromisoformat(package["statement"]["as_of"])
    position = assess(stored, reviewed_on)
    claims = package["claims"]
    by_item = {i["item"].split(" (")[0]: Decimal(i["amount"]) for i in claims["items"]}
    assert by_item == {
        "overdue principal": position.overdue_principal,
        "overdue interest": position.overdue_interest,
        "penalty interest outstanding": position.penalty,
        "principal accelerated": position.outstanding_principal - position.overdue_principal,
    }
    assert sum(by_item.values()) == Decimal(claims["total"]) == Decimal(package["assessment"]["claim"])
    assert package["facts"]["acceleration_notice"]["reference"] == "EMS-1234567890"

    # every notice the provider accepted is in the evidence, with its message id
    accepted = {
        m.provider_id
        for m in (rt.services.outbox.get(i["message_id"]) for i in rt.services.outbox.all())
        if m is not None and m.case_id == CASE and m.status == "SENT" and m.channel in ("sms", "email")
    }
    notices = [e for e in package["evidence"] if e["kind"] == "notice"]
    assert accepted and accepted <= {e["provider_message_id"] for e in notices}
    assert all(e["status"] == "accepted by the provider" for e in notices)
    assert {"payment_received", "acceleration_notice"} <= {e["kind"] for e in package["evidence"]}

    # unsecured with known assets: the preservation request, its amount and fee (诉讼费用交纳办法 第十四条)
    request = package["preservation_request"]
    amount = min(Decimal(claims["total"]), Decimal("200000.00"))
    assert Decimal(request["amount_to_preserve"]) == amount
    assert (
        Decimal(request["fee"]) == preservation_fee(amount) == Decimal("1020.00") + (amount - 100000) * Decimal("0.005")
    )
