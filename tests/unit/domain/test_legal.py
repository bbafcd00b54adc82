"""The court fee schedule (诉讼费用交纳办法 Art. 13); the review that uses it is in test_legal_review.py."""

import pytest

from dueflow.domain.legal import court_fee
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
