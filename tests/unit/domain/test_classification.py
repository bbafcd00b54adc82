"""Buckets and the five-category classification at every boundary."""

import pytest

from dueflow.domain.classification import Classification, bucket, classify


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, "M0"),
        (1, "M1"),
        (30, "M1"),
        (31, "M2"),
        (60, "M2"),
        (61, "M3"),
        (90, "M3"),
        (91, "M4"),
        (120, "M4"),
        (121, "M5"),
        (150, "M5"),
        (151, "M6"),
        (180, "M6"),
        (181, "M7+"),
        (2000, "M7+"),
    ],
)
def test_bucket_boundaries(dpd: int, expected: str) -> None:
    assert bucket(dpd) == expected


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, Classification.NORMAL),
        (1, Classification.SPECIAL_MENTION),
        (90, Classification.SPECIAL_MENTION),
        (91, Classification.SUBSTANDARD),
        (270, Classification.SUBSTANDARD),
        (271, Classification.DOUBTFUL),
        (360, Classification.DOUBTFUL),
        (361, Classification.LOSS),
    ],
)
def test_classification_boundaries(dpd: int, expected: Classification) -> None:
    assert classify(dpd) == expected


def test_negative_dpd_is_an_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        bucket(-1)
    with pytest.raises(ValueError, match="negative"):
        classify(-1)
