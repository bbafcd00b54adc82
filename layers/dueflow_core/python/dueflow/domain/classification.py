"""Delinquency buckets (M0..M7+) and the five-category risk classification floor.

Buckets follow the industry convention by days past due (DPD). The classification is the floor set by
the 2023 PRC 商业银行金融资产风险分类办法 from DPD alone; a bank may classify worse, never better.
"""

from __future__ import annotations

from enum import StrEnum

BUCKETS: tuple[str, ...] = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")


class Classification(StrEnum):
    """Five-category classification (五级分类)."""

    NORMAL = "normal"  # 正常
    SPECIAL_MENTION = "special_mention"  # 关注
    SUBSTANDARD = "substandard"  # 次级
    DOUBTFUL = "doubtful"  # 可疑
    LOSS = "loss"  # 损失


CLASSIFICATIONS: tuple[Classification, ...] = tuple(Classification)


def bucket(dpd: int) -> str:
    """M0 = 0, M1 = 1-30, M2 = 31-60, ... M6 = 151-180, M7+ = over 180 days past due."""
    if dpd < 0:
        raise ValueError(f"days past due cannot be negative: {dpd}")
    if dpd == 0:
        return "M0"
    if dpd > 180:
        return "M7+"
    return BUCKETS[(dpd - 1) // 30 + 1]


def classify(dpd: int) -> Classification:
    """DPD 0 normal, 1-90 special mention, 91-270 substandard, 271-360 doubtful, over 360 loss."""
    if dpd < 0:
        raise ValueError(f"days past due cannot be negative: {dpd}")
    if dpd == 0:
        return Classification.NORMAL
    if dpd <= 90:
        return Classification.SPECIAL_MENTION
    if dpd <= 270:
        return Classification.SUBSTANDARD
    if dpd <= 360:
        return Classification.DOUBTFUL
    return Classification.LOSS
