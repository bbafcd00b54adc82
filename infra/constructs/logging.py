"""Log retention from settings."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from dueflow.settings import Settings

_RETENTION = {
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention(settings: Settings) -> logs.RetentionDays:
    """The log retention the settings ask for."""
    return _RETENTION[settings.log_retention_days]
