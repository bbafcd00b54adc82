"""Legal escalation cost-benefit and the court fee schedule."""

import pytest

from dueflow.domain.legal import LITIGATE, WRITE_OFF_REVIEW, LegalPolicy, assess_litigation, court_fee
from tests.conftest import D


@pytest.mark.parametrize(
    ("claim", "fee"),
    [
        ("0", "50.00"),
        ("10000", "50.00"),  # flat 50 up to 10,000
        ("20000", "300.00"),  # 50 + 10,000 * 2.5%
        ("100000", "2300.00"),
        ("200000", "4300.00"),  # + 100,000 * 2%
        ("500000", "8800.00"),  # + 300,000 * 1.5%
        ("1000000", "13800.00"),  # + 500,000 * 1%
        ("2000000", "22800.00"),  # + 1M * 0.9%
        ("5000000", "46800.00"),  # + 3M * 0.8%
        ("10000000", "81800.00"),  # + 5M * 0.7%
        ("20000000", "141800.00"),  # + 10M * 0.6%
        ("30000000", "191800.00"),  # + 10M * 0.5%
        ("123456.78", "2769.14"),  # 2300 + 23,456.78 * 2% = 2769.1356
    ],
)
def test_court_fee_is_progressive(claim: str, fee: str) -> None:
    assert court_fee(D(claim)) == D(fee)


def test_secured_large_claim_is_worth_litigating() -> None:
    # 200,000 on real estate: 70% = 140,000 expected; cost 4,300 court + 3,000 lawyer
    result = assess_litigation(D("200000.00"), "real_estate")
    assert (result.expected_gross, result.court_fee, result.lawyer_fee) == (D("140000.00"), D("4300.00"), D("3000.00"))
    assert result.expected_net == D("132700.00")
    assert result.recommendation == LITIGATE


def test_small_unsecured_claim_goes_to_write_off_review() -> None:
    # 20,000 unsecured: 15% = 3,000; cost 300 + 3,000 -> net -300
    result = assess_litigation(D("20000.00"), None)
    assert result.collateral_type == "unsecured"
    assert result.expected_net == D("-300.00")
    assert result.recommendation == WRITE_OFF_REVIEW


def test_positive_but_below_minimum_is_not_litigated() -> None:
    # 40,000 unsecured: 6,000 - (800 + 3,000) = 2,200 > 0 but below the 5,000 minimum
    result = assess_litigation(D("40000.00"), "unsecured")
    assert result.expected_net == D("2200.00") and result.recommendation == WRITE_OFF_REVIEW
    lenient = assess_litigation(D("40000.00"), "unsecured", LegalPolicy(min_net_recovery=D("2000")))
    assert lenient.recommendation == LITIGATE


def test_lawyer_fee_can_be_a_share_of_the_claim() -> None:
    result = assess_litigation(
        D("100000.00"), "vehicle", LegalPolicy(lawyer_fee_fixed=D("0"), lawyer_fee_rate=D("0.05"))
    )
    assert result.lawyer_fee == D("5000.00") and result.litigation_cost == D("7300.00")
