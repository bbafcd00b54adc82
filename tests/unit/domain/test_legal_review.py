"""The legal review under the cn pack, on the worked examples of docs/formulas.md §8 (to the cent)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dueflow.domain.legal import LegalFacts, limitation, preservation_fee, review_litigation
from dueflow.domain.rules import load_pack

D = Decimal
RULE = load_pack("cn").legal


def facts(**values: object) -> LegalFacts:
    base: dict[str, object] = {
        "overdue_principal": D("0"),
        "overdue_interest": D("0"),
        "penalty": D("0"),
        "principal_not_due": D("0"),
        "accelerated": False,
        "collateral_type": None,
        "collateral_value": D("0"),
        "known_assets": D("0"),
    }
    return LegalFacts(**(base | values))  # type: ignore[arg-type]


def test_a_car_worth_8000_recovers_what_the_car_fetches_not_half_the_claim() -> None:
    """诉讼费用交纳办法 第十三条 and 第十六条 (simple procedure: the acceptance fee halved)."""
    review = review_litigation(
        facts(overdue_principal=D("50000.00"), overdue_interest=D("3901.72"), penalty=D("2000.00"),
              collateral_type="vehicle", collateral_value=D("8000.00")), RULE)  # fmt: skip
    assert review.claim == D("55901.72")
    assert (review.recoverable, review.expected_gross) == (D("4560.00"), D("4560.00"))  # 8,000 x 0.6 - 240
    assert (review.acceptance_fee, review.present_value) == (D("598.77"), D("4342.86"))
    assert (review.expected_net, review.recommendation) == (D("744.09"), "write_off_review")
    assert not review.preservation_requested


def test_a_mortgage_claims_the_principal_not_yet_due_only_after_an_acceleration_notice() -> None:
    """Acceleration (加速到期) only after the bank's recorded notice: without it the claim is what is overdue."""
    base = {"overdue_principal": D("180000.00"), "overdue_interest": D("15000.00"), "penalty": D("5000.00"),
            "principal_not_due": D("800000.00"), "collateral_type": "real_estate",
            "collateral_value": D("1000000.00")}  # fmt: skip
    plain = review_litigation(facts(**base), RULE)
    assert (plain.claim, plain.acceptance_fee, plain.fees_recovered) == (D("200000.00"), D("2150.00"), D("2150.00"))
    assert (plain.present_value, plain.expected_net, plain.recommendation) == (
        D("192523.81"),
        D("187373.81"),
        "litigate",
    )
    accelerated = review_litigation(facts(**base, accelerated=True), RULE)
    assert (accelerated.claim, accelerated.acceptance_fee) == (D("1000000.00"), D("6900.00"))
    assert (accelerated.expected_gross, accelerated.present_value) == (D("665000.00"), D("633333.33"))


def test_an_unsecured_debtor_with_known_assets_gets_a_preservation_request_and_its_fee() -> None:
    """诉讼费用交纳办法 第十四条: preservation of 50,000: 30 + 49,000 x 1% = 520."""
    review = review_litigation(
        facts(overdue_principal=D("70000.00"), overdue_interest=D("7000.00"), penalty=D("3000.00"),
              known_assets=D("50000.00")), RULE)  # fmt: skip
    assert review.preservation_requested and review.preservation_fee == D("520.00")
    assert (review.recoverable, review.acceptance_fee, review.months_to_recovery) == (D("23750.00"), D("900.00"), 18)
    assert (review.present_value, review.expected_net, review.recommendation) == (
        D("22073.93"),
        D("17653.93"),
        "litigate",
    )
    nothing = review_litigation(facts(overdue_principal=D("70000.00")), RULE)  # no assets known: nothing to win
    assert not nothing.preservation_requested and nothing.recommendation == "write_off_review"


@pytest.mark.parametrize(
    ("amount", "fee"),
    [("800", "30.00"), ("1000", "30.00"), ("50000", "520.00"), ("100000", "1020.00"), ("500000", "3020.00"),
     ("2000000", "5000.00")],
)  # fmt: skip
def test_preservation_fee_bands_of_article_14_capped_at_5000(amount: str, fee: str) -> None:
    """诉讼费用交纳办法 第十四条: 30 yuan up to 1,000; 1% to 100,000; 0.5% above; at most 5,000."""
    assert preservation_fee(D(amount)) == D(fee)


def test_the_limitation_period_runs_three_years_from_the_last_interruption() -> None:
    """民法典 第一百八十八条 (three years), 第一百九十五条 (a demand or an acknowledgement interrupts it)."""
    first_due = date(2024, 3, 15)
    quiet = limitation(first_due, [], 3, date(2026, 11, 1))
    assert (quiet.expires_on, quiet.days_left, quiet.nearing) == (date(2027, 3, 15), 134, True)
    paid = limitation(first_due, [date(2025, 6, 1), date(2030, 1, 1)], 3, date(2026, 11, 1))  # a later date ignored
    assert (paid.last_interruption, paid.expires_on, paid.nearing) == (date(2025, 6, 1), date(2028, 6, 1), False)
    leap = limitation(date(2024, 2, 29), [], 3, date(2024, 3, 1))
    assert leap.expires_on == date(2027, 2, 28)


def test_civil_code_art_189_an_installment_debt_runs_from_the_last_installment_acceleration_brings_it_forward() -> None:
    """民法典 第一百八十九条 (cn): the period of a debt paid by installments runs from the last installment's
    due date; an acceleration notice makes everything due on it. The us pack counts from the oldest unpaid
    installment (CPLR 214-i, from the default)."""
    from dueflow.domain.legal import limitation_start
    from dueflow.domain.rules import load_pack

    cn, us = load_pack("cn").limitation, load_pack("us").limitation
    dues = [date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 15)]
    assert limitation_start(cn, dues, date(2026, 1, 15), None) == date(2026, 3, 15)
    assert limitation_start(cn, dues, date(2026, 1, 15), date(2026, 2, 20)) == date(2026, 2, 20)
    assert limitation_start(us, dues, date(2026, 1, 15), None) == date(2026, 1, 15)
    assert "第一百八十九条" in cn.source


def test_ny_gol_17_101_nothing_interrupts_the_us_period_cn_counts_demands_and_acknowledgements() -> None:
    """New York GOL 17-101 (as amended by the Consumer Credit Fairness Act): a payment or an affirmation
    does not revive or extend the period; 民法典 第一百九十五条: a demand or an acknowledgement does (cn)."""
    from dueflow.domain.rules import load_pack

    assert load_pack("us").limitation.interrupted_by == ()
    assert set(load_pack("cn").limitation.interrupted_by) == {"demand", "acknowledgement"}
    assert "17-101" in load_pack("us").limitation.source
    expired = limitation(date(2023, 3, 15), [], 3, date(2026, 3, 16))
    assert expired.expired and expired.days_left == -1
