"""Overdue position: DPD, penalty accrual, payment allocation and early warnings, by hand.

The reference loan: 12,000 at 12% for 12 months from 2026-01-31 (installment 1066.19), penalty
multiplier 1.5, so the daily penalty rate is d = 0.12 * 1.5 / 360 = 0.0005.
"""

from decimal import Decimal

from dueflow.domain.classification import Classification
from dueflow.domain.position import FLAG_AT_RISK, FLAG_DUE_SOON, WarningPolicy, assess
from dueflow.domain.statement import statement_dict
from tests.conftest import D, day, make_loan, pay


def test_nothing_is_overdue_on_the_due_date_itself() -> None:
    position = assess(make_loan(), day("2026-02-28"))
    assert (position.dpd, position.bucket, position.total_overdue, position.lines) == (0, "M0", 0, ())


def test_one_day_late_accrues_one_day_of_penalty() -> None:
    # Given installment 1 (1066.19) unpaid, When assessed the day after its due date
    position = assess(make_loan(), day("2026-03-01"))
    # Then DPD 1, M1, special mention, penalty 1066.19 * 0.0005 = 0.533095 -> 0.53
    assert (position.dpd, position.bucket, position.classification) == (1, "M1", Classification.SPECIAL_MENTION)
    assert position.penalty == D("0.53")
    assert position.total_overdue == D("1066.19") + D("0.53")


def test_two_installments_overdue_after_paying_the_first() -> None:
    # Given the first installment paid on time and nothing after
    loan = make_loan(payments=pay(("2026-02-28", "1066.19")))
    position = assess(loan, day("2026-05-10"))
    # Then installments 2 (due 03-31, 40 days) and 3 (due 04-30, 10 days) are overdue
    assert position.dpd == 40
    assert (position.bucket, position.classification) == ("M2", Classification.SPECIAL_MENTION)
    assert [(line.seq, line.days_overdue) for line in position.lines] == [(2, 40), (3, 10)]
    # 1066.19 * 0.0005 * 40 = 21.3238 -> 21.32; * 10 = 5.33095 -> 5.33
    assert [line.penalty_outstanding for line in position.lines] == [D("21.32"), D("5.33")]
    assert position.overdue_principal == D("955.65") + D("965.21")
    assert position.overdue_interest == D("110.54") + D("100.98")
    assert position.penalty == D("26.65")
    assert position.outstanding_principal == D("12000.00") - D("946.19")
    assert position.next_due_date == day("2026-05-31")


def test_partial_payment_goes_to_penalty_then_interest_then_principal() -> None:
    # Given installment 1 unpaid for 10 days (penalty 5.33095 through 03-10), When 100.00 is paid on 03-11
    loan = make_loan(payments=pay(("2026-03-11", "100.00")))
    position = assess(loan, day("2026-03-11"))
    (line,) = position.lines
    # penalty accrued through 03-10 (10 days): 5.33095 -> 5.33 paid first; 94.67 to interest (120.00)
    assert line.penalty_paid == D("5.33")
    assert line.interest_paid == D("94.67")
    assert line.principal_paid == D("0.00")
    # day 11 accrues on the end-of-day unpaid amount: 1066.19 - 94.67 = 971.52 -> 0.48576
    # total accrued 5.33095 + 0.48576 = 5.81671 -> 5.82, of which 5.33 paid
    assert line.penalty_accrued == D("5.82")
    assert line.penalty_outstanding == D("0.49")
    assert position.total_overdue == D("971.52") + D("0.49")
    assert position.paid_total == D("100.00")


def test_a_payment_never_changes_earlier_days_accrual() -> None:
    base = assess(make_loan(), day("2026-03-20"))
    paid_late = assess(make_loan(payments=pay(("2026-03-21", "2000.00"))), day("2026-03-20"))
    assert base == paid_late  # a payment after the as-of date is invisible


def test_full_payment_with_penalty_cures_and_prepays() -> None:
    # 20 days late: penalty through 03-19 = 1066.19 * 0.0005 * 19 = 10.128805 -> 10.13
    loan = make_loan(payments=pay(("2026-03-20", "1100.00")))
    position = assess(loan, day("2026-03-20"))
    assert position.dpd == 0
    assert position.lines == ()
    assert position.penalty == 0
    # 1100 - 10.13 - 1066.19 = 23.68 prepays installment 2 (interest first)
    assert position.next_due_date == day("2026-03-31")
    assert position.next_due_amount == D("1066.19") - D("23.68")


def test_overpayment_of_the_whole_loan_is_kept_as_credit() -> None:
    loan = make_loan(principal="1000.00", annual_rate="0", term_months=2, payments=pay(("2026-02-01", "1200.00")))
    position = assess(loan, day("2026-06-01"))
    assert position.unapplied_credit == D("200.00")
    assert position.outstanding_principal == 0
    assert position.dpd == 0


def test_paying_on_time_every_month_stays_current() -> None:
    dates = ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]
    loan = make_loan(payments=pay(*[(d, "1066.19") for d in dates]))
    position = assess(loan, day("2026-06-15"))
    assert (position.dpd, position.flags, position.total_overdue) == (0, (), 0)


def test_zero_rate_loan_accrues_no_penalty() -> None:
    position = assess(make_loan(annual_rate="0"), day("2026-06-01"))
    assert position.dpd == 93 and position.penalty == 0


def test_due_soon_looks_ahead_n_days_including_today() -> None:
    loan = make_loan()
    assert FLAG_DUE_SOON in assess(loan, day("2026-02-25")).flags  # due 02-28, 3 days ahead
    assert FLAG_DUE_SOON in assess(loan, day("2026-02-28")).flags  # due today
    assert FLAG_DUE_SOON not in assess(loan, day("2026-02-24")).flags  # 4 days ahead
    assert FLAG_DUE_SOON in assess(loan, day("2026-02-24"), WarningPolicy(due_soon_days=4)).flags
    # an overdue loan is not "due soon": it is overdue
    assert FLAG_DUE_SOON not in assess(loan, day("2026-03-29")).flags


def test_at_risk_after_two_late_installments() -> None:
    # installment 1 paid 5 days late, installment 2 paid 3 days late (with a margin for penalty)
    one_late = make_loan(payments=pay(("2026-03-05", "1070.00")))
    assert FLAG_AT_RISK not in assess(one_late, day("2026-03-20")).flags
    two_late = make_loan(payments=pay(("2026-03-05", "1070.00"), ("2026-04-03", "1070.00")))
    position = assess(two_late, day("2026-04-10"))
    assert position.dpd == 0
    assert FLAG_AT_RISK in position.flags


def test_at_risk_when_the_last_payment_was_partial() -> None:
    loan = make_loan(payments=pay(("2026-02-28", "500.00")))
    assert FLAG_AT_RISK in assess(loan, day("2026-02-28")).flags


def test_statement_json_has_the_documented_shape() -> None:
    loan = make_loan(payments=pay(("2026-02-28", "1066.19")))
    data = statement_dict(assess(loan, day("2026-05-10")))
    for key in (
        "loan_id",
        "as_of",
        "dpd",
        "bucket",
        "classification",
        "overdue_principal",
        "overdue_interest",
        "penalty",
        "total_overdue",
        "outstanding_principal",
        "flags",
        "installments",
    ):
        assert key in data
    assert data["bucket"] == "M2"
    assert data["classification"] == "special_mention"
    assert data["penalty"] == "26.65"
    assert data["total_overdue"] == "2159.03"
    assert data["installments"][0]["penalty_outstanding"] == "21.32"
    assert data["flags"] == ["at_risk"]
    for key in ("overdue_principal", "overdue_interest", "penalty", "total_overdue", "outstanding_principal"):
        assert Decimal(data[key]).as_tuple().exponent == -2


def test_penalty_multiplier_scales_the_daily_rate() -> None:
    # multiplier 1.0: d = 0.12 / 360; 1066.19 * 30 / 3000 = 10.6619 -> 10.66
    position = assess(make_loan(penalty_rate_multiplier="1.0"), day("2026-03-30"))
    assert position.penalty == D("10.66")


def test_payments_listed_out_of_order_are_applied_in_date_order() -> None:
    ordered = make_loan(payments=pay(("2026-02-28", "1066.19"), ("2026-04-05", "1070.00")))
    shuffled = make_loan(payments=pay(("2026-04-05", "1070.00"), ("2026-02-28", "1066.19")))
    assert [p.date for p in shuffled.payments] == [day("2026-02-28"), day("2026-04-05")]
    assert assess(shuffled, day("2026-05-10")) == assess(ordered, day("2026-05-10"))
