"""When the scan opens a case for an overdue loan whose earlier case was handed to legal or write-off."""

from __future__ import annotations

from datetime import date

from dueflow.domain.case import Case
from dueflow.domain.loan import Loan, Payment
from dueflow.domain.position import assess
from dueflow.services.scan import starts_an_episode, up_to_date_since
from tests.e2e.conftest import borrower

LOAN = borrower("L1")  # installments of 1066.19 due on the 15th from 2026-06-15
CUSTOMER = {"phone": "+8613800138000", "email": "l1@example.com", "monthly_income": "20000.00"}
HANDED = Case(case_id="L1-2026-06-15", loan_id="L1", status="CLOSED", outcome="LITIGATION", closed_on="2026-07-10")


def paid(*payments: tuple[str, str]) -> Loan:
    return LOAN.model_copy(update={"payments": tuple(Payment(date=d, amount=a) for d, a in payments)})


def test_no_case_while_one_is_open_and_a_new_one_after_a_cure() -> None:
    overdue = assess(LOAN, date(2026, 7, 20))
    assert starts_an_episode(None, LOAN, overdue)
    assert not starts_an_episode(Case(case_id="c", loan_id="L1"), LOAN, overdue)
    cured = Case(case_id="c", loan_id="L1", status="CLOSED", outcome="CURED", closed_on="2026-07-10")
    assert starts_an_episode(cured, LOAN, overdue)


def test_the_arrears_handed_to_legal_do_not_reopen_until_the_loan_was_up_to_date() -> None:
    # a payment that clears the June installment but not July's: the same arrears, no new case
    partial = paid(("2026-07-17", "1100.00"))
    position = assess(partial, date(2026, 7, 20))
    assert position.dpd == 5 and not up_to_date_since(partial, date(2026, 7, 10), date(2026, 7, 20))
    assert not starts_an_episode(HANDED, partial, position)
    # paid up on 07-12 (before July's installment fell due), overdue again from 07-16: a new episode
    cured = paid(("2026-07-12", "1100.00"))
    position = assess(cured, date(2026, 7, 20))
    assert position.dpd == 5 and up_to_date_since(cured, date(2026, 7, 10), date(2026, 7, 20))
    assert starts_an_episode(HANDED, cured, position)


def test_a_payment_on_the_day_of_the_hand_over_counts_as_after_it() -> None:
    """The case closes at the 02:00 scan; a payment later that day that brings the loan up to date ends
    the episode, so the next delinquency gets a new case (seen: no case for a loan overdue again)."""
    same_day = paid(("2026-07-10", "1100.00"))  # HANDED closed on 07-10
    position = assess(same_day, date(2026, 7, 20))
    assert position.dpd == 5
    assert starts_an_episode(HANDED, same_day, position)


def test_a_later_delinquency_from_the_same_installment_gets_its_own_episode_id() -> None:
    """A case that closed while the loan's oldest unpaid installment stayed the same (the first round's
    SETTLED-while-overdue) must not hide the loan: the next scan opens episode 2 under its own id, with
    its own execution and audit chain."""
    from datetime import UTC, datetime

    from dueflow.domain.case import loan_of_case
    from dueflow.settings import Settings
    from dueflow_local.runtime import open_runtime

    with open_runtime("memory", Settings(environment="ep", index_shards=2), datetime(2026, 6, 16, tzinfo=UTC)) as rt:
        # an id Step Functions would refuse as an execution name
        rt.load_book([borrower("L:1 a", customer_id="C1", customer=CUSTOMER)], date(2026, 6, 16))
        first = "L:1 a-2026-06-15"
        rt.services.cases.create(
            Case(case_id=first, loan_id="L:1 a", status="CLOSED", outcome="SETTLED", opened_on="2026-06-16")
        )
        rt.services.cases.update(first, {"closed_on": "2026-06-16"})
        rt.run_day(date(2026, 6, 17))
        latest = rt.services.cases.latest_case_for_loan("L:1 a")
        assert latest is not None and latest.case_id == "L:1 a-2026-06-15-e2" and latest.episode == 2
        assert latest.is_open and rt.execution(latest.case_id)["status"] == "RUNNING"
        assert loan_of_case(latest.case_id) == loan_of_case(first) == "L:1 a"
        records = rt.services.audit_store.read_case("L:1 a", latest.case_id)
        assert records and all(latest.case_id in key for key, _ in records)
        rt.run_day(date(2026, 6, 18))  # the next scan finds it open: no third case
        assert len([c for c in rt.services.cases.all() if c.loan_id == "L:1 a"]) == 2
